//! The `evaluate` binary end to end: `evaluate checkpoint` on a fixture scene
//! (`tests/fixtures/scenes/`) beside a corrupt frame, with the shipped models.

use std::path::Path;
use std::process::Command;

/// One plate box as the CSV writes it: `x1 y1 x2 y2 (score)`.
fn parse_box(s: &str) -> ([f32; 4], f32) {
    let (coords, score) = s.split_once(" (").expect("a box is `x1 y1 x2 y2 (score)`");
    let v: Vec<f32> = coords.split(' ').map(|c| c.parse().unwrap()).collect();
    let score = score.trim_end_matches(')').parse().unwrap();
    ([v[0], v[1], v[2], v[3]], score)
}

#[test]
fn checkpoint_rows_give_each_plate_its_box_and_a_corrupt_frame_its_error() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        crate_dir.join("tests/fixtures/scenes/scene_1.jpg"),
        dir.path().join("scene_1.jpg"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("broken.jpg"),
        b"\xff\xd8\xff\xe0 not a jpeg",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("labels.csv"),
        "file,plate_text,plate_color,cover_state_source_label,img_w,img_h\n\
         scene_1.jpg,青C44575,blue,,640,384\n\
         broken.jpg,,,,0,0\n",
    )
    .unwrap();
    let out = dir.path().join("out.csv");
    let onnx = crate_dir.join("onnx");
    let run = Command::new(env!("CARGO_BIN_EXE_evaluate"))
        .arg("checkpoint")
        .arg(dir.path())
        .arg("--out")
        .arg(&out)
        .arg("--detector")
        .arg(onnx.join("plate_detector.onnx"))
        .arg("--reader")
        .arg(onnx.join("plate_reader.onnx"))
        .arg("--classifier")
        .arg(onnx.join("cargo_classifier.onnx"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["n"], 2);
    assert_eq!(summary["plate_found"], 1);

    let mut rows = csv::Reader::from_path(&out).unwrap();
    let head = rows.headers().unwrap().clone();
    let col = |r: &csv::StringRecord, name: &str| {
        r[head.iter().position(|h| h == name).unwrap()].to_string()
    };
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);

    // The scene: one box per reading, in the frame, and one of them on the
    // labelled plate (272.7, 321.2, 305.5, 336.5 in labels.csv of the fixtures).
    let scene = &rows[0];
    let boxes: Vec<_> = col(scene, "plate_boxes")
        .split(';')
        .map(parse_box)
        .collect();
    let reads = col(scene, "plates_read");
    assert_eq!(boxes.len(), reads.split(';').count());
    assert_eq!(
        boxes.len(),
        col(scene, "plates_found").parse::<usize>().unwrap()
    );
    for ([x1, y1, x2, y2], score) in &boxes {
        assert!(0.0 <= *x1 && x1 < x2 && *x2 <= 640.0 && 0.0 <= *y1 && y1 < y2 && *y2 <= 384.0);
        assert!((0.0..=1.0).contains(score));
    }
    assert!(
        boxes.iter().any(|([x1, y1, x2, y2], _)| {
            let (cx, cy) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
            (272.7..305.5).contains(&cx) && (321.2..336.5).contains(&cy)
        }),
        "no box on the labelled plate: {boxes:?}"
    );

    // The corrupt frame: its row says why, and nothing else is made up.
    let broken = &rows[1];
    assert!(
        col(broken, "error").starts_with("unreadable image"),
        "{broken:?}"
    );
    assert_eq!(col(broken, "plates_found"), "0");
    assert_eq!(col(broken, "plate_boxes"), "");
}
