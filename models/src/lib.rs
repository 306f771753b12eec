//! The networks of a Kadian checkpoint, run with tract-onnx over plain `image`
//! buffers (no OpenCV).
//!
//! A plate crop goes through the reader in flow order: the model's
//! `manifest.toml` says what the network expects and what its outputs mean
//! (input size, alphabet, colours, layouts, double-row geometry); `preprocess`
//! turns any image into the `[1, 3, H, W]` tensor of the contract (bounding
//! pathological sizes first, and building the row-joined image of a double-row
//! plate for its second pass); the network runs once per pass in a plan that was
//! loaded, pinned and optimised at start-up; `ctc` greedy-decodes the sequence
//! logits into characters with a confidence each; `plate_province` looks again at
//! an unsure province and `plate_grammar` puts right a reading one character from
//! a GA 36 plate; and `plate_reader` ties these together into a [`PlateRead`]:
//! text, colour, layout and confidences.
//!
//! ```no_run
//! use models::PlateReader;
//!
//! let reader = PlateReader::load("models/onnx/plate_reader.onnx")?;
//! let crop = image::open("crop.jpg").expect("a readable image");
//! let read = reader.read(&crop)?;
//! println!("{} {} {} ({:.2})", read.text, read.color, read.layout, read.confidence);
//! # Ok::<(), models::Error>(())
//! ```

/// `CargoClassifier`: load crop → cover state + material.
pub mod cargo_classifier;
/// CTC decoding: greedy with per-character confidence, and a prefix beam search
/// under a rule; stable softmax.
pub mod ctc;
/// `manifest.toml`: the typed contract between the Python training and this crate.
pub mod manifest;
/// `PlateDetector`: frame → letterbox → run → decode → NMS → plates, vehicles, loads.
pub mod plate_detector;
/// A detected plate's ends, found from its background colour.
pub mod plate_ends;
/// GA 36 as a last word: a reading that is not a plate number is read as the
/// most probable one near it.
pub mod plate_grammar;
/// The layout net: single or double row before the reader's first pass.
pub mod plate_layout;
/// The province net: a second look at a reading's first character.
pub mod plate_province;
/// `PlateReader`: load once, then crop → text + colour + layout.
pub mod plate_reader;
/// Image → input tensor: size bounding, resize, double-row band join.
pub mod preprocess;
/// A detected plate → the cuts read (refined ends, further margins) → the reading kept.
pub mod read_detected;
/// Load once, pin, optimise; one run state per network, renewed after a panic.
mod runtime;
/// A frame's boxes put together: each vehicle with its plate and load, lone plates, lettering.
pub mod scene;

pub use cargo_classifier::{CargoClassifier, CargoClassifierSpec, CargoRead, Cover, Material};
pub use manifest::{DoubleRow, ManifestError, PlateColor, PlateLayout, PlateReaderSpec};
pub use plate_detector::{
    rectify_plate, BBox, Detections, PlateBox, PlateDetector, PlateDetectorSpec, Point, Recrop,
    Region, Tiling, DEFAULT_READER_CROP_MARGIN,
};
pub use plate_ends::refine_plate_ends;
pub use plate_layout::PlateLayoutSpec;
pub use plate_province::PlateProvinceSpec;
pub use plate_reader::{
    PlateRead, PlateReader, MIN_CONFIRMING_CHAR_CONFIDENCE, MIN_WHOLE_PLATE_CHARS,
};
pub use preprocess::{Crop, CropRef};
pub use read_detected::{read_detected_plate, DetectedRead};

use std::path::PathBuf;

/// tract's account of what it could not do, kept as the `source` of
/// [`Error::Model`] and [`Error::Inference`]. It displays the whole chain
/// (`outer: inner: root cause`) on one line, since tract's outermost context
/// alone ("Translating proto model") rarely says what broke.
#[derive(Debug)]
pub struct TractFailure(pub anyhow::Error);

impl std::fmt::Display for TractFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for TractFailure {}

/// What can go wrong loading or running a model; one variant per thing a caller
/// handles differently.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model file is missing or unreadable: a deployment problem.
    #[error("cannot read model {path}: {source}")]
    ModelFile {
        /// The `.onnx` path given to `load`.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// The `manifest.toml` beside the model is missing or breaks the contract.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The file is not an ONNX model tract can run, or its inputs and outputs do
    /// not match the manifest (the Python and Rust sides disagree).
    #[error("model {path} is unusable: {source}")]
    Model {
        /// The `.onnx` path given to `load`.
        path: PathBuf,
        /// tract's account, or the mismatch found.
        #[source]
        source: TractFailure,
    },
    /// The image has no pixels: nothing to read, the model is fine. Carries no
    /// allocation, so a stream of bad crops costs nothing to report.
    #[error("image is empty ({width}x{height})")]
    EmptyImage {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The network failed while running (should not happen with a model that
    /// loaded; reported rather than panicking).
    #[error("inference failed: {0}")]
    Inference(#[source] TractFailure),
}
