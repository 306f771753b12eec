//! [`PlateDetector`]: a whole frame in, plate boxes (with their four corners and
//! single / double row), vehicle boxes and load boxes out, in frame pixels.
//!
//! The contract is "The plate detector contract" in `models/README.md`; its Python
//! reference is `training/detector_eval.py`. A detection reads, one function each:
//!
//! 1. `letterbox_into`: the frame resized (triangle filter) by
//!    `s = min(W / fw, H / fh)` and pasted at the top-left of a `W x H` canvas of
//!    the pad value; it returns the `Letterbox` that step 5 inverts.
//! 2. the network, planned once at load with its input pinned to `[1, 3, H, W]`;
//! 3. `decode_plates` / `decode_regions`: 3x3 local maxima of the objectness
//!    logits above the score threshold, boxes and corners from their cell;
//! 4. `nms`: greedy, per class, by descending score (`total_cmp`);
//! 5. `Letterbox::unletterbox`: every coordinate divided by `s`, boxes clamped
//!    to the frame (corners are not: clamp when sampling, as [`rectify_plate`] does).
//!
//! A frame much larger than the input can get a second look ([`Tiling`], from the
//! manifest's `[plate_detector.tiling]`): overlapping windows of it, each
//! letterboxed at a higher scale, whose plates join the full-frame ones before a
//! last NMS. A plate 400 px wide on a 4000 px portrait phone photo is 40 input
//! pixels in the full-frame pass and easy to miss; in a tile it is twice that.
//!
//! [`PlateDetector::rectify`] then cuts a plate out of the full-resolution frame
//! for the reader: a perspective warp of the corner quad, with the manifest's
//! margins (`reader_crop_margin`).

use std::path::{Path, PathBuf};

use image::imageops;
use image::{Rgb, RgbImage};
use serde::{Deserialize, Serialize};
use tract_onnx::prelude::TValue;

use crate::manifest::ManifestError;
use crate::preprocess::{self, Crop};
use crate::runtime::{self, inference, Network, RunState};
use crate::Error;

/// The network's output names, in the order the plan returns them.
const OUTPUTS: [&str; 2] = ["plate", "region"];
/// Channels of the plate head: obj, double, dx, dy, log_w, log_h, 4 corners x 2.
const PLATE_CHANNELS: usize = 14;
/// Channels of the region head: 2 objectness, then (dx, dy, log_w, log_h) per class.
const REGION_CHANNELS: usize = 10;
/// Frames larger than this many times the input, per axis, are first box-sampled
/// down (aspect kept) so a pathological upload costs a bounded time. A 4K frame
/// (3840 x 2160) and the 3392 x 2072 checkpoint stills stay below it and see
/// exactly the contract's resize.
const MAX_OVERSAMPLE: u32 = 8;
/// Largest side of a rectified plate crop: corners decoded from a garbage frame
/// must not allocate gigabytes (the reader bounds its input anyway).
const MAX_CROP_SIDE: u32 = 2048;
/// A tile's plate closer than this fraction of the window to an inner window
/// edge is taken as cut by it.
const TILE_EDGE: f32 = 0.02;

/// A point in pixels (input or frame, as the context says).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Point {
    /// Column, growing rightwards.
    pub x: f32,
    /// Row, growing downwards.
    pub y: f32,
}

/// An axis-aligned box `[x1, x2) x [y1, y2)` in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct BBox {
    /// Left edge.
    pub x1: f32,
    /// Top edge.
    pub y1: f32,
    /// Right edge.
    pub x2: f32,
    /// Bottom edge.
    pub y2: f32,
}

impl BBox {
    /// Width (0 for an inverted box).
    pub fn width(&self) -> f32 {
        (self.x2 - self.x1).max(0.0)
    }

    /// Height (0 for an inverted box).
    pub fn height(&self) -> f32 {
        (self.y2 - self.y1).max(0.0)
    }

    /// Area (0 for an inverted box).
    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    /// Its corners in a [`PlateBox`]'s order: TL, TR, BR, BL.
    pub fn corners(&self) -> [Point; 4] {
        [
            Point {
                x: self.x1,
                y: self.y1,
            },
            Point {
                x: self.x2,
                y: self.y1,
            },
            Point {
                x: self.x2,
                y: self.y2,
            },
            Point {
                x: self.x1,
                y: self.y2,
            },
        ]
    }

    /// Area of the overlap with `o`.
    pub fn intersection(&self, o: &BBox) -> f32 {
        let w = (self.x2.min(o.x2) - self.x1.max(o.x1)).max(0.0);
        let h = (self.y2.min(o.y2) - self.y1.max(o.y1)).max(0.0);
        w * h
    }

    /// Intersection over union; 0 when the union is empty.
    pub fn iou(&self, o: &BBox) -> f32 {
        let inter = self.intersection(o);
        let union = self.area() + o.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }

    /// The centre point.
    pub fn center(&self) -> Point {
        Point {
            x: 0.5 * (self.x1 + self.x2),
            y: 0.5 * (self.y1 + self.y2),
        }
    }

    /// Whether `p` lies inside (edges included).
    pub fn contains(&self, p: Point) -> bool {
        p.x >= self.x1 && p.x <= self.x2 && p.y >= self.y1 && p.y <= self.y2
    }

    /// The box clamped to `[0, w] x [0, h]`.
    pub fn clamp(&self, w: f32, h: f32) -> BBox {
        BBox {
            x1: self.x1.clamp(0.0, w),
            y1: self.y1.clamp(0.0, h),
            x2: self.x2.clamp(0.0, w),
            y2: self.y2.clamp(0.0, h),
        }
    }

    /// A box from its centre and size.
    fn from_center(cx: f32, cy: f32, w: f32, h: f32) -> BBox {
        BBox {
            x1: cx - 0.5 * w,
            y1: cy - 0.5 * h,
            x2: cx + 0.5 * w,
            y2: cy + 0.5 * h,
        }
    }
}

/// One plate found in a frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateBox {
    /// Axis-aligned box, clamped to the frame.
    pub bbox: BBox,
    /// Corners TL, TR, BR, BL of the plate as read (TL = top-left of the text);
    /// may lie slightly outside the frame.
    pub corners: [Point; 4],
    /// The detector's double-row hint (the reader's own layout head decides).
    pub double_row: bool,
    /// Plate-centre score in `[0, 1]`.
    pub score: f32,
}

/// A vehicle or a load strip found in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Region {
    /// Axis-aligned box, clamped to the frame.
    pub bbox: BBox,
    /// Objectness score in `[0, 1]`.
    pub score: f32,
}

/// Everything the detector found in one frame, in frame pixels, each list by
/// descending score.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Detections {
    /// Plates.
    pub plates: Vec<PlateBox>,
    /// Vehicles (whole vehicle as seen).
    pub vehicles: Vec<Region>,
    /// Visible load strips of trucks: the cargo classifier's crops.
    pub loads: Vec<Region>,
}

impl Detections {
    fn clear(&mut self) {
        self.plates.clear();
        self.vehicles.clear();
        self.loads.clear();
    }
}

