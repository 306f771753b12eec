//! The layout net: single or double row (and colour) from the reader's plain
//! input, before the reader runs.
//!
//! The reader reads a double-row plate on its two rows laid side by side
//! ([`crate::preprocess::join_rows`]), so it must know the layout first. Its own
//! `layout` head answers only after a whole pass over the plain crop, and a
//! double-row plate then costs two passes. This small network (`[plate_layout]`
//! in `manifest.toml`, about a twentieth of the reader's arithmetic) looks at the
//! same input tensor; when it is sure enough that the plate is double-row, the
//! reader goes straight to the joined pass. Below its threshold the reader's own
//! two-pass path decides, so the net only ever saves a pass.
//!
//! The colour of a plate read this way comes from this net: the reader's colour
//! head was trained on plain crops and is unreliable on joined rows.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use tract_onnx::prelude::*;

use crate::ctc;
use crate::manifest::{read_manifest, ManifestError, PlateColor, PlateLayout};
use crate::plate_detector::optional_table_from_toml;
use crate::runtime::{self, inference, model_error};
use crate::Error;

/// The network's output names, in the order the plans return them.
const OUTPUTS: [&str; 2] = ["layout", "color"];

/// The manifest table of the layout net.
const TABLE: &str = "plate_layout";

/// What the manifest says about the layout net (`[plate_layout]`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlateLayoutSpec {
    /// The ONNX file, beside the manifest.
    pub file: String,
    /// Input height; must be the reader's (the tensor is shared).
    pub height: u32,
    /// Input width; must be the reader's.
    pub width: u32,
    /// The `layout` head's classes, in logit order.
    pub layouts: Vec<PlateLayout>,
    /// The `color` head's classes, in logit order.
    pub colors: Vec<PlateColor>,
    /// The softmax probability of `double` from which a plate goes straight to
    /// the reader's double-row pass.
    pub double_threshold: f32,
}

/// The `[plate_layout]` table as written (extra keys ignored).
#[derive(Debug, Deserialize)]
struct RawSpec {
    file: String,
    input: Vec<u32>,
    layouts: Vec<PlateLayout>,
    colors: Vec<PlateColor>,
    double_threshold: f32,
}

impl RawSpec {
    fn check(self) -> Result<PlateLayoutSpec, String> {
        let [height, width] = self.input[..] else {
            return Err(format!(
                "plate_layout.input must be [H, W], got {:?}",
                self.input
            ));
        };
        if !self.layouts.contains(&PlateLayout::Double) || self.colors.is_empty() {
            return Err(
                "plate_layout: layouts must include double, colors must not be empty".into(),
            );
        }
        // At or below one half the net would overrule the reader's own layout head
        // on plates it is unsure of; above 1 it would never route.
        if !(self.double_threshold > 0.5 && self.double_threshold <= 1.0) {
            return Err(format!(
                "plate_layout.double_threshold must be in (0.5, 1], got {}",
                self.double_threshold
            ));
        }
        if self.file.is_empty() || Path::new(&self.file).components().count() != 1 {
            return Err(format!(
                "plate_layout.file must be a file name beside the manifest, got {:?}",
                self.file
            ));
        }
        Ok(PlateLayoutSpec {
            file: self.file,
            height,
            width,
            layouts: self.layouts,
            colors: self.colors,
            double_threshold: self.double_threshold,
        })
    }
}

impl PlateLayoutSpec {
    /// The `[plate_layout]` table of the `manifest.toml` at `path`, or `None`
    /// when it has none.
    pub fn load(path: impl AsRef<Path>) -> Result<Option<Self>, ManifestError> {
        let path = path.as_ref();
        Self::from_toml(&read_manifest(path)?).map_err(|e| e.with_path(path))
    }

    /// The `[plate_layout]` table of a manifest held in memory, or `None` when it
    /// has none (the reader then decides the layout alone, in two passes).
    pub fn from_toml(text: &str) -> Result<Option<Self>, ManifestError> {
        optional_table_from_toml(text, TABLE, RawSpec::check)
    }
}

/// What the layout net made of one crop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LayoutGuess {
    /// Softmax probability of `double`.
    pub p_double: f32,
    /// Colour and its softmax probability.
    pub color: PlateColor,
    pub color_confidence: f32,
}

/// The layout net, planned once; run states live with the reader's.
#[derive(Debug)]
pub(crate) struct LayoutNet {
    pub spec: PlateLayoutSpec,
    /// Plan with the input pinned to batch 1.
    pub single: Arc<TypedSimplePlan>,
    /// Plan with a symbolic batch, when the export has one.
    pub batched: Option<Arc<TypedSimplePlan>>,
    /// Index of `double` among the layout logits.
    double_ix: usize,
}

