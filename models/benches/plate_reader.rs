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
//! grammar fixture): the cost of a read that searches for one; `grammar/search`
//! is that search alone (`plate_grammar::read_as_plate`), on made-up logits of the
//! reader's shape whose greedy reading, 冀016664, is not a plate.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use image::DynamicImage;
use models::ctc::{self, Decoded};
use models::{plate_grammar, PlateLayout, PlateReader, PlateReaderSpec};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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

/// Logits `[32, classes]` of an unsure reading of `text`: each character at a
/// step of its own (3.0, beside two other classes at 2.0 and 1.0 and the blank
/// at 1.0), blank steps between (4.0), everything else at -4 to -8.
fn unsure_logits(text: &str, alphabet: &[String]) -> (Vec<f32>, Vec<Decoded>) {
    let classes = alphabet.len() + 1;
    let class = |c: char| {
        1 + alphabet
            .iter()
            .position(|a| a.starts_with(c))
            .expect("in the alphabet")
    };
    let labels: Vec<usize> = text.chars().map(class).collect();
    // Seeded: the same logits every run.
    let mut rng = StdRng::seed_from_u64(7);
    let mut next = move || rng.random::<f32>();
    let mut logits = vec![0.0f32; 32 * classes];
    for (t, row) in logits.chunks_exact_mut(classes).enumerate() {
        row.iter_mut().for_each(|v| *v = -4.0 - 4.0 * next());
        match labels.get(t / 4).filter(|_| t % 4 == 1) {
            Some(&label) => {
                row[label] = 3.0;
                row[1 + (next() * (classes - 2) as f32) as usize] = 2.0;
                row[1 + (next() * (classes - 2) as f32) as usize] = 1.0;
                row[ctc::BLANK] = 1.0;
            }
            None => row[ctc::BLANK] = 4.0,
        }
    }
    let chars = ctc::greedy_decode(&logits, classes);
    (logits, chars)
}

fn grammar(c: &mut Criterion) {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("onnx/plate_reader.onnx");
    // Loaded as in a checkpoint, where the search runs beside the models: the
    // heap they leave made each allocation in the search several times dearer.
    let _reader = PlateReader::load(&model).expect("shipped plate reader");
    let spec = PlateReaderSpec::load(model.with_file_name("manifest.toml")).expect("manifest");
    let alphabet = &spec.alphabet;
    let (logits, chars) = unsure_logits("冀016664", alphabet);
    let text = ctc::spell(&chars, alphabet);
    let classes = alphabet.len() + 1;
    c.bench_function("grammar/search", |b| {
        b.iter(|| {
            let mut read = chars.clone();
            plate_grammar::read_as_plate(&mut read, black_box(&text), &logits, classes, alphabet)
        })
    });
}

criterion_group!(benches, plate_reader, grammar);
criterion_main!(benches);