/// Everything the detector needs to know about its network (`[plate_detector]`
/// in `manifest.toml`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlateDetectorSpec {
    /// Input height (`input[0]`).
    pub height: u32,
    /// Input width (`input[1]`).
    pub width: u32,
    /// Letterbox pad value as the network sees it (`letterbox_pad_f32`).
    pub pad: f32,
    /// Stride of the plate head in input pixels.
    pub plate_stride: u32,
    /// Stride of the vehicle / load head in input pixels.
    pub region_stride: u32,
    /// Minimum plate score.
    pub score_threshold: f32,
    /// Plates overlapping a kept plate by more than this IoU are dropped.
    pub nms_iou: f32,
    /// Minimum vehicle / load score.
    pub region_score_threshold: f32,
    /// Vehicles / loads overlapping a kept one by more than this IoU are dropped.
    pub region_nms_iou: f32,
    /// The tiled second look at large frames; `None`: one pass per frame.
    pub tiling: Option<Tiling>,
    /// Margins [left/right, top/bottom] that [`PlateDetector::rectify`] adds
    /// around a plate's corner quad, as fractions of its width and height
    /// (`reader_crop_margin`): the crop tightness the reader was measured with.
    pub reader_crop_margin: [f32; 2],
    /// Further cuts read when the first reading is unsure (`[plate_detector.recrop]`);
    /// `None`: one cut per quad.
    pub recrop: Option<Recrop>,
}

/// `reader_crop_margin` of a manifest that does not name it: the contract's
/// 4 % of the plate's width and 8 % of its height.
pub const DEFAULT_READER_CROP_MARGIN: [f32; 2] = [0.04, 0.08];

/// Further cuts of an unsure plate (`[plate_detector.recrop]`).
///
/// The reader's reading of a small plate moves with how tightly it is framed: a
/// character near the edge, a province half in the margin. When the reading of
/// the first cut (at `reader_crop_margin`) is not a plate number read with every
/// character at `below` or more, the plate is cut again at each of `margins`,
/// in order, until one is, and the best-ranked reading kept
/// ([`crate::read_detected_plate`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Recrop {
    /// Margins [left/right, top/bottom] of the further cuts, as
    /// `reader_crop_margin`.
    pub margins: Vec<[f32; 2]>,
    /// A reading whose weakest character is at least this sure is not cut again.
    pub below: f32,
}

/// The tiled second look at a frame (`[plate_detector.tiling]`).
///
/// When the full-frame letterbox scale `s` is small, the frame is covered by
/// overlapping windows of the input's aspect, each letterboxed at
/// `min(1, gain * s)`; only plates are taken from them (vehicles and loads are
/// large and come from the full pass). A frame that would need more than
/// `max_tiles` windows, or whose tile scale would not exceed `1.2 s`, gets the
/// full pass alone.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Tiling {
    /// Tile scale over the full-frame scale.
    pub gain: f32,
    /// Overlap of neighbouring windows, as a fraction of a window.
    pub overlap: f32,
    /// Minimum plate score in a tile: tiles see more clutter up close.
    pub score_threshold: f32,
    /// Most windows per frame.
    pub max_tiles: u32,
    /// Widest plate taken from a tile, in input pixels: the widest the detector
    /// saw in training. Magnified further, a grille or a signboard can look like
    /// a plate; a plate that large is the full pass's anyway.
    pub max_plate_width: f32,
}

impl Tiling {
    /// The windows `[x, y, w, h]` (frame pixels, row by row) that tile a `fw x fh`
    /// frame for an `in_w x in_h` input whose full-frame scale is `full_scale`;
    /// empty when the frame gets no second look.
    pub fn windows(
        &self,
        fw: u32,
        fh: u32,
        in_w: u32,
        in_h: u32,
        full_scale: f32,
    ) -> Vec<[u32; 4]> {
        let scale = (full_scale * self.gain).min(1.0);
        // A NaN scale (a degenerate frame) gets no second look either.
        let gains = scale.is_finite() && full_scale.is_finite() && scale > 1.2 * full_scale;
        if !gains || fw == 0 || fh == 0 {
            return Vec::new();
        }
        let ww = (in_w as f32 / scale).round().clamp(1.0, fw as f32) as u32;
        let wh = (in_h as f32 / scale).round().clamp(1.0, fh as f32) as u32;
        // Window origins along one axis: evenly spread, first at 0, last at the end.
        let starts = |len: u32, win: u32| -> Vec<u32> {
            if win >= len {
                return vec![0];
            }
            let step = win as f32 * (1.0 - self.overlap);
            let n = ((len - win) as f32 / step).ceil() as u32 + 1;
            (0..n)
                .map(|k| ((len - win) as f32 * k as f32 / (n - 1) as f32).round() as u32)
                .collect()
        };
        let (xs, ys) = (starts(fw, ww), starts(fh, wh));
        if xs.len() * ys.len() > self.max_tiles as usize {
            return Vec::new();
        }
        ys.iter()
            .flat_map(|&y| xs.iter().map(move |&x| [x, y, ww, wh]))
            .collect()
    }
}

/// The `[plate_detector]` table as written (extra keys ignored).
#[derive(Debug, Deserialize)]
struct RawSpec {
    input: Vec<u32>,
    #[serde(default)]
    letterbox_pad_f32: Option<f32>,
    #[serde(default)]
    letterbox_pad: Option<f32>,
    #[serde(default)]
    letterbox_anchor: Option<String>,
    plate_stride: u32,
    region_stride: u32,
    plate_channels: Vec<String>,
    region_classes: Vec<String>,
    #[serde(default)]
    corner_order: Option<Vec<String>>,
    score_threshold: f32,
    nms_iou: f32,
    region_score_threshold: f32,
    region_nms_iou: f32,
    #[serde(default)]
    tiling: Option<Tiling>,
    #[serde(default)]
    reader_crop_margin: Option<[f32; 2]>,
    #[serde(default)]
    recrop: Option<Recrop>,
}

/// Reads a table of a manifest on disk (shared by the detector and the classifier).
pub(crate) fn read_table<T: serde::de::DeserializeOwned>(
    path: &Path,
    table: &str,
) -> Result<T, ManifestError> {
    table_from_toml(&crate::manifest::read_manifest(path)?, table).map_err(|e| e.with_path(path))
}

/// Reads the optional table `table` of a manifest held in memory and checks it:
/// `None` when the manifest has no such table (a parse error is still an error).
pub(crate) fn optional_table_from_toml<T: serde::de::DeserializeOwned, S>(
    text: &str,
    table: &str,
    check: impl FnOnce(T) -> Result<S, String>,
) -> Result<Option<S>, ManifestError> {
    let has_table = toml::from_str::<toml::Table>(text)
        .map(|t| t.contains_key(table))
        .unwrap_or(true); // a parse error is reported by table_from_toml
    if !has_table {
        return Ok(None);
    }
    check(table_from_toml::<T>(text, table)?)
        .map(Some)
        .map_err(|reason| ManifestError::Invalid {
            path: PathBuf::new(),
            reason,
        })
}

/// Reads the table `table` of a manifest held in memory.
pub(crate) fn table_from_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    table: &str,
) -> Result<T, ManifestError> {
    let parse = |source| ManifestError::Parse {
        path: PathBuf::new(),
        source,
    };
    let mut root: toml::Table = toml::from_str(text).map_err(parse)?;
    match root.remove(table) {
        Some(t) => t.try_into().map_err(parse),
        None => Err(ManifestError::Invalid {
            path: PathBuf::new(),
            reason: format!("no [{table}] table (has the model been exported?)"),
        }),
    }
}

impl PlateDetectorSpec {
    /// Reads the `[plate_detector]` table of the `manifest.toml` at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ManifestError> {
        let path = path.as_ref();
        read_table::<RawSpec>(path, "plate_detector")?
            .check()
            .map_err(|reason| ManifestError::Invalid {
                path: path.to_owned(),
                reason,
            })
    }

    /// Parses the `[plate_detector]` table of a manifest held in memory.
    pub fn from_toml(text: &str) -> Result<Self, ManifestError> {
        table_from_toml::<RawSpec>(text, "plate_detector")?
            .check()
            .map_err(|reason| ManifestError::Invalid {
                path: PathBuf::new(),
                reason,
            })
    }
}

