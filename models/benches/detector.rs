//! Whole-frame perception, single-threaded: detector on a 1920x1080 frame, then
//! the reader on every plate found as the checkpoint reads it
//! (`read_detected_plate`: again when its ends, found from its colour, move, and
//! at further margins when its reading is unsure) and the classifier on the best
//! load box. `refine_plate_ends` alone is timed on the scene's first plate.
//!
//! The frame is a synthetic scene of `tests/fixtures/scenes/` scaled up to
//! 1920x1080. Models from `$KADIAN_MODELS_DIR` (default `onnx/`); the bench
//! prints a note and does nothing while the detector is not exported.
//! `cargo bench -p models --bench detector` prints the mean ms per stage too, and
//! the detector alone with and without its tiled second look (the manifest's
//! `[plate_detector.tiling]`: 9 windows on a 1080p frame).

use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use image::imageops::FilterType;
use models::{read_detected_plate, refine_plate_ends, CargoClassifier, PlateDetector, PlateReader};

fn models_dir() -> PathBuf {
    std::env::var_os("KADIAN_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("onnx"))
}

fn bench(c: &mut Criterion) {
    let dir = models_dir();
    let manifest = std::fs::read_to_string(dir.join("manifest.toml")).unwrap_or_default();
    if !(dir.join("plate_detector.onnx").exists()
        && manifest.contains("[plate_detector]")
        && manifest.contains("[cargo_classifier]"))
    {
        eprintln!(
            "SKIPPED: {} has no exported plate detector / cargo classifier yet",
            dir.display()
        );
        return;
    }
    let detector = PlateDetector::load(dir.join("plate_detector.onnx")).expect("detector");
    let reader = PlateReader::load(dir.join("plate_reader.onnx")).expect("reader");
    let classifier = CargoClassifier::load(dir.join("cargo_classifier.onnx")).expect("classifier");
    let scene = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenes/scene_1.jpg");
    let frame = image::imageops::resize(
        &image::open(scene).expect("fixture").to_rgb8(),
        1920,
        1080,
        FilterType::Triangle,
    );

    let perceive = || {
        let dets = detector.detect(&frame).expect("detect");
        for p in &dets.plates {
            read_detected_plate(&detector, &reader, &frame, p).expect("read");
        }
        if let Some(load) = dets.loads.first() {
            classifier
                .classify_box(&frame, &load.bbox)
                .expect("classify");
        }
        dets
    };

    // Plain per-stage means first, printed in ms.
    let n = 20;
    let (mut det_ms, mut rest_ms) = (0.0, 0.0);
    let mut found = (0, 0);
    for _ in 0..n {
        let t = Instant::now();
        let dets = detector.detect(&frame).expect("detect");
        det_ms += t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        for p in &dets.plates {
            read_detected_plate(&detector, &reader, &frame, p).expect("read");
        }
        if let Some(load) = dets.loads.first() {
            classifier
                .classify_box(&frame, &load.bbox)
                .expect("classify");
        }
        rest_ms += t.elapsed().as_secs_f64() * 1e3;
        found = (dets.plates.len(), dets.loads.len());
    }
    println!(
        "1920x1080 frame, 1 thread: detect {:.2} ms, read {} plate(s) + classify {} load(s) {:.2} ms, total {:.2} ms",
        det_ms / n as f64,
        found.0,
        found.1.min(1),
        rest_ms / n as f64,
        (det_ms + rest_ms) / n as f64
    );

    let mut one_pass = detector.try_clone().expect("clone");
    one_pass.set_tiling(None);
    let t = Instant::now();
    for _ in 0..n {
        one_pass.detect(&frame).expect("detect");
    }
    println!(
        "1920x1080 frame, 1 thread: detect without tiling {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );

    let mut g = c.benchmark_group("perception");
    g.sample_size(20);
    g.bench_function("detect_1920x1080", |b| {
        b.iter(|| detector.detect(&frame).expect("detect"))
    });
    g.bench_function("detect_one_pass_1920x1080", |b| {
        b.iter(|| one_pass.detect(&frame).expect("detect"))
    });
    g.bench_function("detect_read_classify_1920x1080", |b| b.iter(perceive));
    if let Some(plate) = one_pass.detect(&frame).expect("detect").plates.first() {
        g.bench_function("refine_plate_ends", |b| {
            b.iter(|| refine_plate_ends(&frame, plate))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
