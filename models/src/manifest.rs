//! `manifest.toml` beside the ONNX files: the contract between the Python that
//! trains a model and the Rust that runs it (see `models/README.md`).
//!
//! The Rust side never hard-codes shapes, alphabets or class names: it reads them
//! here, once, and turns them into typed values (colours and layouts become
//! enums, so an unknown class name fails at load, not at the first frame).
//! Keys this crate does not use (sha256, metrics, training notes) are ignored on
//! purpose: the manifest is shared with the training side, which records more
//! than the runtime needs.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Colour of a plate's background (GA 36).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlateColor {
    /// Small vehicles.
    Blue,
    /// Large vehicles (trucks, buses), learners, trailers.
    Yellow,
    /// New-energy vehicles (gradient or yellow-green) and farm vehicles.
    Green,
    /// Police and military.
    White,
    /// Hong Kong / Macau, embassies, consulates, old foreign-invested.
    Black,
}

impl PlateColor {
    /// Every colour, in declaration order.
    pub const ALL: [PlateColor; 5] = [
        PlateColor::Blue,
        PlateColor::Yellow,
        PlateColor::Green,
        PlateColor::White,
        PlateColor::Black,
    ];

    /// The lowercase name used in the manifest, CSVs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PlateColor::Blue => "blue",
            PlateColor::Yellow => "yellow",
            PlateColor::Green => "green",
            PlateColor::White => "white",
            PlateColor::Black => "black",
        }
    }
}

/// Whether the characters of a plate stand on one row or two (yellow truck rears,
/// trailers, farm vehicles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlateLayout {
    /// One row of characters.
    Single,
    /// Two rows: a short top row (province, authority) over a long bottom row.
    Double,
}

impl PlateLayout {
    /// Both layouts, in declaration order.
    pub const ALL: [PlateLayout; 2] = [PlateLayout::Single, PlateLayout::Double];

    /// The lowercase name used in the manifest, CSVs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PlateLayout::Single => "single",
            PlateLayout::Double => "double",
        }
    }
}

/// Error of the `FromStr` impls of [`PlateColor`] and [`PlateLayout`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?} (expected one of {expected})")]
pub struct UnknownName {
    what: &'static str,
    value: String,
    expected: &'static str,
}

impl fmt::Display for PlateColor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for PlateLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PlateColor {
    type Err = UnknownName;
    /// Case-insensitive, surrounding whitespace ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        PlateColor::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownName {
                what: "plate colour",
                value: s.to_owned(),
                expected: "blue, yellow, green, white, black",
            })
    }
}

impl FromStr for PlateLayout {
    type Err = UnknownName;
    /// Case-insensitive, surrounding whitespace ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        PlateLayout::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownName {
                what: "plate layout",
                value: s.to_owned(),
                expected: "single, double",
            })
    }
}

/// Where the two rows of a double-row plate lie in its crop, and how the second
/// pass lays them side by side (the contract's row join, see
/// [`crate::preprocess::join_rows`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoubleRow {
    /// The top band is the crop's rows `0 .. top * height`.
    pub top: f32,
    /// The bottom band is the crop's rows `bottom * height .. height` (the two
    /// bands may overlap: `bottom < top`).
    pub bottom: f32,
    /// Share of the model's input width given to the top band; the bottom band
    /// gets the rest.
    pub top_width: f32,
}

/// Everything the plate reader needs to know about its network
/// (`[plate_reader]` in `manifest.toml`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlateReaderSpec {
    /// Model input height in pixels (`input[0]`).
    pub height: u32,
    /// Model input width in pixels (`input[1]`).
    pub width: u32,
    /// CTC classes after the blank: class `i + 1` is `alphabet[i]`.
    pub alphabet: Vec<String>,
    /// The `color` head's classes, in logit order.
    pub colors: Vec<PlateColor>,
    /// The `layout` head's classes, in logit order.
    pub layouts: Vec<PlateLayout>,
    /// Geometry of the double-row second pass.
    pub double_row: DoubleRow,
}

