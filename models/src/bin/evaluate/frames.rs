//! `evaluate frames` and `evaluate checkpoint`: the plate detector (with the
//! reader and the cargo classifier behind it) on labelled whole frames.
//!
//! ```text
//! evaluate frames DIR --out OUT.csv       # DIR/labels.csv: one row per plate
//! evaluate checkpoint DIR --out OUT.csv   # DIR/labels.csv: one row per frame
//! ```
//!
//! `frames`: plate recall and precision at IoU >= 0.5 (greedy matching by
//! descending score, as `training/detector_eval.py`), and end-to-end exact text
//! (detector → refine the ends → rectify → reader, again at further margins when
//! unsure: [`models::read_detected_plate`])
//! over the labelled plates that have a text.
//! Beside the detector's own figures, the `confirmed_*` ones count only the boxes
//! the reader confirms as plates ([`models::PlateRead::confirms_plate`]: at least
//! [`models::MIN_WHOLE_PLATE_CHARS`] characters, each after the province read
//! with at least [`models::MIN_CONFIRMING_CHAR_CONFIDENCE`]), matched anew among
//! themselves, and the `reported_*` ones only the boxes a checkpoint would
//! report: those it passes on ([`models::scene::assemble`]: each vehicle's
//! plate, and the confirmed plates of no vehicle) whose reading is a GA 36 plate
//! (`hub::api::PlateText`; the checkpoint drops every other reading). The CSV
//! has a row per labelled plate (`tp` or `miss`) and per unmatched box (`fp`),
//! with its reading.
//! JSON: `{"n_frames","n_plates","tp","pred","recall","precision","confirmed_tp",
//! "confirmed","confirmed_recall","confirmed_precision","reported_tp",
//! "reported","reported_recall","reported_precision","n_readable",
//! "end_to_end_exact","ms_per_frame"}`; `ms_per_frame` is `detect` alone
//! (letterbox, network, decode, NMS), single thread, no JPEG decode.
//!
//! `checkpoint`: per frame the plates found (their boxes in the CSV) and read,
//! and the cover and material of the load of the best-scored vehicle that has
//! one (the checkpoint classifies only a vehicle's load); cover accuracy
//! with the labels mapped covered → tarped, partially_covered → partial,
//! uncovered → open, empty → empty.
//! The readings a checkpoint would report are the GA 36 plates among the plates
//! it passes on, as in `frames`; `plates_reported_other` counts those that are
//! not the frame's labelled plate
//! (a misread that names another vehicle, or a plate of an unlabelled vehicle).
//! JSON: `{"n","plate_found","plates_readable","plates_read","plates_reported",
//! "plates_reported_other","cover_known","cover_correct","cover_acc","ms_per_frame"}`;
//! `ms_per_frame` is detect + read every plate + classify, single thread.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use models::{
    read_detected_plate, BBox, CargoClassifier, Cover, PlateBox, PlateDetector, PlateRead,
    PlateReader, MIN_CONFIRMING_CHAR_CONFIDENCE, MIN_WHOLE_PLATE_CHARS,
};
use serde::{Deserialize, Serialize};

/// The three model files of a run.
pub struct ModelPaths {
    pub detector: PathBuf,
    pub reader: PathBuf,
    pub classifier: PathBuf,
    /// Whether the detector keeps the manifest's tiled second look.
    pub tiling: bool,
}

impl ModelPaths {
    /// The detector, with or without its tiling as asked.
    fn detector(&self) -> Result<PlateDetector> {
        let mut detector = PlateDetector::load(&self.detector)
            .with_context(|| format!("loading {}", self.detector.display()))?;
        if !self.tiling {
            detector.set_tiling(None);
        }
        Ok(detector)
    }

