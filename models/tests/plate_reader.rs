//! The plate reader against the real thing: the shipped ONNX and its manifest in
//! `models/onnx/`, the labelled fixture crops in `tests/fixtures/plates/`, and
//! broken inputs (odd images, missing or corrupt model files).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use image::{DynamicImage, GrayImage, ImageBuffer, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use models::{
    Error, PlateColor, PlateLayout, PlateLayoutSpec, PlateProvinceSpec, PlateReader,
    PlateReaderSpec,
};

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped model, or the one named by `KADIAN_TEST_PLATE_READER` (to try
/// another export without touching `models/onnx/`).
fn model_path() -> PathBuf {
    std::env::var_os("KADIAN_TEST_PLATE_READER")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir().join("onnx/plate_reader.onnx"))
}

/// One reader for the whole binary: loading is the slow part.
fn reader() -> &'static PlateReader {
    static READER: OnceLock<PlateReader> = OnceLock::new();
    READER.get_or_init(|| {
        let path = model_path();
        PlateReader::load(&path).unwrap_or_else(|e| panic!("loading {}: {e}", path.display()))
    })
}

struct Fixture {
    file: String,
    text: String,
    color: PlateColor,
    layout: PlateLayout,
    image: DynamicImage,
}

fn fixtures() -> Vec<Fixture> {
    let dir = crate_dir().join("tests/fixtures/plates");
    let mut csv = csv::Reader::from_path(dir.join("labels.csv")).expect("fixture labels.csv");
    csv.records()
        .map(|r| {
            let r = r.expect("labels.csv row");
            let file = r[0].to_owned();
            let image = image::open(dir.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            Fixture {
                text: r[1].to_owned(),
                color: r[2].parse().unwrap_or_else(|e| panic!("{file}: {e}")),
                layout: r[3].parse().unwrap_or_else(|e| panic!("{file}: {e}")),
                file,
                image,
            }
        })
        .collect()
}

#[test]
fn shipped_model_reads_the_fixture_plates() {
    let fixtures = fixtures();
    assert!(!fixtures.is_empty(), "no fixtures");
    let mut wrong = Vec::new();
    for f in &fixtures {
        let read = reader()
            .read(&f.image)
            .unwrap_or_else(|e| panic!("{}: {e}", f.file));
        assert_eq!(read.char_confidences.len(), read.text.chars().count());
        assert!(
            (0.0..=1.0).contains(&read.confidence),
            "{}: {read:?}",
            f.file
        );
        if (read.text.as_str(), read.color, read.layout) != (f.text.as_str(), f.color, f.layout) {
            wrong.push(format!(
                "{}: want {} {} {}, read {} {} {} ({:.2})",
                f.file,
                f.text,
                f.color,
                f.layout,
                read.text,
                read.color,
                read.layout,
                read.confidence
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} fixtures misread:\n{}",
        wrong.len(),
        fixtures.len(),
        wrong.join("\n")
    );
}

#[test]
fn fixture_layouts_include_double_row() {
    // The double-row second pass is only exercised if a fixture needs it.
    assert!(fixtures().iter().any(|f| f.layout == PlateLayout::Double));
}

#[test]
fn batch_reads_like_one_by_one() {
    // The export has a symbolic batch (models/training/export.py), so this runs
    // the batched plan, not a loop over `read`.
    assert!(reader().batches(), "the shipped model should batch");
    let fixtures = fixtures();
    let images: Vec<&DynamicImage> = fixtures.iter().map(|f| &f.image).collect();
    let batch = reader().read_batch(&images);
    assert_eq!(batch.len(), images.len());
    for (f, b) in fixtures.iter().zip(batch) {
        let one = reader().read(&f.image).unwrap();
        let b = b.unwrap();
        assert_eq!(
            (&b.text, b.color, b.layout),
            (&one.text, one.color, one.layout),
            "{}",
            f.file
        );
        for (x, y) in b.char_confidences.iter().zip(&one.char_confidences) {
            assert!((x - y).abs() < 1e-3, "{}: {x} vs {y}", f.file);
        }
    }
}

/// The shipped reader network without the nets beside it: the reader's own
/// two-pass path and its own reading of the province.
fn reader_alone() -> PlateReader {
    let path = model_path();
    let spec = PlateReaderSpec::load(path.with_file_name("manifest.toml")).unwrap();
    PlateReader::from_onnx(&std::fs::read(&path).unwrap(), spec, &path).unwrap()
}

/// The shipped reader with its province net (when the manifest names one) but
/// without its layout net.
fn reader_without_layout_net() -> PlateReader {
    let path = model_path();
    let manifest = std::fs::read_to_string(path.with_file_name("manifest.toml")).unwrap();
    match PlateProvinceSpec::from_toml(&manifest).unwrap() {
        Some(spec) => {
            let net = path.with_file_name(&spec.file);
            reader_alone()
                .with_province_net(&std::fs::read(&net).unwrap(), spec, &net)
                .unwrap()
        }
        None => reader_alone(),
    }
}

#[test]
fn layout_net_reads_like_the_reader_alone() {
    // A plate the layout net routes is read on the same joined rows the reader's
    // second pass would use: the text must not change, only the passes run.
    let manifest = std::fs::read_to_string(model_path().with_file_name("manifest.toml")).unwrap();
    assert_eq!(
        reader().has_layout_net(),
        manifest.contains("[plate_layout]"),
        "the layout net is loaded exactly when the manifest names one"
    );
    let alone = reader_without_layout_net();
    assert!(!alone.has_layout_net());
    let fixtures = fixtures();
    let images: Vec<&DynamicImage> = fixtures.iter().map(|f| &f.image).collect();
    let batch = reader().read_batch(&images);
    for (f, b) in fixtures.iter().zip(batch) {
        let (with, without, b) = (
            reader().read(&f.image).unwrap(),
            alone.read(&f.image).unwrap(),
            b.unwrap(),
        );
        assert_eq!(
            (&with.text, with.layout),
            (&without.text, without.layout),
            "{}",
            f.file
        );
        assert_eq!(
            (&b.text, b.layout, b.color),
            (&with.text, with.layout, with.color),
            "{}",
            f.file
        );
    }
}

#[test]
fn layout_net_problems_are_clear_errors() {
    let real = std::fs::read(model_path()).unwrap();
    let shipped = std::fs::read_to_string(model_path().with_file_name("manifest.toml")).unwrap();
    if !shipped.contains("[plate_layout]") {
        return; // nothing to break
    }
    // The manifest names a layout net that is not there.
    let (_dir, path) = model_dir(&real, None);
    let err = PlateReader::load(&path).unwrap_err();
    assert!(matches!(err, Error::ModelFile { .. }), "{err:?}");
    assert!(err.to_string().contains("plate_layout.onnx"), "{err}");

    // A layout net for another input size than the reader's.
    let layout = std::fs::read(model_path().with_file_name("plate_layout.onnx")).unwrap();
    let mut spec = PlateLayoutSpec::from_toml(&shipped).unwrap().unwrap();
    spec.height *= 2;
    let err = reader_alone()
        .with_layout_net(&layout, spec, Path::new("plate_layout.onnx"))
        .unwrap_err();
    assert!(matches!(err, Error::Model { .. }), "{err:?}");
    assert!(err.to_string().contains("not the reader's"), "{err}");

    // Not an ONNX file.
    let spec = PlateLayoutSpec::from_toml(&shipped).unwrap().unwrap();
    let err = reader_alone()
        .with_layout_net(b"garbage", spec, Path::new("plate_layout.onnx"))
        .unwrap_err();
    assert!(matches!(err, Error::Model { .. }), "{err:?}");
}

#[test]
fn batch_keeps_order_and_fails_per_crop() {
    let fixtures = fixtures();
    let empty = DynamicImage::ImageRgb8(RgbImage::new(0, 0));
    let crops = [
        &fixtures[0].image,
        &empty,
        &fixtures[fixtures.len() - 1].image,
    ];
    let out = reader().read_batch(&crops);
    assert_eq!(out.len(), 3);
    assert_eq!(
        out[0].as_ref().unwrap().text,
        reader().read(crops[0]).unwrap().text
    );
    assert!(matches!(
        out[1],
        Err(Error::EmptyImage {
            width: 0,
            height: 0
        })
    ));
    assert_eq!(
        out[2].as_ref().unwrap().text,
        reader().read(crops[2]).unwrap().text
    );
    assert!(reader().read_batch::<RgbImage>(&[]).is_empty());
}

#[test]
fn rgb_and_dynamic_inputs_read_the_same() {
    let f = &fixtures()[0];
    let rgb = f.image.to_rgb8();
    assert_eq!(
        reader().read(&rgb).unwrap(),
        reader().read(&f.image).unwrap()
    );
}

#[test]
fn threads_share_one_reader() {
    let fixtures = Arc::new(fixtures());
    let want: Vec<String> = fixtures
        .iter()
        .map(|f| reader().read(&f.image).unwrap().text)
        .collect();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let fixtures = fixtures.clone();
            std::thread::spawn(move || {
                fixtures
                    .iter()
                    .map(|f| reader().read(&f.image).unwrap().text)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), want);
    }
    let clone = reader().try_clone().unwrap();
    assert_eq!(clone.read(&fixtures[0].image).unwrap().text, want[0]);
}

#[test]
fn empty_image_is_an_error() {
    for (w, h) in [(0, 0), (0, 24), (94, 0)] {
        let err = reader().read(&RgbImage::new(w, h)).unwrap_err();
        assert!(
            matches!(err, Error::EmptyImage { width, height } if (width, height) == (w, h)),
            "{err}"
        );
        assert!(err.to_string().contains("empty"));
    }
}

#[test]
fn odd_images_give_a_result_without_panic() {
    let odd: Vec<(&str, DynamicImage)> = vec![
        (
            "1x1",
            DynamicImage::ImageRgb8(RgbImage::from_pixel(1, 1, Rgb([20, 60, 180]))),
        ),
        (
            "grey",
            DynamicImage::ImageLuma8(GrayImage::from_pixel(94, 24, Luma([128]))),
        ),
        (
            "rgba",
            DynamicImage::ImageRgba8(RgbaImage::from_pixel(94, 24, Rgba([20, 60, 180, 0]))),
        ),
        (
            "16-bit",
            DynamicImage::ImageRgb16(ImageBuffer::from_pixel(
                94,
                24,
                Rgb([9000u16, 20000, 60000]),
            )),
        ),
        (
            "f32",
            DynamicImage::ImageRgb32F(ImageBuffer::from_pixel(94, 24, Rgb([0.1f32, 0.3, 0.9]))),
        ),
        (
            "20000x1",
            DynamicImage::ImageRgb8(RgbImage::from_pixel(20000, 1, Rgb([200, 180, 10]))),
        ),
        (
            "1x20000",
            DynamicImage::ImageLuma8(GrayImage::from_pixel(1, 20000, Luma([3]))),
        ),
        // 10000x10000: bounded before the resize (box-sampled to 4x the input).
        (
            "10000x10000",
            DynamicImage::ImageLuma8(
                GrayImage::from_raw(10000, 10000, vec![77; 100_000_000]).unwrap(),
            ),
        ),
    ];
    for (name, img) in &odd {
        let read = reader().read(img).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!((0.0..=1.0).contains(&read.confidence), "{name}: {read:?}");
        assert_eq!(
            read.char_confidences.len(),
            read.text.chars().count(),
            "{name}"
        );
    }
    // The same through the batch path.
    let all: Vec<&DynamicImage> = odd.iter().map(|(_, i)| i).collect();
    assert!(reader().read_batch(&all).iter().all(Result::is_ok));
}

#[test]
fn province_net_puts_right_what_the_reader_alone_misreads() {
    let manifest = std::fs::read_to_string(model_path().with_file_name("manifest.toml")).unwrap();
    assert_eq!(
        reader().has_province_net(),
        manifest.contains("[plate_province]"),
        "the province net is loaded exactly when the manifest names one"
    );
    if !reader().has_province_net() {
        return;
    }
    // A rendered plate whose province the reader network alone gets wrong, and
    // only its province (models/training/make_fixtures.py picked it so).
    let fixtures = fixtures();
    let f = fixtures
        .iter()
        .find(|f| f.file == "province_second_look.png")
        .expect("the province fixture");
    let alone = reader_alone().read(&f.image).unwrap();
    let split = |t: &str| {
        let mut c = t.chars();
        (c.next(), c.as_str().to_owned())
    };
    let (want_province, want_rest) = split(&f.text);
    let (alone_province, alone_rest) = split(&alone.text);
    assert_ne!(alone_province, want_province, "{alone:?}");
    assert_eq!(alone_rest, want_rest, "{alone:?}");
    // With the second look, the whole plate; the province's confidence is the
    // combined one, still a probability.
    let read = reader().read(&f.image).unwrap();
    assert_eq!(read.text, f.text);
    assert!((0.0..=1.0).contains(&read.char_confidences[0]), "{read:?}");
    // The net was asked because the reader is unsure of that character; told
    // never to ask (consult_below 0), the reader keeps its own province.
    let spec = PlateProvinceSpec::from_toml(&manifest).unwrap().unwrap();
    assert!(alone.char_confidences[0] < spec.consult_below, "{alone:?}");
    let net = model_path().with_file_name(&spec.file);
    let never = PlateProvinceSpec {
        consult_below: 0.0,
        ..spec
    };
    let never = reader_alone()
        .with_province_net(&std::fs::read(&net).unwrap(), never, &net)
        .unwrap();
    assert_eq!(never.read(&f.image).unwrap().text, alone.text);
}

#[test]
fn a_reading_one_character_from_a_plate_number_becomes_that_plate() {
    // A rendered plate whose greedy reading is not a GA 36 plate number (冀016664:
    // a digit where the authority letter stands) and that GA 36's last word,
    // `plate_grammar::read_as_plate`, puts right (models/training/make_fixtures.py
    // picked it with the one-character repair that came before).
    let f = fixtures()
        .into_iter()
        .find(|f| f.file == "grammar_repair.png")
        .expect("the grammar fixture");
    let read = reader().read(&f.image).unwrap();
    assert_eq!(read.text, f.text, "{read:?}");
    assert!(hub::api::PlateText::parse(&read.text).is_ok());
    // The character put right was the network's second choice, so its
    // confidence (its probability at its aligned peak) is at most a half.
    assert!(read.char_confidences.iter().any(|&c| c <= 0.5), "{read:?}");
}

#[test]
fn province_net_problems_are_clear_errors() {
    let shipped = std::fs::read_to_string(model_path().with_file_name("manifest.toml")).unwrap();
    let Some(spec) = PlateProvinceSpec::from_toml(&shipped).unwrap() else {
        return; // nothing to break
    };
    // The manifest names a province net that is not there (and no layout net,
    // which would be missed first).
    let mut table: toml::Table = shipped.parse().unwrap();
    table.remove("plate_layout");
    let manifest = toml::to_string(&table).unwrap();
    let (_dir, path) = model_dir(&std::fs::read(model_path()).unwrap(), Some(&manifest));
    let err = PlateReader::load(&path).unwrap_err();
    assert!(matches!(err, Error::ModelFile { .. }), "{err:?}");
    assert!(err.to_string().contains("plate_province.onnx"), "{err}");

    // Not an ONNX file.
    let name = Path::new("plate_province.onnx");
    let err = reader_alone()
        .with_province_net(b"garbage", spec.clone(), name)
        .unwrap_err();
    assert!(matches!(err, Error::Model { .. }), "{err:?}");

    // Classes the reader cannot write.
    let onnx = std::fs::read(model_path().with_file_name(&spec.file)).unwrap();
    let mut alien = spec.clone();
    alien.provinces[0] = "台".into();
    let err = reader_alone()
        .with_province_net(&onnx, alien, name)
        .unwrap_err();
    assert!(err.to_string().contains("alphabet"), "{err}");

    // A net with more classes than its output has.
    let mut more = spec;
    more.provinces.push("京".into());
    let err = reader_alone()
        .with_province_net(&onnx, more, name)
        .unwrap_err();
    assert!(matches!(err, Error::Model { .. }), "{err:?}");
}

#[test]
fn missing_model_is_a_clear_error() {
    let err = PlateReader::load("/nonexistent/plate_reader.onnx").unwrap_err();
    assert!(matches!(err, Error::ModelFile { .. }), "{err:?}");
    assert!(
        err.to_string().contains("/nonexistent/plate_reader.onnx"),
        "{err}"
    );
}

/// A temp folder with `onnx` bytes as `plate_reader.onnx` and the shipped manifest
/// (or `manifest`, if given) beside it.
fn model_dir(onnx: &[u8], manifest: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plate_reader.onnx");
    std::fs::write(&path, onnx).unwrap();
    let shipped = std::fs::read_to_string(model_path().with_file_name("manifest.toml")).unwrap();
    std::fs::write(
        dir.path().join("manifest.toml"),
        manifest.unwrap_or(&shipped),
    )
    .unwrap();
    (dir, path)
}

#[test]
fn corrupt_model_is_a_clear_error() {
    let real = std::fs::read(model_path()).unwrap();
    for (what, bytes) in [
        ("garbage", b"this is not an onnx file".to_vec()),
        ("empty", Vec::new()),
        ("truncated", real[..real.len() / 2].to_vec()),
    ] {
        let (_dir, path) = model_dir(&bytes, None);
        let err = PlateReader::load(&path).unwrap_err();
        assert!(matches!(err, Error::Model { .. }), "{what}: {err:?}");
        assert!(
            err.to_string().contains("plate_reader.onnx"),
            "{what}: {err}"
        );
    }
}

#[test]
fn missing_or_disagreeing_manifest_is_a_clear_error() {
    let real = std::fs::read(model_path()).unwrap();
    let (dir, path) = model_dir(&real, None);
    std::fs::remove_file(dir.path().join("manifest.toml")).unwrap();
    let err = PlateReader::load(&path).unwrap_err();
    assert!(matches!(err, Error::Manifest(_)), "{err:?}");
    assert!(err.to_string().contains("manifest.toml"), "{err}");

    // One colour fewer than the network's colour head: caught at load.
    let spec = reader().spec();
    let fewer = format!(
        "[plate_reader]\ninput = [{}, {}]\nalphabet = {:?}\ncolors = {:?}\nlayouts = [\"single\", \"double\"]\n\
         double_row = {{ top = {}, bottom = {}, top_width = {} }}\n",
        spec.height,
        spec.width,
        spec.alphabet,
        spec.colors[..spec.colors.len() - 1]
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>(),
        spec.double_row.top,
        spec.double_row.bottom,
        spec.double_row.top_width,
    );
    let (_dir, path) = model_dir(&real, Some(&fewer));
    let err = PlateReader::load(&path).unwrap_err();
    assert!(matches!(err, Error::Model { .. }), "{err:?}");
    assert!(err.to_string().contains("manifest expects"), "{err}");
}
