//! The shipped plate detector and cargo classifier on synthetic scenes
//! (`tests/fixtures/scenes/`, made by `make_scenes.py` there from
//! `training/scene_synth.py`), and on images that must give errors, not panics.
//!
//! The models are read from `$KADIAN_MODELS_DIR` (default: this crate's `onnx/`).
//! Until the detector has been exported there (`onnx/plate_detector.onnx` and the
//! `[plate_detector]` / `[cargo_classifier]` tables of `manifest.toml`), the tests
//! that need it say so on stderr and pass without running.

use std::path::{Path, PathBuf};

use image::{DynamicImage, GrayImage, RgbImage, RgbaImage};
use models::{BBox, CargoClassifier, Cover, Error, PlateDetector, PlateReader};

fn models_dir() -> PathBuf {
    std::env::var_os("KADIAN_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("onnx"))
}

/// The shipped detector and classifier.
fn load() -> Option<(PlateDetector, CargoClassifier)> {
    let dir = models_dir();
    let manifest = std::fs::read_to_string(dir.join("manifest.toml")).unwrap_or_default();
    let exported = dir.join("plate_detector.onnx").exists()
        && manifest.contains("[plate_detector]")
        && manifest.contains("[cargo_classifier]");
    // The models are shipped: their absence is a broken checkout, not a reason to skip.
    assert!(
        exported,
        "{} lacks the exported plate detector / cargo classifier",
        dir.display()
    );
    let detector =
        PlateDetector::load(dir.join("plate_detector.onnx")).expect("the shipped detector loads");
    let classifier = CargoClassifier::load(dir.join("cargo_classifier.onnx"))
        .expect("the shipped classifier loads");
    Some((detector, classifier))
}

/// One labelled plate of `fixtures/scenes/labels.csv`.
struct Label {
    file: String,
    bbox: BBox,
    cover: Cover,
}

fn scenes() -> (PathBuf, Vec<Label>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenes");
    let text = std::fs::read_to_string(dir.join("labels.csv")).expect("scene labels");
    let labels = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let n = |i: usize| f[i].parse::<f32>().expect("a number");
            let cover = match f[6] {
                "empty" => Cover::Empty,
                "open" => Cover::Open,
                "partial" => Cover::Partial,
                "tarped" => Cover::Tarped,
                "enclosed" => Cover::Enclosed,
                other => panic!("unknown cover {other}"),
            };
            Label {
                file: f[0].to_owned(),
                bbox: BBox {
                    x1: n(1),
                    y1: n(2),
                    x2: n(3),
                    y2: n(4),
                },
                cover,
            }
        })
        .collect();
    (dir, labels)
}

#[test]
fn shipped_models_load_and_agree_with_the_manifest() {
    let Some((detector, classifier)) = load() else {
        return;
    };
    let spec = detector.spec();
    assert_eq!((spec.height, spec.width), (384, 640));
    assert_eq!(classifier.spec().covers.len(), 5);
    assert_eq!(classifier.spec().materials.len(), 4);
    // A second handle shares the network and runs on its own state.
    let again = detector.try_clone().unwrap();
    let frame = RgbImage::from_pixel(320, 200, image::Rgb([90, 90, 90]));
    assert_eq!(
        detector.detect(&frame).unwrap(),
        again.detect(&frame).unwrap()
    );
}