    /// Relative defaults are resolved from the repository root (where `make eval`
    /// runs) and, failing that, from this crate's `onnx/` folder.
    pub fn resolve(detector: PathBuf, reader: PathBuf, classifier: PathBuf, tiling: bool) -> Self {
        let fix = |p: PathBuf| {
            if p.exists() || p.is_absolute() {
                return p;
            }
            let here = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("onnx")
                .join(p.file_name().unwrap_or_default());
            if here.exists() {
                here
            } else {
                p
            }
        };
        ModelPaths {
            detector: fix(detector),
            reader: fix(reader),
            classifier: fix(classifier),
            tiling,
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn read_labels<T: for<'de> Deserialize<'de>>(dir: &Path) -> Result<Vec<T>> {
    let path = dir.join("labels.csv");
    let mut r =
        csv::Reader::from_path(&path).with_context(|| format!("opening {}", path.display()))?;
    r.deserialize()
        .collect::<Result<_, _>>()
        .with_context(|| format!("parsing {}", path.display()))
}

/// Opens an image by its content, not its extension (some frames are PNGs
/// named `.jpg`).
fn open_image(path: &Path) -> image::ImageResult<image::DynamicImage> {
    image::ImageReader::open(path)?
        .with_guessed_format()?
        .decode()
}

fn csv_writer(out: &Path) -> Result<csv::Writer<std::fs::File>> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    csv::Writer::from_path(out).with_context(|| format!("creating {}", out.display()))
}

/// A row of `frames/*/labels.csv` (extra columns ignored); empty `x1` = a frame
/// with no plate.
#[derive(Debug, Deserialize)]
struct FrameLabel {
    file: String,
    #[serde(default)]
    plate_text: String,
    #[serde(default)]
    x1: Option<f32>,
    #[serde(default)]
    y1: Option<f32>,
    #[serde(default)]
    x2: Option<f32>,
    #[serde(default)]
    y2: Option<f32>,
}

#[derive(Debug, Serialize)]
struct FrameRow<'a> {
    file: &'a str,
    /// `tp`, `miss` or `fp`.
    outcome: &'static str,
    truth: &'a str,
    read: String,
    /// The reading is a GA 36 plate (what a checkpoint would report).
    valid: bool,
    /// The reader confirms the box as a plate ([`PlateRead::confirms_plate`]).
    confirmed: bool,
    /// The checkpoint passes the box on ([`models::scene::assemble`]): a
    /// vehicle's plate, or a confirmed plate of no vehicle.
    passed_on: bool,
    /// The reading kept is of the plate with its ends refined
    /// ([`models::read_detected_plate`]).
    refined: bool,
    /// Side margin of the kept cut, as a fraction of the plate's width (the
    /// further margins of `[plate_detector.recrop]` when not the reader's own).
    margin: Option<f32>,
    exact: bool,
    /// The reader's confidence (its weakest character).
    read_confidence: Option<f32>,
    /// Each character's confidence, space-separated, in reading order.
    char_confidences: String,
    iou: Option<f32>,
    score: Option<f32>,
    x1: Option<f32>,
    y1: Option<f32>,
    x2: Option<f32>,
    y2: Option<f32>,
    error: String,
}

#[derive(Debug, Serialize)]
pub struct FramesSummary {
    n_frames: usize,
    n_plates: usize,
    tp: usize,
    pred: usize,
    recall: f64,
    precision: f64,
    confirmed_tp: usize,
    confirmed: usize,
    confirmed_recall: f64,
    confirmed_precision: f64,
    reported_tp: usize,
    reported: usize,
    reported_recall: f64,
    reported_precision: f64,
    n_readable: usize,
    end_to_end_exact: f64,
    ms_per_frame: f64,
}

/// A reading the checkpoint would keep: a GA 36 plate number.
fn is_plate(text: &str) -> bool {
    hub::api::PlateText::parse(text).is_ok()
}

/// The frame put together as the checkpoint does ([`models::scene::assemble`]),
/// from the plates' readings (`None`: unreadable).
fn scene_of<'a>(
    dets: &models::Detections,
    reads: impl IntoIterator<Item = Option<&'a PlateRead>>,
) -> models::scene::Scene {
    let readings: Vec<Option<bool>> = reads
        .into_iter()
        .map(|r| {
            r.filter(|r| !r.text.is_empty())
                .map(PlateRead::confirms_plate)
        })
        .collect();
    models::scene::assemble(&dets.vehicles, &dets.plates, &dets.loads, &readings)
}

