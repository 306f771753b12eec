//! Plate reader speed, single-threaded: one crop per `read` (a single-row and a
//! double-row plate), and 16 crops per `read_batch` (throughput in crops per
//! second; time / 16 is ms per crop). The shipped reader runs its layout net
//! first, which sends a double-row plate straight to its one joined-rows pass,
//! and its province net after, on the province window of a reading whose
//! province it is unsure of, and searches the CTC output for a plate when its
//! reading is not one; the `/reader_alone` variants run the same crops
//! with neither (a double-row plate then takes a first pass and the joined
//! pass), for comparison. `read/unsure_province` is a crop whose province the
//! reader is unsure of (the province fixture): the cost of a read that asks the
//! province net, where the other crops are read surely and skip it.
//! `read/not_a_plate_at_first` is a crop whose greedy reading is not a plate (the
//! grammar fixture): the cost of a read that searches for one.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use image::DynamicImage;
use models::{PlateLayout, PlateReader, PlateReaderSpec};

/// Fixture crops with their file name and labelled layout.
fn fixtures() -> Vec<(String, PlateLayout, DynamicImage)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plates");
    let mut csv = csv::Reader::from_path(dir.join("labels.csv")).expect("fixture labels.csv");
    csv.records()
        .map(|r| {
            let r = r.expect("labels.csv row");
            let layout = r[3].parse().expect("layout");
            let image = image::open(dir.join(&r[0])).expect("fixture image");
            (r[0].to_owned(), layout, image)
        })
        .collect()
}

fn plate_reader(c: &mut Criterion) {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("onnx/plate_reader.onnx");
    let reader = PlateReader::load(&model).expect("shipped plate reader");
    let fixtures = fixtures();

    let spec = PlateReaderSpec::load(model.with_file_name("manifest.toml")).expect("manifest");
    let bytes = std::fs::read(&model).expect("model");
    let alone = PlateReader::from_onnx(&bytes, spec, &model).expect("reader alone");
    let sixteen: Vec<&DynamicImage> = fixtures
        .iter()
        .map(|(_, _, i)| i)
        .cycle()
        .take(16)
        .collect();

    let mut group = c.benchmark_group("plate_reader");
    for (suffix, reader) in [("", &reader), ("/reader_alone", &alone)] {
        for layout in [PlateLayout::Single, PlateLayout::Double] {
            if let Some((_, _, crop)) = fixtures.iter().find(|(_, l, _)| *l == layout) {
                group.bench_function(format!("read/{layout}{suffix}"), |b| {
                    b.iter(|| reader.read(black_box(crop)).expect("read"))
                });
            }
        }
    }
    for (file, name) in [
        ("province_second_look.png", "read/unsure_province"),
        ("grammar_repair.png", "read/not_a_plate_at_first"),
    ] {
        if let Some((_, _, crop)) = fixtures.iter().find(|(f, _, _)| f == file) {
            group.bench_function(name, |b| {
                b.iter(|| reader.read(black_box(crop)).expect("read"))
            });
        }
    }
    group.throughput(Throughput::Elements(16));
    for (suffix, reader) in [("", &reader), ("/reader_alone", &alone)] {
        group.bench_function(format!("read_batch/16{suffix}"), |b| {
            b.iter(|| reader.read_batch(black_box(&sixteen)))
        });
    }
    group.bench_function("read_x16", |b| {
        b.iter(|| {
            for crop in &sixteen {
                black_box(reader.read(black_box(*crop)).expect("read"));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, plate_reader);
criterion_main!(benches);