#[test]
fn synthetic_scenes_give_the_expected_plates_and_cover() {
    let Some((detector, classifier)) = load() else {
        return;
    };
    let (dir, labels) = scenes();
    let mut files: Vec<&str> = labels.iter().map(|l| l.file.as_str()).collect();
    files.dedup();
    assert!(files.len() >= 3, "fixtures missing");
    let (mut wanted, mut found, mut covers_right) = (0, 0, 0);
    for file in &files {
        let frame = image::open(dir.join(file)).unwrap().to_rgb8();
        let dets = detector.detect(&frame).unwrap();
        let plates: Vec<_> = dets.plates.iter().map(|p| (p.bbox, p.score)).collect();
        eprintln!(
            "{file}: plates {plates:?}; {} vehicles",
            dets.vehicles.len()
        );
        for l in labels.iter().filter(|l| l.file == *file) {
            // Plates under 30 px wide are labelled but not required.
            if l.bbox.x2 - l.bbox.x1 < 30.0 {
                continue;
            }
            wanted += 1;
            let best = dets
                .plates
                .iter()
                .map(|p| p.bbox.iou(&l.bbox))
                .fold(0.0f32, f32::max);
            eprintln!("{file}: plate {:?} best IoU {best:.2}", l.bbox);
            found += usize::from(best >= 0.5);
        }
        // Every plate found rectifies to a crop of plate proportions.
        for p in &dets.plates {
            let crop = detector.rectify(&frame, p);
            assert!(crop.width() >= 8 && crop.height() >= 4);
        }
        let want = labels
            .iter()
            .find(|l| l.file == *file)
            .map(|l| l.cover)
            .unwrap();
        // The label is the cover of the scene's largest visible load (make_scenes.py),
        // so compare it with the largest load box found, not the highest-scoring one.
        let load = dets
            .loads
            .iter()
            .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()));
        let read = load.map(|l| classifier.classify_box(&frame, &l.bbox).unwrap());
        eprintln!("{file}: load {load:?} -> {read:?}, want {want}");
        covers_right += usize::from(read.is_some_and(|r| r.cover == want));
    }
    // The shipped detector (real frames/dev recall 0.83 in its manifest) finds
    // all three plates (IoU 0.80, 0.66, 0.85); its predecessor missed scene_0's
    // 37 px plate. One miss is allowed, so the test catches a broken pipeline
    // (which finds none) rather than grading the model.
    assert!(
        found + 1 >= wanted,
        "plates found at IoU >= 0.5: {found} of {wanted}"
    );
    assert!(
        covers_right >= files.len() - 1,
        "cover right on {covers_right} of {} scenes",
        files.len()
    );
}

/// How many of `labels` (in scene pixels, placed at `offset` in the frame) a
/// detected plate overlaps with IoU >= 0.5.
fn plates_found(dets: &models::Detections, labels: &[&Label], offset: (f32, f32)) -> usize {
    labels
        .iter()
        .filter(|l| {
            let b = BBox {
                x1: l.bbox.x1 + offset.0,
                y1: l.bbox.y1 + offset.1,
                x2: l.bbox.x2 + offset.0,
                y2: l.bbox.y2 + offset.1,
            };
            dets.plates.iter().any(|p| p.bbox.iou(&b) >= 0.5)
        })
        .count()
}

#[test]
fn tiling_finds_plates_that_a_large_frame_shrinks_away() {
    let Some((mut detector, _)) = load() else {
        return;
    };
    // Each scene at its own size in the middle of a frame three times as large:
    // the full pass sees its plates at a third of their width, 3x tiles at all of it.
    let (dir, labels) = scenes();
    let mut files: Vec<&str> = labels.iter().map(|l| l.file.as_str()).collect();
    files.dedup();
    let (mut alone, mut full, mut tiled) = (0, 0, 0);
    for file in &files {
        let scene = image::open(dir.join(file)).unwrap().to_rgb8();
        let (w, h) = scene.dimensions();
        let wanted: Vec<&Label> = labels
            .iter()
            .filter(|l| l.file == *file && l.bbox.x2 - l.bbox.x1 >= 30.0)
            .collect();
        let mut frame = RgbImage::from_pixel(3 * w, 3 * h, image::Rgb([114, 118, 112]));
        image::imageops::replace(&mut frame, &scene, i64::from(w), i64::from(h));
        let offset = (w as f32, h as f32);

        detector.set_tiling(None);
        alone += plates_found(&detector.detect(&scene).unwrap(), &wanted, (0.0, 0.0));
        full += plates_found(&detector.detect(&frame).unwrap(), &wanted, offset);
        detector.set_tiling(Some(models::Tiling {
            gain: 3.0,
            overlap: 0.2,
            score_threshold: 0.5,
            max_tiles: 16,
            max_plate_width: 160.0,
        }));
        let dets = detector.detect(&frame).unwrap();
        tiled += plates_found(&dets, &wanted, offset);
        for p in &dets.plates {
            let b = p.bbox;
            assert!(b.x1 >= 0.0 && b.y1 >= 0.0 && b.x2 <= 3.0 * w as f32 && b.y2 <= 3.0 * h as f32);
        }
    }
    eprintln!("plates found: scene alone {alone}, in the 3x frame {full}, tiled {tiled}");
    assert!(alone >= 3, "the scenes' own plates are found ({alone})");
    assert!(
        tiled > full && tiled + 1 >= alone,
        "tiling recovers what the large frame lost: alone {alone}, full pass {full}, tiled {tiled}"
    );
}