/// Which of the frame's `n` plates the checkpoint passes on: the vehicles'
/// plates and the confirmed plates of no vehicle.
fn passed_on(scene: &models::scene::Scene, n: usize) -> Vec<bool> {
    let mut passed_on = vec![false; n];
    for k in scene.plates() {
        passed_on[k] = true;
    }
    passed_on
}

/// Greedy matching by descending score: each prediction takes the unmatched
/// truth it overlaps most at IoU >= `thr`. Returns `(pred, truth)` pairs.
fn match_boxes(preds: &[PlateBox], truths: &[BBox], thr: f32) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..preds.len()).collect();
    order.sort_by(|&a, &b| preds[b].score.total_cmp(&preds[a].score));
    let mut used = vec![false; truths.len()];
    let mut pairs = Vec::new();
    for p in order {
        let best = truths
            .iter()
            .enumerate()
            .filter(|(t, _)| !used[*t])
            .map(|(t, b)| (t, preds[p].bbox.iou(b)))
            .filter(|(_, iou)| *iou >= thr)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((t, _)) = best {
            used[t] = true;
            pairs.push((p, t));
        }
    }
    pairs
}

pub fn frames(dir: &Path, out: &Path, m: &ModelPaths) -> Result<FramesSummary> {
    let labels: Vec<FrameLabel> = read_labels(dir)?;
    let detector = m.detector()?;
    let reader =
        PlateReader::load(&m.reader).with_context(|| format!("loading {}", m.reader.display()))?;
    let mut csv_out = csv_writer(out)?;
    // Frames in first-seen order, each with its labelled plates.
    let mut files: Vec<(&str, Vec<&FrameLabel>)> = Vec::new();
    for l in &labels {
        match files.iter_mut().find(|(f, _)| *f == l.file) {
            Some((_, v)) => v.push(l),
            None => files.push((&l.file, vec![l])),
        }
    }
    let (mut n_plates, mut tp, mut pred, mut readable, mut exact) = (0, 0, 0, 0, 0);
    let (mut reported_tp, mut reported) = (0, 0);
    let (mut confirmed_tp, mut confirmed) = (0, 0);
    let (mut ms, mut runs) = (0.0f64, 0usize);
    for (file, rows) in &files {
        let plated: Vec<(&FrameLabel, BBox)> = rows
            .iter()
            .filter_map(|l| match (l.x1, l.y1, l.x2, l.y2) {
                (Some(x1), Some(y1), Some(x2), Some(y2)) => Some((*l, BBox { x1, y1, x2, y2 })),
                _ => None,
            })
            .collect();
        n_plates += plated.len();
        readable += plated
            .iter()
            .filter(|(l, _)| !l.plate_text.trim().is_empty())
            .count();
        let blank = |outcome, truth, error: String| FrameRow {
            file,
            outcome,
            truth,
            read: String::new(),
            valid: false,
            exact: false,
            confirmed: false,
            passed_on: false,
            refined: false,
            margin: None,
            read_confidence: None,
            char_confidences: String::new(),
            iou: None,
            score: None,
            x1: None,
            y1: None,
            x2: None,
            y2: None,
            error,
        };
        let frame = match open_image(&dir.join(file)) {
            Ok(img) => img.to_rgb8(),
            Err(e) => {
                eprintln!("{file}: unreadable image: {e} (its plates count as missed)");
                for (l, _) in &plated {
                    csv_out.serialize(blank(
                        "miss",
                        l.plate_text.trim(),
                        format!("unreadable image: {e}"),
                    ))?;
                }
                continue;
            }
        };
        let start = Instant::now();
        let dets = detector.detect(&frame);
        let took = start.elapsed().as_secs_f64() * 1e3;
        let dets = match dets {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{file}: detect failed: {e}");
                for (l, _) in &plated {
                    csv_out.serialize(blank(
                        "miss",
                        l.plate_text.trim(),
                        format!("detect failed: {e}"),
                    ))?;
                }
                continue;
            }
        };
        ms += took;
        runs += 1;
        pred += dets.plates.len();
        // Every box is read as the checkpoint reads it (read_detected_plate: again
        // with refined ends, again at further margins when unsure): the figures
        // below differ only in which boxes they keep.
        let detected: Vec<Option<models::DetectedRead>> = dets
            .plates
            .iter()
            .map(|p| read_detected_plate(&detector, &reader, &frame, p).ok())
            .collect();
        let reads: Vec<Option<&PlateRead>> = detected
            .iter()
            .map(|d| d.as_ref().map(|d| &d.read))
            .collect();
        let truths: Vec<BBox> = plated.iter().map(|(_, b)| *b).collect();
        let pairs = match_boxes(&dets.plates, &truths, 0.5);
        tp += pairs.len();
        // The boxes the reader confirms, matched on their own: a confirmed box
        // may take a plate that an unconfirmed, higher-scored one took above.
        let confirmed_by_read: Vec<bool> = reads
            .iter()
            .map(|r| r.is_some_and(PlateRead::confirms_plate))
            .collect();
        let confirmed_boxes: Vec<PlateBox> = dets
            .plates
            .iter()
            .zip(&confirmed_by_read)
            .filter(|(_, confirmed)| **confirmed)
            .map(|(p, _)| p.clone())
            .collect();
        confirmed += confirmed_boxes.len();
        confirmed_tp += match_boxes(&confirmed_boxes, &truths, 0.5).len();
        let passed_on = passed_on(&scene_of(&dets, reads.iter().copied()), dets.plates.len());
        let row = |p: usize, outcome, truth, exact, iou| {
            let plate = &dets.plates[p];
            let read = reads[p];
            let text = read.map(|r| r.text.clone()).unwrap_or_default();
            FrameRow {
                valid: is_plate(&text),
                confirmed: confirmed_by_read[p],
                passed_on: passed_on[p],
                refined: detected[p].as_ref().is_some_and(|d| d.refined),
                margin: detected[p].as_ref().map(|d| d.margin[0]),
                read: text,
                exact,
                read_confidence: read.map(|r| r.confidence),
                char_confidences: read.map(crate::char_confidences).unwrap_or_default(),
                iou,
                score: Some(plate.score),
                x1: Some(plate.bbox.x1),
                y1: Some(plate.bbox.y1),
                x2: Some(plate.bbox.x2),
                y2: Some(plate.bbox.y2),
                ..blank(outcome, truth, String::new())
            }
        };
        for (t, (l, b)) in plated.iter().enumerate() {
            let truth = l.plate_text.trim();
            let Some(&(p, _)) = pairs.iter().find(|(_, tt)| *tt == t) else {
                csv_out.serialize(FrameRow {
                    x1: Some(b.x1),
                    y1: Some(b.y1),
                    x2: Some(b.x2),
                    y2: Some(b.y2),
                    ..blank("miss", truth, String::new())
                })?;
                continue;
            };
            let text = reads[p].map(|r| r.text.as_str()).unwrap_or("");
            let ok = !truth.is_empty() && text == truth;
            exact += usize::from(ok);
            let r = row(p, "tp", truth, ok, Some(dets.plates[p].bbox.iou(b)));
            reported_tp += usize::from(r.valid && r.passed_on);
            reported += usize::from(r.valid && r.passed_on);
            csv_out.serialize(r)?;
        }
        for p in (0..dets.plates.len()).filter(|p| !pairs.iter().any(|(pp, _)| pp == p)) {
            let r = row(p, "fp", "", false, None);
            reported += usize::from(r.valid && r.passed_on);
            csv_out.serialize(r)?;
        }
    }
    csv_out
        .flush()
        .with_context(|| format!("writing {}", out.display()))?;
    let s = FramesSummary {
        n_frames: files.len(),
        n_plates,
        tp,
        pred,
        recall: ratio(tp, n_plates),
        precision: ratio(tp, pred),
        confirmed_tp,
        confirmed,
        confirmed_recall: ratio(confirmed_tp, n_plates),
        confirmed_precision: ratio(confirmed_tp, confirmed),
        reported_tp,
        reported,
        reported_recall: ratio(reported_tp, n_plates),
        reported_precision: ratio(reported_tp, reported),
        n_readable: readable,
        end_to_end_exact: ratio(exact, readable),
        ms_per_frame: if runs == 0 { 0.0 } else { ms / runs as f64 },
    };
    println!(
        "frames: {} frames, {} plates: recall {:.3}, precision {:.3} (tp {tp}, pred {pred}); end-to-end exact {exact}/{readable}",
        s.n_frames, s.n_plates, s.recall, s.precision
    );
    println!(
        "frames, boxes the reader confirms (at least {MIN_WHOLE_PLATE_CHARS} characters, each after the first at {MIN_CONFIRMING_CHAR_CONFIDENCE} or more): recall {:.3}, precision {:.3} (tp {confirmed_tp}, confirmed {confirmed})",
        s.confirmed_recall, s.confirmed_precision
    );
    println!(
        "frames, boxes read as a GA 36 plate (what a checkpoint reports): recall {:.3}, precision {:.3} (tp {reported_tp}, reported {reported})",
        s.reported_recall, s.reported_precision
    );
    Ok(s)
}

