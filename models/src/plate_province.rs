//! The province net: a second look at a plate's first character.
//!
//! The reader squeezes a crop to 32x128 and reads it from features at 8x32, where
//! a Chinese character is about five rows by three columns: most of its real
//! errors are the province (浙 read as 黑, 京 as 晋). This small classifier
//! (`[plate_province]` in `manifest.toml`) looks at the province's window of the
//! crop alone, at 40x40 (the left of a single-row crop, the top-left of a
//! double-row one). When the reader's first character is a province, the two
//! are combined as independent evidence: the province maximising the reader's
//! softmax at that character's peak step, raised to `reader_weight`, times the
//! net's softmax. The reader's softmax is overconfident on provinces (it learnt
//! them from crops framed one way), so it counts for less than the net's: on the
//! synthetic hold-out, weights of 0.25-0.5 read the most plates.
//!
//! The net is asked only when the reader is unsure of that character (its peak
//! probability below `consult_below`): under the product a sure reader is all
//! but never overruled, and most real crops are read surely, so the second look
//! costs a fraction of a run per crop on average.

use std::path::Path;

use image::RgbImage;
use serde::Deserialize;

use crate::manifest::{read_manifest, ManifestError, PlateLayout};
use crate::plate_detector::optional_table_from_toml;
use crate::preprocess;
use crate::runtime::{inference, Network};
use crate::Error;

/// The network's output name.
const OUTPUTS: [&str; 1] = ["province"];

/// The manifest table of the province net.
const TABLE: &str = "plate_province";

/// A window on a crop, as fractions of its width and height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Right edge.
    pub x1: f32,
    /// Bottom edge.
    pub y1: f32,
}

impl Window {
    fn from_list(key: &str, v: &[f32]) -> Result<Window, String> {
        let &[x0, y0, x1, y1] = v else {
            return Err(format!("{TABLE}.{key} must be [x0, y0, x1, y1], got {v:?}"));
        };
        let unit = |f: f32| (0.0..=1.0).contains(&f);
        if !(unit(x0) && unit(y0) && unit(x1) && unit(y1) && x0 < x1 && y0 < y1) {
            return Err(format!(
                "{TABLE}.{key} must be fractions with x0 < x1 and y0 < y1, got {v:?}"
            ));
        }
        Ok(Window { x0, y0, x1, y1 })
    }

    /// The window's pixels in a `w x h` crop: `(x, y, width, height)`, edges
    /// rounded as the row bands are, at least one pixel each way and inside the
    /// crop (`w` and `h` at least 1).
    pub fn pixels(&self, w: u32, h: u32) -> (u32, u32, u32, u32) {
        let at = |f: f32, n: u32| (f * n as f32).round() as u32;
        let x0 = at(self.x0, w).min(w - 1);
        let y0 = at(self.y0, h).min(h - 1);
        let x1 = at(self.x1, w).clamp(x0 + 1, w);
        let y1 = at(self.y1, h).clamp(y0 + 1, h);
        (x0, y0, x1 - x0, y1 - y0)
    }
}

/// What the manifest says about the province net (`[plate_province]`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlateProvinceSpec {
    /// The ONNX file, beside the manifest.
    pub file: String,
    /// Input height and width.
    pub height: u32,
    /// Input width.
    pub width: u32,
    /// The classes, in logit order: one province character each.
    pub provinces: Vec<String>,
    /// Where the province stands on a single-row crop.
    pub window_single: Window,
    /// Where the province stands on a double-row crop.
    pub window_double: Window,
    /// The net is asked when the reader's first character has a peak
    /// probability below this (1 when the table does not say: always).
    pub consult_below: f32,
    /// The exponent on the reader's softmax in `combine`, in `[0, 1]` (1 when
    /// the table does not say: the plain product; 0: the net alone).
    pub reader_weight: f32,
}

/// The `[plate_province]` table as written (extra keys ignored).
#[derive(Debug, Deserialize)]
struct RawSpec {
    file: String,
    input: Vec<u32>,
    provinces: String,
    window_single: Vec<f32>,
    window_double: Vec<f32>,
    consult_below: Option<f32>,
    reader_weight: Option<f32>,
}

impl RawSpec {
    fn check(self) -> Result<PlateProvinceSpec, String> {
        let [height, width] = self.input[..] else {
            return Err(format!(
                "{TABLE}.input must be [H, W], got {:?}",
                self.input
            ));
        };
        if height == 0 || width == 0 {
            return Err(format!("{TABLE}.input must not be empty"));
        }
        let provinces: Vec<String> = self.provinces.chars().map(String::from).collect();
        if provinces.is_empty() {
            return Err(format!("{TABLE}.provinces must not be empty"));
        }
        if self.file.is_empty() || Path::new(&self.file).components().count() != 1 {
            return Err(format!(
                "{TABLE}.file must be a file name beside the manifest, got {:?}",
                self.file
            ));
        }
        let consult_below = self.consult_below.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&consult_below) {
            return Err(format!(
                "{TABLE}.consult_below must lie in [0, 1], got {consult_below}"
            ));
        }
        let reader_weight = self.reader_weight.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&reader_weight) {
            return Err(format!(
                "{TABLE}.reader_weight must lie in [0, 1], got {reader_weight}"
            ));
        }
        Ok(PlateProvinceSpec {
            file: self.file,
            height,
            width,
            provinces,
            window_single: Window::from_list("window_single", &self.window_single)?,
            window_double: Window::from_list("window_double", &self.window_double)?,
            consult_below,
            reader_weight,
        })
    }
}