/// The `[plate_reader]` table as written; checked and turned into
/// [`PlateReaderSpec`] by [`PlateReaderSpec::from_toml`].
#[derive(Debug, Deserialize)]
struct RawPlateReader {
    input: Vec<u32>,
    alphabet: RawAlphabet,
    colors: Vec<PlateColor>,
    layouts: Vec<PlateLayout>,
    double_row: DoubleRow,
}

/// The alphabet may be written as one string of single characters or as a list
/// (a list allows multi-character classes).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawAlphabet {
    Chars(String),
    List(Vec<String>),
}

/// A manifest that cannot be read or breaks the contract.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file is missing or unreadable.
    #[error("cannot read manifest {path}: {source}")]
    Read {
        /// The manifest's path.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML, or a key is missing or of the wrong type.
    #[error("manifest {path} does not parse: {source}")]
    Parse {
        /// The manifest's path (empty for an in-memory string).
        path: PathBuf,
        /// What the TOML parser said.
        #[source]
        source: toml::de::Error,
    },
    /// The values parse but make no sense (empty alphabet, fractions out of range...).
    #[error("manifest {path} is invalid: {reason}")]
    Invalid {
        /// The manifest's path (empty for an in-memory string).
        path: PathBuf,
        /// Which rule was broken.
        reason: String,
    },
}

/// The text of the manifest at `path`.
pub(crate) fn read_manifest(path: &Path) -> Result<String, ManifestError> {
    std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
        path: path.to_owned(),
        source,
    })
}

impl PlateReaderSpec {
    /// Reads the `[plate_reader]` table of the `manifest.toml` at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ManifestError> {
        let path = path.as_ref();
        Self::from_toml(&read_manifest(path)?).map_err(|e| e.with_path(path))
    }

    /// Parses the `[plate_reader]` table of a manifest held in memory. A manifest
    /// with no `[plate_reader]` table is read from its top level.
    pub fn from_toml(text: &str) -> Result<Self, ManifestError> {
        let parse = |source| ManifestError::Parse {
            path: PathBuf::new(),
            source,
        };
        let mut root: toml::Table = toml::from_str(text).map_err(parse)?;
        let raw: RawPlateReader = match root.remove("plate_reader") {
            Some(table) => table.try_into().map_err(parse)?,
            None => toml::Value::Table(root).try_into().map_err(parse)?,
        };
        raw.check()
    }
}

impl RawPlateReader {
    fn check(self) -> Result<PlateReaderSpec, ManifestError> {
        let invalid = |reason: String| ManifestError::Invalid {
            path: PathBuf::new(),
            reason,
        };
        let [height, width] = self.input[..] else {
            return Err(invalid(format!(
                "input must be [H, W], got {:?}",
                self.input
            )));
        };
        if height == 0 || width < 2 {
            return Err(invalid(format!("input [{height}, {width}] is too small")));
        }
        let alphabet: Vec<String> = match self.alphabet {
            RawAlphabet::Chars(s) => s.chars().map(String::from).collect(),
            RawAlphabet::List(v) => v,
        };
        if alphabet.is_empty() || alphabet.iter().any(String::is_empty) {
            return Err(invalid("alphabet is empty or has an empty class".into()));
        }
        if self.colors.is_empty() {
            return Err(invalid("colors is empty".into()));
        }
        let mut layouts = self.layouts.clone();
        layouts.sort_by_key(|l| *l as u8);
        layouts.dedup();
        if layouts.len() != 2 || self.layouts.len() != 2 {
            return Err(invalid(format!(
                "layouts must name single and double once each, got {:?}",
                self.layouts
            )));
        }
        let DoubleRow {
            top,
            bottom,
            top_width,
        } = self.double_row;
        let ok = top > 0.0 && top <= 1.0 && (0.0..1.0).contains(&bottom);
        if !(ok && top_width > 0.0 && top_width < 1.0) {
            return Err(invalid(format!(
                "double_row fractions out of range (top in (0, 1], bottom in [0, 1), \
                 top_width in (0, 1)): {:?}",
                self.double_row
            )));
        }
        Ok(PlateReaderSpec {
            height,
            width,
            alphabet,
            colors: self.colors,
            layouts: self.layouts,
            double_row: self.double_row,
        })
    }
}