/// A row of `checkpoint/labels.csv` (extra columns ignored).
#[derive(Debug, Deserialize)]
struct CheckpointLabel {
    file: String,
    #[serde(default)]
    plate_text: String,
    #[serde(default)]
    cover_state_source_label: String,
}

#[derive(Debug, Serialize)]
struct CheckpointRow<'a> {
    file: &'a str,
    want_plate: &'a str,
    plates_found: usize,
    plates_read: String,
    /// Each found plate's box and score, in the order of `plates_read`: where to
    /// look in the frame when a reading is wrong.
    plate_boxes: String,
    /// The readings a checkpoint would report: GA 36 plates among those it passes
    /// on ([`models::scene::assemble`]).
    plates_reported: String,
    plate_read_ok: bool,
    want_cover: String,
    cover: String,
    material: String,
    cover_confidence: Option<f32>,
    material_confidence: Option<f32>,
    cover_ok: bool,
    load_box: String,
    ms: Option<f64>,
    error: String,
}

#[derive(Debug, Serialize)]
pub struct CheckpointSummary {
    n: usize,
    plate_found: usize,
    plates_readable: usize,
    plates_read: usize,
    plates_reported: usize,
    plates_reported_other: usize,
    cover_known: usize,
    cover_correct: usize,
    cover_acc: f64,
    ms_per_frame: f64,
}