impl PlateProvinceSpec {
    /// The `[plate_province]` table of the `manifest.toml` at `path`, or `None`
    /// when it has none.
    pub fn load(path: impl AsRef<Path>) -> Result<Option<Self>, ManifestError> {
        let path = path.as_ref();
        Self::from_toml(&read_manifest(path)?).map_err(|e| e.with_path(path))
    }

    /// The `[plate_province]` table of a manifest held in memory, or `None` when
    /// it has none (the reader then reads the province alone).
    pub fn from_toml(text: &str) -> Result<Option<Self>, ManifestError> {
        optional_table_from_toml(text, TABLE, RawSpec::check)
    }

    /// The window of a crop of `layout`.
    pub fn window(&self, layout: PlateLayout) -> Window {
        match layout {
            PlateLayout::Single => self.window_single,
            PlateLayout::Double => self.window_double,
        }
    }
}

/// The province net, planned once, with its run state.
#[derive(Debug)]
pub(crate) struct ProvinceNet {
    pub spec: PlateProvinceSpec,
    net: Network<()>,
}

impl ProvinceNet {
    /// Parses and plans the ONNX bytes and checks the output shape on a blank
    /// input; `path` only names the model in errors.
    pub fn from_onnx(onnx: &[u8], spec: PlateProvinceSpec, path: &Path) -> Result<Self, Error> {
        let expected = [vec![1, spec.provinces.len()]];
        let size = (spec.height as usize, spec.width as usize);
        let net = Network::load(onnx, &OUTPUTS, size, &expected, path)?;
        Ok(ProvinceNet { spec, net })
    }

    /// Another handle on the same plan, with its own run state.
    pub fn try_clone(&self) -> Result<Self, Error> {
        Ok(ProvinceNet {
            spec: self.spec.clone(),
            net: self.net.try_clone()?,
        })
    }

    /// The net's softmax over its provinces for the province window of `crop`
    /// (an RGB crop with at least one pixel), written into `probs`.
    pub fn probabilities(
        &self,
        crop: &RgbImage,
        layout: PlateLayout,
        probs: &mut Vec<f32>,
    ) -> Result<(), Error> {
        let (w, h) = crop.dimensions();
        let (x, y, ww, wh) = self.spec.window(layout).pixels(w, h);
        let window = image::imageops::crop_imm(crop, x, y, ww, wh).to_image();
        let (sh, sw) = (self.spec.height, self.spec.width);
        let ((), out) = self
            .net
            .lock()
            .run(|dst| preprocess::resize_into(&window, sw, sh, dst))?;
        let view = out[0].to_plain_array_view::<f32>().map_err(inference)?;
        let logits = view
            .as_slice()
            .ok_or_else(|| inference(anyhow::anyhow!("output not contiguous")))?;
        softmax_into(logits, probs);
        Ok(())
    }
}

/// The softmax of `logits` into `out` (all zeros when no logit is finite).
pub(crate) fn softmax_into(logits: &[f32], out: &mut Vec<f32>) {
    out.clear();
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        out.resize(logits.len(), 0.0);
        return;
    }
    out.extend(logits.iter().map(|&l| (l - max).exp()));
    let sum: f32 = out.iter().sum();
    for p in out.iter_mut() {
        *p /= sum;
    }
}