#[test]
fn bad_images_are_errors_not_panics() {
    let Some((detector, classifier)) = load() else {
        return;
    };
    let empty = RgbImage::new(0, 0);
    assert!(matches!(
        detector.detect(&empty),
        Err(Error::EmptyImage {
            width: 0,
            height: 0
        })
    ));
    assert!(matches!(
        classifier.classify(&empty),
        Err(Error::EmptyImage { .. })
    ));
    assert!(matches!(
        detector.detect(&RgbImage::new(0, 50)),
        Err(Error::EmptyImage { .. })
    ));
    let odd: Vec<DynamicImage> = vec![
        DynamicImage::ImageRgb8(RgbImage::new(1, 1)),
        DynamicImage::ImageLuma8(GrayImage::from_pixel(300, 200, image::Luma([128]))),
        DynamicImage::ImageRgba8(RgbaImage::from_pixel(
            640,
            384,
            image::Rgba([10, 200, 30, 0]),
        )),
        DynamicImage::ImageRgb8(RgbImage::new(12_000, 40)),
        DynamicImage::ImageRgb8(RgbImage::new(3, 9_000)),
    ];
    for img in &odd {
        let dets = detector.detect(img).unwrap();
        let (w, h) = (img.width() as f32, img.height() as f32);
        for r in dets.vehicles.iter().chain(&dets.loads) {
            assert!(r.bbox.x1 >= 0.0 && r.bbox.x2 <= w && r.bbox.y1 >= 0.0 && r.bbox.y2 <= h);
        }
        classifier.classify(img).unwrap();
    }
}

#[test]
fn detector_reader_and_classifier_chain_on_a_scene() {
    let Some((detector, classifier)) = load() else {
        return;
    };
    let reader = PlateReader::load(models_dir().join("plate_reader.onnx")).unwrap();
    let (dir, _) = scenes();
    let frame = image::open(dir.join("scene_1.jpg")).unwrap().to_rgb8();
    let dets = detector.detect(&frame).unwrap();
    for p in &dets.plates {
        let read = reader.read(&detector.rectify(&frame, p)).unwrap();
        eprintln!(
            "plate {:?} score {:.2} -> {:?} ({:.2})",
            p.bbox, p.score, read.text, read.confidence
        );
    }
    for l in &dets.loads {
        classifier.classify_box(&frame, &l.bbox).unwrap();
    }
}

/// A frame of road grey with the fixture plate `file`, resized by `scale`,
/// pasted at (200, 70); the plate's box in it.
fn plate_in_frame(file: &str, scale: f32) -> (RgbImage, BBox) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plates");
    let plate = image::open(dir.join(file)).unwrap().to_rgb8();
    let (w, h) = plate.dimensions();
    let (w, h) = ((w as f32 * scale) as u32, (h as f32 * scale) as u32);
    let plate = image::imageops::resize(&plate, w, h, image::imageops::FilterType::Triangle);
    let mut frame = RgbImage::from_pixel(560, 200, image::Rgb([104, 108, 102]));
    image::imageops::replace(&mut frame, &plate, 200, 70);
    let bbox = BBox {
        x1: 200.0,
        y1: 70.0,
        x2: 200.0 + w as f32,
        y2: 70.0 + h as f32,
    };
    (frame, bbox)
}