/// What the checkpoint evaluation sees in one frame: each plate found with its
/// reading and whether the checkpoint passes it on, and the load of the
/// best-scored vehicle that has one, with its classification.
struct Perceived {
    plates: Vec<(models::PlateBox, String)>,
    passed_on: Vec<bool>,
    load: Option<models::Region>,
    cargo: Option<models::CargoRead>,
}

fn perceive(
    detector: &PlateDetector,
    reader: &PlateReader,
    classifier: &CargoClassifier,
    frame: &image::RgbImage,
) -> Result<Perceived, models::Error> {
    let dets = detector.detect(frame)?;
    let reads: Vec<PlateRead> = dets
        .plates
        .iter()
        .map(|p| read_detected_plate(detector, reader, frame, p).map(|d| d.read))
        .collect::<Result<_, _>>()?;
    let scene = scene_of(&dets, reads.iter().map(Some));
    let passed_on = passed_on(&scene, dets.plates.len());
    let plates = dets
        .plates
        .iter()
        .cloned()
        .zip(reads.into_iter().map(|r| r.text))
        .collect();
    // The checkpoint classifies a load only as a vehicle's: the frame's is the
    // best-scored vehicle's that has one.
    let load = scene.vehicles.iter().find_map(|v| v.load);
    let cargo = load
        .map(|ld| classifier.classify_box(frame, &ld.bbox))
        .transpose()?;
    Ok(Perceived {
        plates,
        passed_on,
        load,
        cargo,
    })
}