/// Which province two independent opinions agree on best: the index maximising
/// `reader[i]^reader_weight * net[i]`, and that product renormalised over the
/// provinces (the combined confidence). `None` when the two have no province
/// both think possible (every product zero) or the slices differ in length.
pub(crate) fn combine(reader: &[f32], net: &[f32], reader_weight: f32) -> Option<(usize, f32)> {
    if reader.len() != net.len() {
        return None;
    }
    let products = reader
        .iter()
        .zip(net)
        .map(|(a, b)| a.powf(reader_weight) * b);
    let total: f32 = products.clone().sum();
    let (best, p) =
        products.enumerate().fold(
            (0, f32::NEG_INFINITY),
            |acc, (i, p)| if p > acc.1 { (i, p) } else { acc },
        );
    (total > 0.0 && total.is_finite()).then(|| (best, p / total))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE_TOML: &str = r#"
        [plate_province]
        file = "plate_province.onnx"
        input = [40, 40]
        provinces = "京津沪"
        window_single = [0.0, 0.0, 0.3, 1.0]
        window_double = [0.12, 0.0, 0.56, 0.42]
    "#;

    #[test]
    fn the_table_is_optional_and_checked() {
        assert_eq!(
            PlateProvinceSpec::from_toml("[plate_reader]\nx = 1").unwrap(),
            None
        );
        let spec = PlateProvinceSpec::from_toml(TABLE_TOML).unwrap().unwrap();
        assert_eq!(spec.provinces, ["京", "津", "沪"]);
        assert_eq!(spec.window(PlateLayout::Double).x1, 0.56);
        assert_eq!(
            spec.consult_below, 1.0,
            "without the key the net is always asked"
        );
        // The optional keys, each with its range.
        let with = |line: &str| PlateProvinceSpec::from_toml(&format!("{TABLE_TOML}{line}\n"));
        assert_eq!(
            spec.reader_weight, 1.0,
            "without the key, the plain product"
        );
        let gated = with("consult_below = 0.99").unwrap().unwrap();
        assert_eq!(gated.consult_below, 0.99);
        let weighed = with("reader_weight = 0.5").unwrap().unwrap();
        assert_eq!(weighed.reader_weight, 0.5);
        for bad in [
            "consult_below = 1.5",
            "reader_weight = -0.1",
            "reader_weight = 1.5",
        ] {
            let e = with(bad).unwrap_err().to_string();
            let key = bad.split(' ').next().unwrap();
            assert!(e.contains(key), "{e}");
        }
        for (from, to) in [
            ("[0.0, 0.0, 0.3, 1.0]", "[0.3, 0.0, 0.3, 1.0]"),
            ("[0.0, 0.0, 0.3, 1.0]", "[0.0, 0.0, 1.3, 1.0]"),
            ("[0.0, 0.0, 0.3, 1.0]", "[0.0, 0.3, 1.0]"),
            ("\"京津沪\"", "\"\""),
            ("\"plate_province.onnx\"", "\"../x.onnx\""),
        ] {
            let bad = TABLE_TOML.replace(from, to);
            assert!(PlateProvinceSpec::from_toml(&bad).is_err(), "{to}");
        }
    }

    #[test]
    fn a_window_stays_inside_the_crop() {
        let window = |v: [f32; 4]| Window::from_list("test", &v).unwrap();
        let w = window([0.0, 0.0, 0.3, 1.0]);
        assert_eq!(w.pixels(94, 24), (0, 0, 28, 24));
        // A sliver of a crop still gives a pixel to look at.
        assert_eq!(w.pixels(1, 1), (0, 0, 1, 1));
        assert_eq!(w.pixels(2, 1), (0, 0, 1, 1));
        let top_right = window([0.9, 0.0, 1.0, 0.1]);
        assert_eq!(top_right.pixels(5, 5), (4, 0, 1, 1));
    }

    #[test]
    fn combining_weighs_both_opinions() {
        // The reader leans to the first, the net is sure of the second.
        let (i, p) = combine(&[0.6, 0.3, 0.1], &[0.05, 0.9, 0.05], 1.0).unwrap();
        assert_eq!(i, 1);
        assert!((p - 0.27 / 0.305).abs() < 1e-5, "{p}");
        // Agreement stays where it was.
        assert_eq!(
            combine(&[0.9, 0.1, 0.0], &[0.8, 0.1, 0.1], 1.0).unwrap().0,
            0
        );
        // Nothing both think possible, or shapes that disagree: no opinion.
        assert_eq!(combine(&[1.0, 0.0], &[0.0, 1.0], 1.0), None);
        assert_eq!(combine(&[1.0], &[0.5, 0.5], 1.0), None);
        // A sure reader against a fairly sure net: the plain product keeps the
        // reader's, a reader weighed at a half gives way; at 0 the net decides.
        let (reader, net) = ([0.9, 0.1], [0.2, 0.8]);
        assert_eq!(combine(&reader, &net, 1.0).unwrap().0, 0);
        let (i, p) = combine(&reader, &net, 0.5).unwrap();
        let (a, b) = (0.9f32.sqrt() * 0.2, 0.1f32.sqrt() * 0.8);
        assert_eq!(i, 1);
        assert!((p - b / (a + b)).abs() < 1e-5, "{p}");
        assert_eq!(combine(&[0.99, 0.01], &net, 0.0).unwrap(), (1, 0.8));
    }

    #[test]
    fn softmax_sums_to_one_and_survives_broken_logits() {
        let mut out = Vec::new();
        softmax_into(&[1.0, 2.0, 3.0], &mut out);
        assert!((out.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(out[2] > out[1] && out[1] > out[0]);
        softmax_into(&[f32::NAN, f32::NAN], &mut out);
        assert_eq!(out, [0.0, 0.0]);
    }
}