impl LayoutNet {
    /// Parses and plans the ONNX bytes, then checks the output shapes on a
    /// blank input; `path` only names the model in errors.
    pub fn from_onnx(onnx: &[u8], spec: PlateLayoutSpec, path: &Path) -> Result<Self, Error> {
        let err = model_error(path);
        let model = runtime::parse(onnx, &OUTPUTS).map_err(&err)?;
        let (h, w) = (spec.height as usize, spec.width as usize);
        let single = runtime::plan_for(model.clone(), h, w).map_err(&err)?;
        let batched = runtime::batched_plan(model, h, w);
        let double_ix = spec
            .layouts
            .iter()
            .position(|&l| l == PlateLayout::Double)
            .unwrap_or(1); // checked by RawSpec::check
        let mut net = LayoutNet {
            spec,
            single,
            batched,
            double_ix,
        };
        let blank = Tensor::zero::<f32>(&[1, 3, h, w]).map_err(&err)?;
        let out = runtime::run_plan(&net.single, tvec![blank.into_tvalue()]).map_err(&err)?;
        net.check(&out, 1).map_err(&err)?;
        if let Some(plan) = &net.batched {
            let two = Tensor::zero::<f32>(&[2, 3, h, w]).map_err(&err)?;
            let ok = runtime::run_plan(plan, tvec![two.into_tvalue()])
                .map(|o| net.check(&o, 2).is_ok())
                .unwrap_or(false);
            if !ok {
                net.batched = None;
            }
        }
        Ok(net)
    }

    fn check(&self, out: &[TValue], n: usize) -> anyhow::Result<()> {
        let shapes: Vec<&[usize]> = out.iter().map(|o| o.shape()).collect();
        let expected = [
            vec![n, self.spec.layouts.len()],
            vec![n, self.spec.colors.len()],
        ];
        anyhow::ensure!(
            shapes.len() == 2 && shapes[0] == expected[0] && shapes[1] == expected[1],
            "outputs (layout, color) have shapes {shapes:?}; the manifest implies {expected:?}"
        );
        Ok(())
    }

    /// Item `k` of a run's outputs.
    pub fn guess(&self, out: &[TValue], k: usize) -> Result<LayoutGuess, Error> {
        // Borrowed rows, no allocation: this runs on every read.
        let row = |ix: usize, len: usize| -> Result<&[f32], Error> {
            let all = out[ix]
                .to_plain_array_view::<f32>()
                .map_err(inference)?
                .to_slice()
                .ok_or_else(|| inference(anyhow::anyhow!("output not contiguous")))?;
            Ok(all.get(k * len..(k + 1) * len).unwrap_or(&[]))
        };
        let layout = row(0, self.spec.layouts.len())?;
        let (c, color_confidence) = ctc::softmax_peak(row(1, self.spec.colors.len())?);
        Ok(LayoutGuess {
            p_double: softmax_at(layout, self.double_ix),
            color: self.spec.colors[c.min(self.spec.colors.len() - 1)],
            color_confidence,
        })
    }

    /// Whether a guess sends the plate straight to the double-row pass.
    pub fn routes(&self, g: &LayoutGuess) -> bool {
        g.p_double >= self.spec.double_threshold
    }
}

/// Softmax probability of class `i` (0 for a missing index or broken logits).
fn softmax_at(logits: &[f32], i: usize) -> f32 {
    let Some(&li) = logits.get(i) else {
        return 0.0;
    };
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() || !li.is_finite() {
        return 0.0;
    }
    let sum: f32 = logits.iter().map(|&l| (l - max).exp()).sum();
    let p = (li - max).exp() / sum;
    if p.is_finite() {
        p
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE_OK: &str = r#"
        [plate_layout]
        file = "plate_layout.onnx"
        input = [32, 128]
        layouts = ["single", "double"]
        colors = ["blue", "yellow", "green", "white", "black"]
        double_threshold = 0.9
        [plate_layout.metrics]
        real_dev_layout_acc_pct = 100.0
    "#;

    #[test]
    fn a_manifest_without_the_table_has_no_layout_net() {
        assert_eq!(
            PlateLayoutSpec::from_toml("[plate_reader]\ninput = [32, 128]\n").unwrap(),
            None
        );
        let spec = PlateLayoutSpec::from_toml(TABLE_OK).unwrap().unwrap();
        assert_eq!(spec.layouts, PlateLayout::ALL);
        assert_eq!(
            (spec.height, spec.width, spec.double_threshold),
            (32, 128, 0.9)
        );
    }

    #[test]
    fn a_bad_table_is_refused() {
        for (from, to) in [
            ("double_threshold = 0.9", "double_threshold = 0.5"),
            ("double_threshold = 0.9", "double_threshold = 1.5"),
            ("\"single\", \"double\"", "\"single\""),
            ("plate_layout.onnx", "../elsewhere.onnx"),
            ("\"yellow\"", "\"purple\""),
        ] {
            let bad = TABLE_OK.replace(from, to);
            assert!(PlateLayoutSpec::from_toml(&bad).is_err(), "{to}");
        }
        assert!(PlateLayoutSpec::from_toml("[plate_layout").is_err());
    }

    #[test]
    fn softmax_at_is_a_probability() {
        let p = softmax_at(&[0.0, 2.0], 1);
        assert!((p - 1.0 / (1.0 + (-2.0f32).exp())).abs() < 1e-6);
        assert_eq!(softmax_at(&[0.0, 2.0], 5), 0.0);
        assert_eq!(softmax_at(&[f32::NAN, 1.0], 1), 0.0);
        assert!((softmax_at(&[1000.0, 1000.0], 0) - 0.5).abs() < 1e-6);
    }
}