/// A box in frame pixels with its score, as the CSV and the report print it.
fn box_text(b: &models::BBox, score: f32) -> String {
    format!(
        "{:.0} {:.0} {:.0} {:.0} ({:.2})",
        b.x1, b.y1, b.x2, b.y2, score
    )
}

pub fn checkpoint(dir: &Path, out: &Path, m: &ModelPaths) -> Result<CheckpointSummary> {
    let labels: Vec<CheckpointLabel> = read_labels(dir)?;
    let detector = m.detector()?;
    let reader =
        PlateReader::load(&m.reader).with_context(|| format!("loading {}", m.reader.display()))?;
    let classifier = CargoClassifier::load(&m.classifier)
        .with_context(|| format!("loading {}", m.classifier.display()))?;
    let mut csv_out = csv_writer(out)?;
    let (mut found, mut readable, mut read_ok, mut cover_known, mut cover_ok) = (0, 0, 0, 0, 0);
    let (mut reported, mut reported_other) = (0, 0);
    let (mut ms, mut runs) = (0.0f64, 0usize);
    for l in &labels {
        let want_plate = l.plate_text.trim();
        let want_cover = Cover::from_checkpoint_label(&l.cover_state_source_label);
        readable += usize::from(!want_plate.is_empty());
        cover_known += usize::from(want_cover.is_some());
        let mut row = CheckpointRow {
            file: &l.file,
            want_plate,
            plates_found: 0,
            plates_read: String::new(),
            plate_boxes: String::new(),
            plates_reported: String::new(),
            plate_read_ok: false,
            want_cover: want_cover
                .map(|c| c.to_string())
                .unwrap_or_else(|| l.cover_state_source_label.clone()),
            cover: String::new(),
            material: String::new(),
            cover_confidence: None,
            material_confidence: None,
            cover_ok: false,
            load_box: String::new(),
            ms: None,
            error: String::new(),
        };
        match open_image(&dir.join(&l.file)) {
            Err(e) => row.error = format!("unreadable image: {e}"),
            Ok(img) => {
                let frame = img.to_rgb8();
                let start = Instant::now();
                let result = perceive(&detector, &reader, &classifier, &frame);
                let took = start.elapsed().as_secs_f64() * 1e3;
                match result {
                    Err(e) => row.error = format!("models failed: {e}"),
                    Ok(seen) => {
                        ms += took;
                        runs += 1;
                        row.ms = Some(took);
                        let n = seen.plates.len();
                        row.plates_found = n;
                        found += usize::from(n > 0);
                        let texts: Vec<&str> =
                            seen.plates.iter().map(|(_, t)| t.as_str()).collect();
                        row.plate_read_ok = !want_plate.is_empty() && texts.contains(&want_plate);
                        read_ok += usize::from(row.plate_read_ok);
                        row.plates_read = texts.join(";");
                        row.plate_boxes = seen
                            .plates
                            .iter()
                            .map(|(p, _)| box_text(&p.bbox, p.score))
                            .collect::<Vec<_>>()
                            .join(";");
                        let kept: Vec<&str> = texts
                            .into_iter()
                            .zip(&seen.passed_on)
                            .filter(|(t, passed_on)| **passed_on && is_plate(t))
                            .map(|(t, _)| t)
                            .collect();
                        reported += kept.len();
                        reported_other += kept.iter().filter(|t| **t != want_plate).count();
                        row.plates_reported = kept.join(";");
                        if let (Some(ld), Some(c)) = (seen.load, seen.cargo) {
                            row.load_box = box_text(&ld.bbox, ld.score);
                            row.cover = c.cover.to_string();
                            row.material = c.material.to_string();
                            row.cover_confidence = Some(c.cover_confidence);
                            row.material_confidence = Some(c.material_confidence);
                            row.cover_ok = want_cover == Some(c.cover);
                            cover_ok += usize::from(row.cover_ok);
                        }
                    }
                }
            }
        }
        if !row.error.is_empty() {
            eprintln!("{}: {}", l.file, row.error);
        }
        println!(
            "  {}: want {} / {}; read [{}]; load {} -> {} / {} {}",
            l.file,
            if want_plate.is_empty() {
                "(none)"
            } else {
                want_plate
            },
            row.want_cover,
            row.plates_read,
            if row.load_box.is_empty() {
                "none"
            } else {
                &row.load_box
            },
            if row.cover.is_empty() {
                "unknown"
            } else {
                &row.cover
            },
            if row.material.is_empty() {
                "unknown"
            } else {
                &row.material
            },
            if row.cover_ok { "OK" } else { "WRONG" },
        );
        csv_out
            .serialize(&row)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    csv_out
        .flush()
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "checkpoint: {read_ok}/{readable} labelled plates read exactly; {reported} readings are GA 36 plates \
         (what a checkpoint reports), {reported_other} of them not the labelled plate; cover {cover_ok}/{cover_known}"
    );
    Ok(CheckpointSummary {
        n: labels.len(),
        plate_found: found,
        plates_readable: readable,
        plates_read: read_ok,
        plates_reported: reported,
        plates_reported_other: reported_other,
        cover_known,
        cover_correct: cover_ok,
        cover_acc: ratio(cover_ok, cover_known),
        ms_per_frame: if runs == 0 { 0.0 } else { ms / runs as f64 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::Point;

    fn plate(x: f32, score: f32) -> PlateBox {
        PlateBox {
            bbox: BBox {
                x1: x,
                y1: 0.0,
                x2: x + 10.0,
                y2: 5.0,
            },
            corners: [Point::default(); 4],
            double_row: false,
            score,
        }
    }

    #[test]
    fn matching_is_greedy_by_score_and_one_to_one() {
        let truths = [
            BBox {
                x1: 0.0,
                y1: 0.0,
                x2: 10.0,
                y2: 5.0,
            },
            BBox {
                x1: 100.0,
                y1: 0.0,
                x2: 110.0,
                y2: 5.0,
            },
        ];
        // Two predictions on the first truth: the higher score takes it, the other is a FP.
        let preds = [plate(1.0, 0.5), plate(0.0, 0.9), plate(300.0, 0.8)];
        assert_eq!(match_boxes(&preds, &truths, 0.5), vec![(1, 0)]);
        assert_eq!(match_boxes(&[], &truths, 0.5), vec![]);
    }

    #[test]
    fn only_ga36_readings_count_as_reported() {
        // Readings the detector's false boxes gave on real frames: partial or
        // impossible texts, which a checkpoint drops.
        for bad in [
            "",
            "皖",
            "皖944",
            "冀604M",
            "520",
            "琼9BJ01366",
            "粤0946676",
        ] {
            assert!(!is_plate(bad), "{bad}");
        }
        for good in ["晋H93513", "粤Z1234港", "京AD12345", "陕A6716学"] {
            assert!(is_plate(good), "{good}");
        }
    }
}