impl RawSpec {
    fn check(self) -> Result<PlateDetectorSpec, String> {
        let [height, width] = self.input[..] else {
            return Err(format!(
                "plate_detector.input must be [H, W], got {:?}",
                self.input
            ));
        };
        let strides_ok = [self.plate_stride, self.region_stride]
            .iter()
            .all(|&s| s > 0 && height % s == 0 && width % s == 0);
        if height == 0 || width == 0 || !strides_ok {
            return Err(format!(
                "plate_detector: input [{height}, {width}] is not a multiple of the strides {} / {}",
                self.plate_stride, self.region_stride
            ));
        }
        if self.plate_channels.len() != PLATE_CHANNELS {
            return Err(format!(
                "plate_detector.plate_channels has {} names, this crate decodes {PLATE_CHANNELS}",
                self.plate_channels.len()
            ));
        }
        if self.region_classes != ["vehicle", "load"] {
            return Err(format!(
                "plate_detector.region_classes must be [\"vehicle\", \"load\"], got {:?}",
                self.region_classes
            ));
        }
        if let Some(order) = &self.corner_order {
            if order != &["TL", "TR", "BR", "BL"] {
                return Err(format!(
                    "plate_detector.corner_order must be TL, TR, BR, BL, got {order:?}"
                ));
            }
        }
        if let Some(anchor) = &self.letterbox_anchor {
            if anchor != "top-left" {
                return Err(format!(
                    "plate_detector.letterbox_anchor {anchor:?}: this crate pads at the top-left"
                ));
            }
        }
        let pad = match (self.letterbox_pad_f32, self.letterbox_pad) {
            (Some(p), _) => p,
            (None, Some(p)) => p / 255.0,
            (None, None) => 114.0 / 255.0,
        };
        let unit = |v: f32| (0.0..=1.0).contains(&v);
        if ![
            pad,
            self.score_threshold,
            self.nms_iou,
            self.region_score_threshold,
            self.region_nms_iou,
        ]
        .into_iter()
        .all(unit)
        {
            return Err("plate_detector: pad, thresholds and NMS IoUs must lie in [0, 1]".into());
        }
        if let Some(t) = &self.tiling {
            let ok = t.gain.is_finite()
                && t.gain >= 1.0
                && (0.0..0.9).contains(&t.overlap)
                && unit(t.score_threshold)
                && t.max_tiles > 0
                && t.max_plate_width > 0.0;
            if !ok {
                return Err(format!(
                    "plate_detector.tiling: gain >= 1, overlap in [0, 0.9), score threshold in [0, 1], max_tiles and max_plate_width > 0; got {t:?}"
                ));
            }
        }
        let reader_crop_margin = self
            .reader_crop_margin
            .unwrap_or(DEFAULT_READER_CROP_MARGIN);
        let margin = |m: &[f32; 2]| m.iter().all(|f| (0.0..=0.5).contains(f));
        if !margin(&reader_crop_margin) {
            return Err(format!(
                "plate_detector.reader_crop_margin must be two fractions in [0, 0.5], got {reader_crop_margin:?}"
            ));
        }
        if let Some(r) = &self.recrop {
            if !r.margins.iter().all(margin) || !unit(r.below) {
                return Err(format!(
                    "plate_detector.recrop: margins must be pairs of fractions in [0, 0.5] and below in [0, 1]; got {r:?}"
                ));
            }
        }
        Ok(PlateDetectorSpec {
            height,
            width,
            pad,
            plate_stride: self.plate_stride,
            region_stride: self.region_stride,
            score_threshold: self.score_threshold,
            nms_iou: self.nms_iou,
            region_score_threshold: self.region_score_threshold,
            region_nms_iou: self.region_nms_iou,
            tiling: self.tiling,
            reader_crop_margin,
            recrop: self.recrop,
        })
    }
}

/// What [`letterbox_into`] did to a frame, so that postprocessing can undo it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// Input pixels per frame pixel (`s` of the contract).
    pub scale: f32,
    /// Frame width in pixels.
    pub frame_w: u32,
    /// Frame height in pixels.
    pub frame_h: u32,
}

impl Letterbox {
    /// The letterbox of a `fw x fh` frame into an `in_w x in_h` input, and the
    /// resized size `(nw, nh)` (at least 1 x 1, at most the input).
    pub fn fit(fw: u32, fh: u32, in_w: u32, in_h: u32) -> (Letterbox, u32, u32) {
        let scale = (in_w as f32 / fw.max(1) as f32).min(in_h as f32 / fh.max(1) as f32);
        let nw = ((fw as f32 * scale).round() as u32).clamp(1, in_w);
        let nh = ((fh as f32 * scale).round() as u32).clamp(1, in_h);
        (
            Letterbox {
                scale,
                frame_w: fw,
                frame_h: fh,
            },
            nw,
            nh,
        )
    }

    /// A point in input pixels → frame pixels (not clamped).
    pub fn to_frame(&self, p: Point) -> Point {
        Point {
            x: p.x / self.scale,
            y: p.y / self.scale,
        }
    }

    /// A point in frame pixels → input pixels.
    pub fn to_input(&self, p: Point) -> Point {
        Point {
            x: p.x * self.scale,
            y: p.y * self.scale,
        }
    }

    /// A box in input pixels → frame pixels, clamped to the frame.
    pub fn box_to_frame(&self, b: BBox) -> BBox {
        let (x1, y1) = (b.x1 / self.scale, b.y1 / self.scale);
        let (x2, y2) = (b.x2 / self.scale, b.y2 / self.scale);
        BBox { x1, y1, x2, y2 }.clamp(self.frame_w as f32, self.frame_h as f32)
    }

    /// Moves every detection from input pixels to frame pixels (boxes clamped,
    /// corners not).
    pub fn unletterbox(&self, dets: &mut Detections) {
        for p in &mut dets.plates {
            p.bbox = self.box_to_frame(p.bbox);
            for c in &mut p.corners {
                *c = self.to_frame(*c);
            }
        }
        for r in dets.vehicles.iter_mut().chain(dets.loads.iter_mut()) {
            r.bbox = self.box_to_frame(r.bbox);
        }
    }
}

/// Letterboxes `frame` into the planar `[3, in_h, in_w]` slice `dst` (RGB, `0..=1`):
/// triangle resize by `s`, pasted at the top-left, the rest `pad`. Returns what
/// [`Letterbox::unletterbox`] inverts.
///
/// # Panics
/// If `dst` is not `3 * in_w * in_h` long (a caller bug, not an input problem).
pub fn letterbox_into(
    frame: &RgbImage,
    in_w: u32,
    in_h: u32,
    pad: f32,
    dst: &mut [f32],
) -> Letterbox {
    let (fw, fh) = frame.dimensions();
    let (lb, nw, nh) = Letterbox::fit(fw, fh, in_w, in_h);
    let plane = (in_w * in_h) as usize;
    assert_eq!(
        dst.len(),
        3 * plane,
        "letterbox_into: dst is not [3, {in_h}, {in_w}]"
    );
    dst.fill(pad);
    let resized;
    let src = if (nw, nh) == (fw, fh) {
        frame
    } else {
        resized = crate::preprocess::resize(frame, nw, nh);
        &resized
    };
    for (x, y, p) in src.enumerate_pixels() {
        let at = (y * in_w + x) as usize;
        for c in 0..3 {
            dst[c * plane + at] = f32::from(p.0[c]) / 255.0;
        }
    }
    lb
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Whether cell `(j, i)` of the `gh x gw` plane `obj` is `>=` each of its 8
/// neighbours (outside the grid counts as -inf).
fn is_local_max(obj: &[f32], gh: usize, gw: usize, j: usize, i: usize) -> bool {
    let v = obj[j * gw + i];
    for nj in j.saturating_sub(1)..=(j + 1).min(gh - 1) {
        for ni in i.saturating_sub(1)..=(i + 1).min(gw - 1) {
            if (nj, ni) != (j, i) && obj[nj * gw + ni] > v {
                return false;
            }
        }
    }
    true
}

/// Candidate cells of an objectness plane: local maxima whose score is at least
/// `threshold`, as `(j, i, score)`. Non-finite logits are never candidates.
fn candidates(
    obj: &[f32],
    gh: usize,
    gw: usize,
    threshold: f32,
) -> impl Iterator<Item = (usize, usize, f32)> + '_ {
    (0..gh)
        .flat_map(move |j| (0..gw).map(move |i| (j, i)))
        .filter_map(move |(j, i)| {
            let logit = obj[j * gw + i];
            let score = sigmoid(logit);
            (logit.is_finite() && score >= threshold && is_local_max(obj, gh, gw, j, i))
                .then_some((j, i, score))
        })
}