fn box_plate(b: BBox) -> models::PlateBox {
    models::PlateBox {
        bbox: b,
        corners: b.corners(),
        double_row: false,
        score: 0.8,
    }
}

#[test]
fn a_box_cutting_into_the_province_is_read_from_the_plates_own_ends() {
    let Some((detector, _)) = load() else {
        return;
    };
    let reader = PlateReader::load(models_dir().join("plate_reader.onnx")).unwrap();
    for (file, truth) in [
        ("yellow_single.png", "晋H93513"),
        ("blue_single.png", "皖A7K2L8"),
    ] {
        let (frame, truth_box) = plate_in_frame(file, 1.0);
        // The detector's box starts a sixth of the plate in, inside the province.
        let cut = BBox {
            x1: truth_box.x1 + truth_box.width() / 6.0,
            ..truth_box
        };
        let plate = box_plate(cut);
        let as_cut = reader.read(&detector.rectify(&frame, &plate)).unwrap();
        let refined = models::refine_plate_ends(&frame, &plate).expect("the ends move");
        assert!(
            (refined.bbox.x1 - truth_box.x1).abs() <= 0.05 * truth_box.width()
                && (refined.bbox.x2 - truth_box.x2).abs() <= 0.05 * truth_box.width(),
            "{file}: refined {:?}, plate {truth_box:?}",
            refined.bbox
        );
        let got = models::read_detected_plate(&detector, &reader, &frame, &plate).unwrap();
        eprintln!(
            "{file}: as cut {:?} ({:.2}), refined {:?} ({:.2})",
            as_cut.text, as_cut.confidence, got.read.text, got.read.confidence
        );
        assert_eq!(got.read.text, truth, "{file}");
        assert!(got.refined, "{file}: the refined cut is the surer one");
        assert_eq!(got.plate, refined);
    }
}

#[test]
fn an_unsure_plate_is_cut_again_and_read_from_the_surer_cut() {
    let Some((detector, _)) = load() else {
        return;
    };
    assert!(
        detector.spec().recrop.is_some(),
        "the shipped manifest cuts unsure plates again"
    );
    let reader = PlateReader::load(models_dir().join("plate_reader.onnx")).unwrap();
    // A black Hong Kong plate (no hue: its ends are not refined), 70 px wide,
    // boxed from 10 % of its width left of it.
    let (frame, truth_box) = plate_in_frame("black_hk.png", 0.3);
    let loose = BBox {
        x1: truth_box.x1 - 0.1 * truth_box.width(),
        ..truth_box
    };
    let plate = box_plate(loose);
    assert!(models::refine_plate_ends(&frame, &plate).is_none());
    let first = reader.read(&detector.rectify(&frame, &plate)).unwrap();
    let got = models::read_detected_plate(&detector, &reader, &frame, &plate).unwrap();
    eprintln!(
        "as cut {:?} ({:.2}); kept {:?} ({:.2}) at {:?}",
        first.text, first.confidence, got.read.text, got.read.confidence, got.margin
    );
    // The reader's own margin reads it unsurely (0.09), so it is cut again.
    let below = detector.spec().recrop.as_ref().unwrap().below;
    assert!(first.confidence < below, "{first:?}");
    assert_eq!(got.read.text, "粤Z1A23港");
    assert!(got.read.confidence > first.confidence.max(0.5), "{got:?}");
    assert_ne!(got.margin, detector.spec().reader_crop_margin);
    assert!(!got.refined);
}
