//! [`CargoClassifier`]: a load crop in, cover state and material out.
//!
//! The contract is "The cargo classifier contract" in `models/README.md`: the
//! detector's `load` box is cut from the full-resolution frame (rounded,
//! clamped, no margin: [`crate::plate_detector::crop_box`]), resized to the
//! input with a plain triangle filter (no letterbox), and the two heads' logits
//! become a class and a softmax confidence each. Class names come from the
//! manifest and become enums at load, so an unknown name fails at start-up.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ctc;
use crate::manifest::ManifestError;
use crate::plate_detector::{crop_box, read_table, table_from_toml, BBox};
use crate::preprocess::{self, Crop};
use crate::runtime::{self, inference, Network};
use crate::Error;

/// The network's output names, in the order the plan returns them.
const OUTPUTS: [&str; 2] = ["cover", "material"];

/// How the load is covered (the hub's wire names: `"cover": "open"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cover {
    /// Nothing on the bed.
    Empty,
    /// Load visible, uncovered.
    Open,
    /// Tarp over part of the load.
    Partial,
    /// Load fully under a tarp.
    Tarped,
    /// Box van roof or tanker: the load cannot show.
    Enclosed,
}

/// What the visible load is (the hub's wire names: `"material": "coal"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Material {
    /// Loose coal.
    Coal,
    /// Coal briquettes.
    Briquette,
    /// Sand, gravel, earth, stone.
    OtherBulk,
    /// The load does not show (empty, tarped, enclosed).
    None,
}

impl Cover {
    /// Every cover state, in declaration order.
    pub const ALL: [Cover; 5] = [
        Cover::Empty,
        Cover::Open,
        Cover::Partial,
        Cover::Tarped,
        Cover::Enclosed,
    ];

    /// The snake_case name of the manifest, CSVs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Cover::Empty => "empty",
            Cover::Open => "open",
            Cover::Partial => "partial",
            Cover::Tarped => "tarped",
            Cover::Enclosed => "enclosed",
        }
    }

    /// A checkpoint label (`covered`, `partially_covered`, `uncovered`, `empty`)
    /// as the contract maps it; `None` for anything else.
    pub fn from_checkpoint_label(label: &str) -> Option<Cover> {
        match label.trim() {
            "covered" => Some(Cover::Tarped),
            "partially_covered" => Some(Cover::Partial),
            "uncovered" => Some(Cover::Open),
            "empty" => Some(Cover::Empty),
            _ => None,
        }
    }
}

impl Material {
    /// Every material, in declaration order.
    pub const ALL: [Material; 4] = [
        Material::Coal,
        Material::Briquette,
        Material::OtherBulk,
        Material::None,
    ];

    /// The snake_case name of the manifest, CSVs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Material::Coal => "coal",
            Material::Briquette => "briquette",
            Material::OtherBulk => "other_bulk",
            Material::None => "none",
        }
    }
}

impl fmt::Display for Cover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Material {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the classifier made of one load crop.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CargoRead {
    /// Cover state.
    pub cover: Cover,
    /// Material.
    pub material: Material,
    /// Softmax probability of `cover`.
    pub cover_confidence: f32,
    /// Softmax probability of `material`.
    pub material_confidence: f32,
}

/// Everything the classifier needs to know about its network
/// (`[cargo_classifier]` in `manifest.toml`).
#[derive(Debug, Clone, PartialEq)]
pub struct CargoClassifierSpec {
    /// Input height.
    pub height: u32,
    /// Input width.
    pub width: u32,
    /// The `cover` head's classes, in logit order.
    pub covers: Vec<Cover>,
    /// The `material` head's classes, in logit order.
    pub materials: Vec<Material>,
}

/// The `[cargo_classifier]` table as written (extra keys ignored).
#[derive(Debug, Deserialize)]
struct RawSpec {
    input: Vec<u32>,
    covers: Vec<Cover>,
    materials: Vec<Material>,
}

impl RawSpec {
    fn check(self) -> Result<CargoClassifierSpec, String> {
        let [height, width] = self.input[..] else {
            return Err(format!(
                "cargo_classifier.input must be [H, W], got {:?}",
                self.input
            ));
        };
        if height == 0 || width == 0 || self.covers.is_empty() || self.materials.is_empty() {
            return Err("cargo_classifier: empty input size, covers or materials".into());
        }
        Ok(CargoClassifierSpec {
            height,
            width,
            covers: self.covers,
            materials: self.materials,
        })
    }
}

impl CargoClassifierSpec {
    /// Reads the `[cargo_classifier]` table of the `manifest.toml` at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ManifestError> {
        let path = path.as_ref();
        read_table::<RawSpec>(path, "cargo_classifier")?
            .check()
            .map_err(|reason| ManifestError::Invalid {
                path: path.to_owned(),
                reason,
            })
    }

    /// Parses the `[cargo_classifier]` table of a manifest held in memory.
    pub fn from_toml(text: &str) -> Result<Self, ManifestError> {
        table_from_toml::<RawSpec>(text, "cargo_classifier")?
            .check()
            .map_err(|reason| ManifestError::Invalid {
                path: PathBuf::new(),
                reason,
            })
    }
}