/// Decodes the plate head `[14, gh, gw]` (channel-major, as the network writes
/// it) into plates in input pixels, appended to `out` (not yet NMSed).
pub fn decode_plates(
    head: &[f32],
    gh: usize,
    gw: usize,
    stride: f32,
    threshold: f32,
    out: &mut Vec<PlateBox>,
) {
    let plane = gh * gw;
    if gh == 0 || gw == 0 || head.len() < PLATE_CHANNELS * plane {
        return;
    }
    let ch = |c: usize, j: usize, i: usize| head[c * plane + j * gw + i];
    for (j, i, score) in candidates(&head[..plane], gh, gw, threshold) {
        let (ci, cj) = (i as f32 + 0.5, j as f32 + 0.5);
        let bbox = BBox::from_center(
            (ci + ch(2, j, i)) * stride,
            (cj + ch(3, j, i)) * stride,
            ch(4, j, i).exp() * stride,
            ch(5, j, i).exp() * stride,
        );
        let corner = |k: usize| Point {
            x: (ci + ch(6 + 2 * k, j, i)) * stride,
            y: (cj + ch(7 + 2 * k, j, i)) * stride,
        };
        let corners = [corner(0), corner(1), corner(2), corner(3)];
        let finite = [bbox.x1, bbox.y1, bbox.x2, bbox.y2]
            .iter()
            .chain(corners.iter().flat_map(|c| [&c.x, &c.y]))
            .all(|v| v.is_finite());
        if finite {
            out.push(PlateBox {
                bbox,
                corners,
                double_row: sigmoid(ch(1, j, i)) >= 0.5,
                score,
            });
        }
    }
}

/// Decodes the region head `[10, gh, gw]` into vehicles and loads in input
/// pixels, appended to `vehicles` and `loads` (not yet NMSed).
pub fn decode_regions(
    head: &[f32],
    gh: usize,
    gw: usize,
    stride: f32,
    threshold: f32,
    vehicles: &mut Vec<Region>,
    loads: &mut Vec<Region>,
) {
    let plane = gh * gw;
    if gh == 0 || gw == 0 || head.len() < REGION_CHANNELS * plane {
        return;
    }
    let ch = |c: usize, j: usize, i: usize| head[c * plane + j * gw + i];
    for (class, out) in [(0, vehicles), (1, loads)] {
        let obj = &head[class * plane..(class + 1) * plane];
        let base = 2 + 4 * class;
        for (j, i, score) in candidates(obj, gh, gw, threshold) {
            let bbox = BBox::from_center(
                (i as f32 + 0.5 + ch(base, j, i)) * stride,
                (j as f32 + 0.5 + ch(base + 1, j, i)) * stride,
                ch(base + 2, j, i).exp() * stride,
                ch(base + 3, j, i).exp() * stride,
            );
            if [bbox.x1, bbox.y1, bbox.x2, bbox.y2]
                .iter()
                .all(|v| v.is_finite())
            {
                out.push(Region { bbox, score });
            }
        }
    }
}

/// Something [`nms`] can rank and compare.
pub trait Scored {
    /// The box NMS compares.
    fn bbox(&self) -> &BBox;
    /// The score NMS ranks by.
    fn score(&self) -> f32;
}

impl Scored for PlateBox {
    fn bbox(&self) -> &BBox {
        &self.bbox
    }
    fn score(&self) -> f32 {
        self.score
    }
}

impl Scored for Region {
    fn bbox(&self) -> &BBox {
        &self.bbox
    }
    fn score(&self) -> f32 {
        self.score
    }
}

/// Greedy non-maximum suppression in place: sorts by descending score
/// (`total_cmp`, so a NaN cannot scramble the order) and keeps a box only if its
/// IoU with every box kept before it is `<= iou`.
pub fn nms<T: Scored>(items: &mut Vec<T>, iou: f32) {
    items.sort_by(|a, b| b.score().total_cmp(&a.score()));
    let mut kept = 0;
    for k in 0..items.len() {
        if items[..kept]
            .iter()
            .all(|w| w.bbox().iou(items[k].bbox()) <= iou)
        {
            items.swap(kept, k);
            kept += 1;
        }
    }
    items.truncate(kept);
}

/// Runs `decode` on a head output's values (tract writes them contiguous).
fn with_head<R>(head: &TValue, name: &str, decode: impl FnOnce(&[f32]) -> R) -> Result<R, Error> {
    let view = head.to_plain_array_view::<f32>().map_err(inference)?;
    let values = view
        .as_slice()
        .ok_or_else(|| inference(anyhow::anyhow!("{name} output not contiguous")))?;
    Ok(decode(values))
}

/// The head shapes the manifest implies: `[1, 14, H/8, W/8]`, `[1, 10, H/16, W/16]`.
fn head_shapes(s: &PlateDetectorSpec) -> ([usize; 4], [usize; 4]) {
    let (h, w) = (s.height as usize, s.width as usize);
    let (ps, rs) = (s.plate_stride as usize, s.region_stride as usize);
    (
        [1, PLATE_CHANNELS, h / ps, w / ps],
        [1, REGION_CHANNELS, h / rs, w / rs],
    )
}

/// The plate / vehicle / load detector, loaded once and ready to run.
///
/// `Send + Sync`. Its run state and buffers sit behind a mutex: concurrent calls
/// wait for each other. Give each worker thread its own detector with
/// [`PlateDetector::try_clone`] (the network is shared, not copied).
#[derive(Debug)]
pub struct PlateDetector {
    spec: PlateDetectorSpec,
    /// The run state's extra buffers: decoded detections, reused frame after frame.
    net: Network<Detections>,
}