impl ManifestError {
    /// The same error, naming the manifest at `p`.
    pub(crate) fn with_path(self, p: &Path) -> Self {
        match self {
            ManifestError::Parse { source, .. } => ManifestError::Parse {
                path: p.to_owned(),
                source,
            },
            ManifestError::Invalid { reason, .. } => ManifestError::Invalid {
                path: p.to_owned(),
                reason,
            },
            read @ ManifestError::Read { .. } => read,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
        # a shared manifest: other models' tables and extra keys are ignored
        [plate_reader]
        file = "plate_reader.onnx"
        sha256 = "00"
        input = [48, 168]
        alphabet = "京A0挂"
        colors = ["blue", "yellow", "green", "white", "black"]
        layouts = ["single", "double"]
        [plate_reader.double_row]
        top = 0.4
        bottom = 0.3
        top_width = 0.3
        [plate_reader.metrics]
        exact = 0.9
        [plate_detector]
        input = [640, 640]
    "#;

    #[test]
    fn parses_the_plate_reader_table() {
        let spec = PlateReaderSpec::from_toml(MANIFEST).unwrap();
        assert_eq!((spec.height, spec.width), (48, 168));
        assert_eq!(spec.alphabet, ["京", "A", "0", "挂"]);
        assert_eq!(spec.colors[1], PlateColor::Yellow);
        assert_eq!(spec.layouts, [PlateLayout::Single, PlateLayout::Double]);
        assert_eq!(
            spec.double_row,
            DoubleRow {
                top: 0.4,
                bottom: 0.3,
                top_width: 0.3
            }
        );
    }

    #[test]
    fn alphabet_may_be_a_list_and_the_table_the_root() {
        let text = r#"
            input = [24, 94]
            alphabet = ["京", "民航"]
            colors = ["green"]
            layouts = ["double", "single"]
            double_row = { top = 0.5, bottom = 0.5, top_width = 0.25 }
        "#;
        let spec = PlateReaderSpec::from_toml(text).unwrap();
        assert_eq!(spec.alphabet, ["京", "民航"]);
        assert_eq!(spec.layouts, [PlateLayout::Double, PlateLayout::Single]);
    }

    #[test]
    fn contract_breaks_are_clear_errors() {
        let bad = [
            (MANIFEST.replace("\"yellow\"", "\"purple\""), "purple"),
            (MANIFEST.replace("[48, 168]", "[3, 48, 168]"), "[H, W]"),
            (MANIFEST.replace("\"京A0挂\"", "\"\""), "alphabet"),
            (
                MANIFEST.replace("top_width = 0.3", "top_width = 1.5"),
                "out of range",
            ),
            (
                MANIFEST.replace("[\"single\", \"double\"]", "[\"single\"]"),
                "layouts",
            ),
            (MANIFEST.replace("input = [48, 168]", ""), "input"),
            ("not toml [".to_owned(), "parse"),
        ];
        for (text, needle) in bad {
            let err = PlateReaderSpec::from_toml(&text).unwrap_err().to_string();
            assert!(err.contains(needle), "{err:?} should mention {needle:?}");
        }
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = PlateReaderSpec::load("/nonexistent/manifest.toml").unwrap_err();
        assert!(matches!(err, ManifestError::Read { .. }));
        assert!(err.to_string().contains("/nonexistent/manifest.toml"));
    }

    #[test]
    fn names_round_trip() {
        for c in PlateColor::ALL {
            assert_eq!(c.to_string().parse::<PlateColor>().unwrap(), c);
        }
        for l in PlateLayout::ALL {
            assert_eq!(l.to_string().parse::<PlateLayout>().unwrap(), l);
        }
        assert_eq!(
            " Yellow ".parse::<PlateColor>().unwrap(),
            PlateColor::Yellow
        );
        assert!("purple".parse::<PlateColor>().is_err());
    }
}