/// The cargo classifier, loaded once and ready to run.
///
/// `Send + Sync`; concurrent calls wait for each other: give each worker its own
/// with [`CargoClassifier::try_clone`].
#[derive(Debug)]
pub struct CargoClassifier {
    spec: CargoClassifierSpec,
    net: Network<()>,
}

impl CargoClassifier {
    /// Loads the classifier ONNX at `path` and the `[cargo_classifier]` table of
    /// the `manifest.toml` beside it; pins, optimises, plans and checks it.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let onnx = runtime::read_model(path)?;
        let spec = CargoClassifierSpec::load(path.with_file_name("manifest.toml"))?;
        Self::from_onnx(&onnx, spec, path)
    }

    /// Builds a classifier from ONNX bytes and a spec in hand; `path` only names
    /// the model in errors. The heads must be `[1, covers]` and `[1, materials]`.
    pub fn from_onnx(onnx: &[u8], spec: CargoClassifierSpec, path: &Path) -> Result<Self, Error> {
        let expected = [vec![1, spec.covers.len()], vec![1, spec.materials.len()]];
        let size = (spec.height as usize, spec.width as usize);
        let net = Network::load(onnx, &OUTPUTS, size, &expected, path)?;
        Ok(CargoClassifier { spec, net })
    }

    /// Another classifier over the same loaded network, with its own run state.
    pub fn try_clone(&self) -> Result<Self, Error> {
        Ok(CargoClassifier {
            spec: self.spec.clone(),
            net: self.net.try_clone()?,
        })
    }

    /// What the manifest said about the network.
    pub fn spec(&self) -> &CargoClassifierSpec {
        &self.spec
    }

    /// Classifies one load crop of any size and pixel format (an image with no
    /// pixels is [`Error::EmptyImage`]).
    pub fn classify<C: Crop + ?Sized>(&self, crop: &C) -> Result<CargoRead, Error> {
        let (h, w) = (self.spec.height, self.spec.width);
        let rgb = preprocess::input_rgb(crop.crop_ref(), w, h)?;
        let ((), out) = self
            .net
            .lock()
            .run(|dst| preprocess::resize_into(&rgb, w, h, dst))?;
        let head = |ix: usize| -> Result<(usize, f32), Error> {
            let view = out[ix].to_plain_array_view::<f32>().map_err(inference)?;
            let logits = view
                .as_slice()
                .ok_or_else(|| inference(anyhow::anyhow!("output not contiguous")))?;
            Ok(ctc::softmax_peak(logits))
        };
        let (c, cover_confidence) = head(0)?;
        let (m, material_confidence) = head(1)?;
        // Shapes were checked at load: the indices are in range.
        Ok(CargoRead {
            cover: self.spec.covers[c.min(self.spec.covers.len() - 1)],
            material: self.spec.materials[m.min(self.spec.materials.len() - 1)],
            cover_confidence,
            material_confidence,
        })
    }

    /// Classifies the load box `bbox` (frame pixels) of `frame`: rounded,
    /// clamped, no margin, as the contract says.
    pub fn classify_box(&self, frame: &image::RgbImage, bbox: &BBox) -> Result<CargoRead, Error> {
        if frame.width() == 0 || frame.height() == 0 {
            return Err(Error::EmptyImage {
                width: frame.width(),
                height: frame.height(),
            });
        }
        self.classify(&crop_box(frame, bbox))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_names_become_enums() {
        let toml = r#"
            [cargo_classifier]
            input = [96, 96]
            covers = ["empty", "open", "partial", "tarped", "enclosed"]
            materials = ["coal", "briquette", "other_bulk", "none"]
            [cargo_classifier.metrics]
            acc = 1.0
        "#;
        let spec = CargoClassifierSpec::from_toml(toml).unwrap();
        assert_eq!(spec.covers, Cover::ALL);
        assert_eq!(spec.materials, Material::ALL);
        let bad = toml.replace("\"coal\"", "\"anthracite\"");
        assert!(CargoClassifierSpec::from_toml(&bad).is_err());
        assert!(CargoClassifierSpec::from_toml("")
            .unwrap_err()
            .to_string()
            .contains("no [cargo_classifier]"));
    }

    #[test]
    fn wire_names_match_the_hub() {
        assert_eq!(serde_json::to_string(&Cover::Open).unwrap(), "\"open\"");
        assert_eq!(
            serde_json::to_string(&Material::OtherBulk).unwrap(),
            "\"other_bulk\""
        );
        for c in Cover::ALL {
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{c}\""));
        }
        for m in Material::ALL {
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{m}\""));
        }
    }

    #[test]
    fn checkpoint_labels_map_as_the_contract_says() {
        assert_eq!(Cover::from_checkpoint_label("covered"), Some(Cover::Tarped));
        assert_eq!(
            Cover::from_checkpoint_label("partially_covered"),
            Some(Cover::Partial)
        );
        assert_eq!(Cover::from_checkpoint_label("uncovered"), Some(Cover::Open));
        assert_eq!(Cover::from_checkpoint_label("empty"), Some(Cover::Empty));
        assert_eq!(Cover::from_checkpoint_label("tanker"), None);
    }
}