impl PlateDetector {
    /// Loads the detector ONNX at `path` and the `[plate_detector]` table of the
    /// `manifest.toml` beside it; pins the input, optimises, plans, and checks the
    /// output shapes against the manifest on a blank frame.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let onnx = runtime::read_model(path)?;
        let spec = PlateDetectorSpec::load(path.with_file_name("manifest.toml"))?;
        Self::from_onnx(&onnx, spec, path)
    }

    /// Builds a detector from ONNX bytes and a spec in hand; `path` only names
    /// the model in errors.
    pub fn from_onnx(onnx: &[u8], spec: PlateDetectorSpec, path: &Path) -> Result<Self, Error> {
        let (p, r) = head_shapes(&spec);
        let size = (spec.height as usize, spec.width as usize);
        let net = Network::load(onnx, &OUTPUTS, size, &[p.to_vec(), r.to_vec()], path)?;
        Ok(PlateDetector { spec, net })
    }

    /// Another detector over the same loaded network, with its own run state.
    pub fn try_clone(&self) -> Result<Self, Error> {
        Ok(PlateDetector {
            spec: self.spec.clone(),
            net: self.net.try_clone()?,
        })
    }

    /// What the manifest said about the network.
    pub fn spec(&self) -> &PlateDetectorSpec {
        &self.spec
    }

    /// The plate cut out of the full-resolution `frame` for the reader, with the
    /// manifest's `reader_crop_margin` ([`rectify_plate`]).
    pub fn rectify(&self, frame: &RgbImage, plate: &PlateBox) -> RgbImage {
        rectify_plate(frame, plate, self.spec.reader_crop_margin)
    }

    /// Replaces the manifest's tiling: `None` gives one pass per frame (a camera
    /// whose plates are large enough in the letterbox), `Some` a second look.
    pub fn set_tiling(&mut self, tiling: Option<Tiling>) {
        self.spec.tiling = tiling;
    }

    /// Finds plates, vehicles and loads in a frame of any size and pixel format.
    ///
    /// A frame with no pixels is [`Error::EmptyImage`]; one more than
    /// 8 times the input on a side is box-sampled down first (aspect kept).
    pub fn detect<C: Crop + ?Sized>(&self, frame: &C) -> Result<Detections, Error> {
        let mut dets = Detections::default();
        self.detect_into(frame, &mut dets)?;
        Ok(dets)
    }

    /// [`detect`](Self::detect) into a caller's buffers (cleared first), for a
    /// hot loop that wants no per-frame allocation of the lists.
    pub fn detect_into<C: Crop + ?Sized>(
        &self,
        frame: &C,
        out: &mut Detections,
    ) -> Result<(), Error> {
        out.clear();
        let crop = frame.crop_ref();
        let (fw, fh) = crop.dimensions();
        if fw == 0 || fh == 0 {
            return Err(Error::EmptyImage {
                width: fw,
                height: fh,
            });
        }
        let (in_w, in_h) = (self.spec.width, self.spec.height);
        // Bound the frame with its aspect kept, so the letterbox scale stays one number.
        let k = (f64::from(in_w * MAX_OVERSAMPLE) / f64::from(fw))
            .min(f64::from(in_h * MAX_OVERSAMPLE) / f64::from(fh))
            .min(1.0);
        let (bw, bh) = (
            ((f64::from(fw) * k).round() as u32).max(1),
            ((f64::from(fh) * k).round() as u32).max(1),
        );
        let rgb = preprocess::bounded_rgb(crop, bw, bh)?;

        let mut scratch = self.net.lock();
        let (lb, outputs) =
            scratch.run(|dst| letterbox_into(&rgb, in_w, in_h, self.spec.pad, dst))?;

        let (_, r) = head_shapes(&self.spec);
        let dets = &mut scratch.extra;
        dets.clear();
        self.decode_plate_head(&outputs[0], self.spec.score_threshold, &mut dets.plates)?;
        with_head(&outputs[1], "region", |region| {
            decode_regions(
                region,
                r[2],
                r[3],
                self.spec.region_stride as f32,
                self.spec.region_score_threshold,
                &mut dets.vehicles,
                &mut dets.loads,
            )
        })?;
        nms(&mut dets.plates, self.spec.nms_iou);
        nms(&mut dets.vehicles, self.spec.region_nms_iou);
        nms(&mut dets.loads, self.spec.region_nms_iou);
        // In the bounded frame's pixels from here on.
        lb.unletterbox(dets);

        if let Some(tiling) = &self.spec.tiling {
            let windows = tiling.windows(rgb.width(), rgb.height(), in_w, in_h, lb.scale);
            let mut found = Vec::new();
            for window in &windows {
                self.tile_plates(&mut scratch, &rgb, *window, tiling, &mut found)?;
            }
            let dets = &mut scratch.extra;
            dets.plates.append(&mut found);
            nms(&mut dets.plates, self.spec.nms_iou);
        }

        // The bounding step undone: frame pixels are the caller's frame.
        let bounded = Letterbox {
            scale: rgb.width() as f32 / fw as f32,
            frame_w: fw,
            frame_h: fh,
        };
        let dets = &mut scratch.extra;
        bounded.unletterbox(dets);
        out.plates.extend_from_slice(&dets.plates);
        out.vehicles.extend_from_slice(&dets.vehicles);
        out.loads.extend_from_slice(&dets.loads);
        Ok(())
    }

    /// Decodes a run's plate head into `out` (input pixels, not yet NMSed).
    fn decode_plate_head(
        &self,
        head: &TValue,
        threshold: f32,
        out: &mut Vec<PlateBox>,
    ) -> Result<(), Error> {
        let (p, _) = head_shapes(&self.spec);
        with_head(head, "plate", |plate| {
            decode_plates(
                plate,
                p[2],
                p[3],
                self.spec.plate_stride as f32,
                threshold,
                out,
            )
        })
    }

    /// Plates found in one tiling window `[x, y, w, h]` of `frame`, appended to
    /// `out` in `frame` pixels. A plate that touches a window edge inside the
    /// frame is cut by it: it is left to a neighbouring window or the full pass.
    fn tile_plates(
        &self,
        scratch: &mut RunState<Detections>,
        frame: &RgbImage,
        [x, y, w, h]: [u32; 4],
        tiling: &Tiling,
        out: &mut Vec<PlateBox>,
    ) -> Result<(), Error> {
        let tile = imageops::crop_imm(frame, x, y, w, h).to_image();
        let (in_w, in_h) = (self.spec.width, self.spec.height);
        let (lb, outputs) =
            scratch.run(|dst| letterbox_into(&tile, in_w, in_h, self.spec.pad, dst))?;
        let mut plates = Vec::new();
        self.decode_plate_head(&outputs[0], tiling.score_threshold, &mut plates)?;
        plates.retain(|p| p.bbox.width() <= tiling.max_plate_width);
        nms(&mut plates, self.spec.nms_iou);
        let (mx, my) = (TILE_EDGE * w as f32, TILE_EDGE * h as f32);
        let (fw, fh) = frame.dimensions();
        for mut plate in plates {
            let b = lb.box_to_frame(plate.bbox);
            let cut = (b.x1 < mx && x > 0)
                || (b.x2 > w as f32 - mx && x + w < fw)
                || (b.y1 < my && y > 0)
                || (b.y2 > h as f32 - my && y + h < fh);
            if cut {
                continue;
            }
            let (ox, oy) = (x as f32, y as f32);
            plate.bbox = BBox {
                x1: b.x1 + ox,
                y1: b.y1 + oy,
                x2: b.x2 + ox,
                y2: b.y2 + oy,
            };
            for c in &mut plate.corners {
                let q = lb.to_frame(*c);
                *c = Point {
                    x: q.x + ox,
                    y: q.y + oy,
                };
            }
            out.push(plate);
        }
        Ok(())
    }
}

/// The point `m` maps `(u, v)` to; `None` where it has no finite image (on the
/// homography's line at infinity).
pub(crate) fn project(m: &[f64; 9], u: f64, v: f64) -> Option<(f64, f64)> {
    let z = m[6] * u + m[7] * v + m[8];
    let (x, y) = (
        (m[0] * u + m[1] * v + m[2]) / z,
        (m[3] * u + m[4] * v + m[5]) / z,
    );
    (x.is_finite() && y.is_finite()).then_some((x, y))
}

/// Solves the 8x8 system of the homography mapping `from[k]` onto `to[k]`
/// (`h33 = 1`), by Gaussian elimination with partial pivoting. `None` when the
/// points are degenerate (three collinear, repeated).
pub(crate) fn homography(from: [(f64, f64); 4], to: [(f64, f64); 4]) -> Option<[f64; 9]> {
    let mut a = [[0.0f64; 9]; 8];
    for k in 0..4 {
        let ((x, y), (u, v)) = (from[k], to[k]);
        a[2 * k] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * k + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    for col in 0..8 {
        let pivot = (col..8).max_by(|&r, &s| a[r][col].abs().total_cmp(&a[s][col].abs()))?;
        if a[pivot][col].abs() < 1e-9 {
            return None;
        }
        a.swap(col, pivot);
        for row in 0..8 {
            if row != col {
                let f = a[row][col] / a[col][col];
                if f != 0.0 {
                    let pivot_row = a[col];
                    for (x, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                        *x -= f * p;
                    }
                }
            }
        }
    }
    let mut h = [1.0; 9];
    for (k, row) in a.iter().enumerate() {
        h[k] = row[8] / row[k];
    }
    h.iter().all(|v| v.is_finite()).then_some(h)
}

/// Bilinear sample of `img` at `(x, y)` (pixel centres at integer + 0.5),
/// coordinates clamped to the image (edge pixels replicated).
pub(crate) fn sample_bilinear(img: &RgbImage, x: f64, y: f64) -> Rgb<u8> {
    let (w, h) = img.dimensions();
    let fx = (x - 0.5).clamp(0.0, f64::from(w - 1));
    let fy = (y - 0.5).clamp(0.0, f64::from(h - 1));
    let (x0, y0) = (fx.floor() as u32, fy.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (tx, ty) = (fx - f64::from(x0), fy - f64::from(y0));
    let (p00, p10, p01, p11) = (
        img.get_pixel(x0, y0).0,
        img.get_pixel(x1, y0).0,
        img.get_pixel(x0, y1).0,
        img.get_pixel(x1, y1).0,
    );
    Rgb(std::array::from_fn(|c| {
        let top = f64::from(p00[c]) * (1.0 - tx) + f64::from(p10[c]) * tx;
        let bottom = f64::from(p01[c]) * (1.0 - tx) + f64::from(p11[c]) * tx;
        (top * (1.0 - ty) + bottom * ty).round().clamp(0.0, 255.0) as u8
    }))
}

/// The size of the rectangle a corner quad TL, TR, BR, BL is rectified onto:
/// width `max(|TR-TL|, |BR-BL|)`, height `max(|BL-TL|, |BR-TR|)`.
pub(crate) fn quad_size(q: &[(f64, f64); 4]) -> (f64, f64) {
    let dist = |a: (f64, f64), b: (f64, f64)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    (
        dist(q[0], q[1]).max(dist(q[3], q[2])),
        dist(q[0], q[3]).max(dist(q[1], q[2])),
    )
}

/// The plate cut out of the full-resolution `frame` for the reader: the corner
/// quad TL, TR, BR, BL warped onto a rectangle of width `max(|TR-TL|, |BR-BL|)`
/// and height `max(|BL-TL|, |BR-TR|)`, plus `margin[0]` of the width left and
/// right and `margin[1]` of the height above and below (the manifest's
/// `reader_crop_margin`; [`PlateDetector::rectify`] passes it). Pixels outside
/// the frame repeat its edge.
///
/// Corners that make no quad (collinear, repeated, non-finite) fall back to the
/// axis-aligned box. Never fails: an empty frame gives a 1 x 1 black crop.
pub fn rectify_plate(frame: &RgbImage, plate: &PlateBox, margin: [f32; 2]) -> RgbImage {
    let (fw, fh) = frame.dimensions();
    if fw == 0 || fh == 0 {
        return RgbImage::new(1, 1);
    }
    let q = plate.corners.map(|p| (f64::from(p.x), f64::from(p.y)));
    let (w, h) = quad_size(&q);
    let (mx, my) = (f64::from(margin[0]) * w, f64::from(margin[1]) * h);
    let dst = [(mx, my), (mx + w, my), (mx + w, my + h), (mx, my + h)];
    // Output pixel → frame point.
    let warp = (w.is_finite() && h.is_finite() && w >= 1.0 && h >= 1.0)
        .then(|| homography(dst, q))
        .flatten();
    let Some(m) = warp else {
        return crop_box(frame, &plate.bbox);
    };
    let side =
        |v: f64, min: u32| (v.round().clamp(f64::from(min), f64::from(MAX_CROP_SIDE))) as u32;
    let (out_w, out_h) = (side(w + 2.0 * mx, 8), side(h + 2.0 * my, 4));
    // When the crop was capped, sample the full quad on the smaller grid.
    let (sx, sy) = (
        (w + 2.0 * mx) / f64::from(out_w),
        (h + 2.0 * my) / f64::from(out_h),
    );
    RgbImage::from_fn(out_w, out_h, |ox, oy| {
        let (u, v) = ((f64::from(ox) + 0.5) * sx, (f64::from(oy) + 0.5) * sy);
        match project(&m, u, v) {
            Some((x, y)) => sample_bilinear(frame, x, y),
            None => Rgb([0, 0, 0]),
        }
    })
}

/// The pixels of `bbox` (rounded to integers, clamped to the frame, at least
/// 1 x 1): the cargo classifier's crop and [`rectify_plate`]'s fallback.
pub fn crop_box(frame: &RgbImage, bbox: &BBox) -> RgbImage {
    let (fw, fh) = frame.dimensions();
    if fw == 0 || fh == 0 {
        return RgbImage::new(1, 1);
    }
    let round = |v: f32, max: u32| {
        if v.is_finite() {
            (v.round().max(0.0) as u32).min(max)
        } else {
            0
        }
    };
    let x1 = round(bbox.x1, fw - 1);
    let y1 = round(bbox.y1, fh - 1);
    let x2 = round(bbox.x2, fw).max(x1 + 1);
    let y2 = round(bbox.y2, fh).max(y1 + 1);
    imageops::crop_imm(frame, x1, y1, x2 - x1, y2 - y1).to_image()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(x1: f32, y1: f32, x2: f32, y2: f32) -> BBox {
        BBox { x1, y1, x2, y2 }
    }

    #[test]
    fn letterbox_round_trip_recovers_frame_coordinates() {
        for (fw, fh) in [(1920, 1080), (3392, 2072), (640, 384), (100, 900), (1, 1)] {
            let (lb, nw, nh) = Letterbox::fit(fw, fh, 640, 384);
            assert!(
                nw <= 640 && nh <= 384 && (nw == 640 || nh == 384),
                "{fw}x{fh} -> {nw}x{nh}"
            );
            let p = Point {
                x: fw as f32 * 0.37,
                y: fh as f32 * 0.81,
            };
            let back = lb.to_frame(lb.to_input(p));
            assert!(
                (back.x - p.x).abs() < 1e-3 * fw as f32 && (back.y - p.y).abs() < 1e-3 * fh as f32
            );
            let b = bx(
                fw as f32 * 0.1,
                fh as f32 * 0.2,
                fw as f32 * 0.5,
                fh as f32 * 0.6,
            );
            let input = bx(
                b.x1 * lb.scale,
                b.y1 * lb.scale,
                b.x2 * lb.scale,
                b.y2 * lb.scale,
            );
            let f = lb.box_to_frame(input);
            assert!(f.iou(&b) > 0.999, "{f:?} vs {b:?}");
        }
    }

    #[test]
    fn letterbox_pastes_top_left_and_pads_the_rest() {
        let frame = RgbImage::from_pixel(1280, 384, Rgb([255, 0, 0]));
        let mut dst = vec![0.0; 3 * 640 * 384];
        let lb = letterbox_into(&frame, 640, 384, 0.5, &mut dst);
        assert_eq!(lb.scale, 0.5);
        let plane = 640 * 384;
        // Content: rows 0..192, red.
        assert_eq!(dst[0], 1.0);
        assert_eq!(dst[plane], 0.0);
        assert_eq!(dst[191 * 640 + 639], 1.0);
        // Padding below.
        assert_eq!(dst[192 * 640], 0.5);
        assert_eq!(dst[2 * plane + 383 * 640 + 639], 0.5);
        // Boxes clamp to the frame; corners do not.
        let mut dets = Detections {
            plates: vec![PlateBox {
                bbox: bx(-4.0, 10.0, 700.0, 20.0),
                corners: [Point { x: -4.0, y: 10.0 }; 4],
                double_row: false,
                score: 0.9,
            }],
            ..Default::default()
        };
        lb.unletterbox(&mut dets);
        assert_eq!(dets.plates[0].bbox, bx(0.0, 20.0, 1280.0, 40.0));
        assert_eq!(dets.plates[0].corners[0], Point { x: -8.0, y: 20.0 });
    }

    #[test]
    fn nms_keeps_the_highest_and_drops_overlaps() {
        let r = |x: f32, score: f32| Region {
            bbox: bx(x, 0.0, x + 10.0, 10.0),
            score,
        };
        let mut v = vec![
            r(0.0, 0.5),
            r(1.0, 0.9),
            r(50.0, 0.3),
            r(2.0, f32::NAN),
            r(0.5, 0.7),
        ];
        nms(&mut v, 0.45);
        let scores: Vec<f32> = v.iter().map(|d| d.score).collect();
        // NaN sorts above everything with total_cmp (positive NaN): it is kept
        // first and suppresses its overlaps; what matters is a stable, total order.
        assert!(scores[0].is_nan(), "{scores:?}");
        assert_eq!(&scores[1..], &[0.3]);
        let mut v = vec![
            r(0.0, 0.5),
            r(1.0, 0.9),
            r(50.0, 0.3),
            r(0.5, 0.7),
            r(3.0, 0.8),
        ];
        nms(&mut v, 0.45);
        assert_eq!(v, vec![r(1.0, 0.9), r(50.0, 0.3)]);
        // A box at exactly the threshold is kept (drop only when IoU > nms_iou).
        let mut v = vec![r(0.0, 0.9), r(5.0, 0.8)];
        let iou = v[0].bbox.iou(&v[1].bbox);
        nms(&mut v, iou);
        assert_eq!(v.len(), 2);
    }

    /// A hand-made `[14, 3, 4]` plate head: one plate at cell (1, 2), a weaker
    /// neighbour that is not a local maximum, one cell below threshold.
    #[test]
    fn decode_plates_reads_a_hand_made_tensor() {
        let (gh, gw) = (3, 4);
        let plane = gh * gw;
        let mut head = vec![-10.0f32; PLATE_CHANNELS * plane];
        let at = |c: usize, j: usize, i: usize| c * plane + j * gw + i;
        head[at(0, 1, 2)] = 2.0; // score 0.88
        head[at(0, 1, 1)] = 1.0; // neighbour of a stronger cell
        head[at(0, 0, 0)] = -2.0; // local max but below threshold (0.12)
        head[at(1, 1, 2)] = 3.0; // double row
        head[at(2, 1, 2)] = 0.25; // dx
        head[at(3, 1, 2)] = -0.5; // dy
        head[at(4, 1, 2)] = 2f32.ln(); // w = 2 * 8
        head[at(5, 1, 2)] = 0.0; // h = 8
        let corners = [(-1.0, -0.5), (1.0, -0.5), (1.0, 0.5), (-1.0, 0.5)];
        for (k, (cx, cy)) in corners.into_iter().enumerate() {
            head[at(6 + 2 * k, 1, 2)] = cx;
            head[at(7 + 2 * k, 1, 2)] = cy;
        }
        let mut out = Vec::new();
        decode_plates(&head, gh, gw, 8.0, 0.3, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        let p = &out[0];
        assert!((p.score - sigmoid(2.0)).abs() < 1e-6);
        assert!(p.double_row);
        // centre ((2 + 0.5 + 0.25) * 8, (1 + 0.5 - 0.5) * 8) = (22, 8); size 16 x 8.
        let want = bx(14.0, 4.0, 30.0, 12.0);
        assert!(p.bbox.iou(&want) > 0.999, "{:?}", p.bbox);
        assert_eq!(p.corners[0], Point { x: 12.0, y: 8.0 });
        assert_eq!(p.corners[2], Point { x: 28.0, y: 16.0 });
        // A short tensor decodes to nothing rather than panicking.
        decode_plates(&head[..10], gh, gw, 8.0, 0.3, &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn decode_regions_splits_vehicles_and_loads() {
        let (gh, gw) = (2, 2);
        let plane = gh * gw;
        let mut head = vec![-10.0f32; REGION_CHANNELS * plane];
        let at = |c: usize, j: usize, i: usize| c * plane + j * gw + i;
        head[at(0, 0, 0)] = 3.0;
        head[at(1, 1, 1)] = 3.0;
        for c in 2..REGION_CHANNELS {
            head[at(c, 0, 0)] = 0.0;
            head[at(c, 1, 1)] = 0.0;
        }
        let (mut v, mut l) = (Vec::new(), Vec::new());
        decode_regions(&head, gh, gw, 16.0, 0.5, &mut v, &mut l);
        assert_eq!(v.len(), 1);
        assert_eq!(l.len(), 1);
        assert_eq!(v[0].bbox, bx(0.0, 0.0, 16.0, 16.0));
        assert_eq!(l[0].bbox, bx(16.0, 16.0, 32.0, 32.0));
    }

    #[test]
    fn rectify_straightens_a_tilted_quad() {
        // A white parallelogram on black: the warp should give mostly white inside
        // the margins.
        let mut frame = RgbImage::new(200, 100);
        let quad = [
            Point { x: 50.0, y: 30.0 },
            Point { x: 150.0, y: 40.0 },
            Point { x: 150.0, y: 70.0 },
            Point { x: 50.0, y: 60.0 },
        ];
        for (x, y, p) in frame.enumerate_pixels_mut() {
            let (xf, yf) = (x as f32 + 0.5, y as f32 + 0.5);
            let top = 30.0 + (xf - 50.0) * 0.1;
            if (50.0..150.0).contains(&xf) && yf >= top && yf < top + 30.0 {
                *p = Rgb([255, 255, 255]);
            }
        }
        let plate = PlateBox {
            bbox: bx(50.0, 30.0, 150.0, 70.0),
            corners: quad,
            double_row: false,
            score: 1.0,
        };
        let crop = rectify_plate(&frame, &plate, DEFAULT_READER_CROP_MARGIN);
        let w = (100f32.powi(2) + 10f32.powi(2)).sqrt();
        assert_eq!(crop.width(), (w * 1.08).round() as u32);
        assert_eq!(crop.height(), (30.0f32 * 1.16).round() as u32);
        // The centre and the inner corners are white; the margin corners are black.
        let (cw, ch) = crop.dimensions();
        assert_eq!(crop.get_pixel(cw / 2, ch / 2).0, [255; 3]);
        assert!(crop.get_pixel(cw / 10, ch / 5).0[0] > 200);
        assert!(crop.get_pixel(cw - cw / 10, ch - ch / 5).0[0] > 200);
        assert!(crop.get_pixel(0, 0).0[0] < 60);
        // Degenerate corners fall back to the box; an empty frame gives 1 x 1.
        let flat = PlateBox {
            corners: [Point { x: 5.0, y: 5.0 }; 4],
            ..plate.clone()
        };
        let rectify = |frame: &RgbImage, plate: &PlateBox| {
            rectify_plate(frame, plate, DEFAULT_READER_CROP_MARGIN)
        };
        assert_eq!(rectify(&frame, &flat).dimensions(), (100, 40));
        assert_eq!(rectify(&RgbImage::new(0, 0), &plate).dimensions(), (1, 1));
        let wild = PlateBox {
            corners: [Point {
                x: f32::NAN,
                y: 1e30,
            }; 4],
            ..plate
        };
        assert_eq!(rectify(&frame, &wild).dimensions(), (100, 40));
    }

    #[test]
    fn the_crop_margin_widens_the_rectified_plate() {
        let frame = RgbImage::from_pixel(200, 100, Rgb([90, 90, 90]));
        let plate = PlateBox {
            bbox: bx(50.0, 30.0, 150.0, 60.0),
            corners: [(50.0, 30.0), (150.0, 30.0), (150.0, 60.0), (50.0, 60.0)]
                .map(|(x, y)| Point { x, y }),
            double_row: false,
            score: 1.0,
        };
        assert_eq!(
            rectify_plate(&frame, &plate, [0.0, 0.0]).dimensions(),
            (100, 30)
        );
        assert_eq!(
            rectify_plate(&frame, &plate, [0.1, 0.2]).dimensions(),
            (120, 42)
        );
    }

    #[test]
    fn homography_maps_the_four_points() {
        let from = [(0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0)];
        let to = [(3.0, 4.0), (20.0, 6.0), (19.0, 15.0), (2.0, 12.0)];
        let m = homography(from, to).unwrap();
        for (f, t) in from.iter().zip(to) {
            let z = m[6] * f.0 + m[7] * f.1 + m[8];
            assert!(((m[0] * f.0 + m[1] * f.1 + m[2]) / z - t.0).abs() < 1e-6);
            assert!(((m[3] * f.0 + m[4] * f.1 + m[5]) / z - t.1).abs() < 1e-6);
        }
        assert!(homography(from, [(1.0, 1.0); 4]).is_none());
    }

    #[test]
    fn spec_reads_the_table_and_refuses_a_broken_one() {
        let toml = r#"
            [plate_reader]
            input = [32, 128]
            [plate_detector]
            input = [384, 640]
            letterbox_pad_f32 = 0.44705883
            plate_stride = 8
            region_stride = 16
            plate_channels = ["obj", "double", "dx", "dy", "log_w", "log_h", "tl_x", "tl_y", "tr_x", "tr_y", "br_x", "br_y", "bl_x", "bl_y"]
            region_classes = ["vehicle", "load"]
            score_threshold = 0.3
            nms_iou = 0.45
            region_score_threshold = 0.3
            region_nms_iou = 0.5
            [plate_detector.metrics]
            recall = 0.9
        "#;
        let spec = PlateDetectorSpec::from_toml(toml).unwrap();
        assert_eq!((spec.height, spec.width, spec.plate_stride), (384, 640, 8));
        assert!(
            PlateDetectorSpec::from_toml("[plate_reader]\ninput = [1, 2]")
                .unwrap_err()
                .to_string()
                .contains("no [plate_detector]")
        );
        let bad = toml.replace("region_stride = 16", "region_stride = 7");
        assert!(PlateDetectorSpec::from_toml(&bad).is_err());
        assert_eq!(spec.tiling, None, "no table, no second look");
        assert_eq!(spec.reader_crop_margin, DEFAULT_READER_CROP_MARGIN);
        let margin = toml.replace(
            "nms_iou = 0.45",
            "nms_iou = 0.45\nreader_crop_margin = [0.1, 0.15]",
        );
        let spec = PlateDetectorSpec::from_toml(&margin).unwrap();
        assert_eq!(spec.reader_crop_margin, [0.1, 0.15]);
        let bad = margin.replace("[0.1, 0.15]", "[0.1, -0.2]");
        let e = PlateDetectorSpec::from_toml(&bad).unwrap_err().to_string();
        assert!(e.contains("reader_crop_margin"), "{e}");

        let tiled = toml.replace(
            "[plate_detector.metrics]",
            "[plate_detector.tiling]\ngain = 2.0\noverlap = 0.2\nscore_threshold = 0.5\nmax_tiles = 12\nmax_plate_width = 160.0\n[plate_detector.metrics]",
        );
        let t = PlateDetectorSpec::from_toml(&tiled)
            .unwrap()
            .tiling
            .unwrap();
        assert_eq!((t.gain, t.max_tiles), (2.0, 12));
        for broken in ["gain = 0.5", "overlap = 0.95", "max_tiles = 0"] {
            let key = broken.split(' ').next().unwrap();
            let line = tiled.lines().find(|l| l.starts_with(key)).unwrap();
            let bad = tiled.replace(line, broken);
            let e = PlateDetectorSpec::from_toml(&bad).unwrap_err().to_string();
            assert!(e.contains("tiling"), "{broken}: {e}");
        }

        assert_eq!(spec.recrop, None, "no table, one cut per quad");
        let recrop = |table: &str| {
            PlateDetectorSpec::from_toml(&toml.replace(
                "[plate_detector.metrics]",
                &format!("[plate_detector.recrop]\n{table}\n[plate_detector.metrics]"),
            ))
        };
        let r = recrop("margins = [[0.02, 0.08], [0.06, 0.08]]\nbelow = 0.99")
            .unwrap()
            .recrop
            .unwrap();
        assert_eq!(r.margins, [[0.02, 0.08], [0.06, 0.08]]);
        assert_eq!(r.below, 0.99);
        for broken in [
            "margins = [[0.02, 0.8]]\nbelow = 0.99",
            "margins = [[0.02, 0.08]]\nbelow = 1.5",
            "margins = [[0.02]]\nbelow = 0.99",
            "margins = [[0.02, 0.08]]",
        ] {
            let e = recrop(broken).unwrap_err().to_string();
            assert!(e.contains("recrop"), "{broken}: {e}");
        }
    }

    fn tiling() -> Tiling {
        Tiling {
            gain: 2.0,
            overlap: 0.2,
            score_threshold: 0.5,
            max_tiles: 12,
            max_plate_width: 160.0,
        }
    }

    #[test]
    fn tiling_windows_cover_the_frame_at_the_higher_scale() {
        // A portrait phone photo: full scale 384 / 3968, tiles at twice that.
        let (fw, fh) = (2976, 3968);
        let (lb, _, _) = Letterbox::fit(fw, fh, 640, 384);
        let wins = tiling().windows(fw, fh, 640, 384, lb.scale);
        assert!(!wins.is_empty());
        let t = lb.scale * 2.0;
        for &[x, y, w, h] in &wins {
            assert!(x + w <= fw && y + h <= fh, "inside the frame");
            // The window letterboxes at the tile scale (clamped to the frame width).
            let (tl, _, _) = Letterbox::fit(w, h, 640, 384);
            assert!((tl.scale - t).abs() / t < 0.01, "{} vs {t}", tl.scale);
        }
        // Every frame pixel lies in some window; neighbours overlap.
        for (px, py) in [(0, 0), (fw - 1, fh - 1), (fw / 2, fh / 2), (7, fh - 9)] {
            assert!(wins
                .iter()
                .any(|&[x, y, w, h]| (x..x + w).contains(&px) && (y..y + h).contains(&py)));
        }
        let ys: Vec<u32> = wins.iter().map(|w| w[1]).collect();
        assert!(ys
            .windows(2)
            .all(|p| p[1] > p[0] && p[1] < p[0] + wins[0][3]));
    }

    #[test]
    fn tiling_skips_frames_already_sharp_or_too_many_windows() {
        let t = tiling();
        // The input's own size: scale 1 already, nothing to gain.
        assert!(t.windows(640, 384, 640, 384, 1.0).is_empty());
        // 720p: scale 0.5 -> tiles at 1.0, 3 x 3 windows of 640 x 384.
        let wins = t.windows(1280, 720, 640, 384, 0.5);
        assert_eq!(wins.len(), 9);
        assert!(wins.iter().all(|w| w[2..] == [640, 384]));
        // More windows than max_tiles: the full pass only.
        let few = Tiling { max_tiles: 4, ..t };
        assert!(few.windows(1280, 720, 640, 384, 0.5).is_empty());
        assert!(t.windows(0, 0, 640, 384, 0.5).is_empty());
    }
}
