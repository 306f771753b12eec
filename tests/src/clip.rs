//! The sample gantry clip of `make demo` (demo/sample-gantry.mp4, made by
//! models/training/demo_clip.py): 98 frames at 5 fps, 1280x720. Eight empty-road
//! frames, then five trucks of ten frames each with eight empty frames after each:
//! open coal, tarped, partly covered other bulk, open coal, empty bed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Frames in the clip.
pub const FRAMES: u64 = 98;

/// The clip file.
pub fn file() -> PathBuf {
    crate::root().join("demo/sample-gantry.mp4")
}

/// Frames `first..=last` of the clip as numbered JPEG stills in `dir` (with ffmpeg,
/// which `make deps` installs).
pub fn stills(dir: &Path, first: u32, last: u32) -> PathBuf {
    std::fs::create_dir_all(dir).expect("stills dir");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file())
        .args([
            "-vf",
            &format!("select=between(n\\,{first}\\,{last})"),
            "-fps_mode",
            "passthrough",
            "-q:v",
            "2",
        ])
        .arg(dir.join("%05d.jpg"))
        .status()
        .expect("ffmpeg runs (make deps installs it)");
    assert!(
        status.success(),
        "ffmpeg could not cut frames {first}..={last} of the clip"
    );
    let n = std::fs::read_dir(dir).expect("stills listed").count() as u32;
    assert_eq!(n, last - first + 1, "ffmpeg wrote {n} stills");
    dir.into()
}

/// One frame of the clip as a JPEG (for a trigger camera's snapshot).
pub fn frame_jpeg(dir: &Path, n: u32) -> Vec<u8> {
    let path = stills(&dir.join(format!("frame-{n}")), n, n).join("00001.jpg");
    std::fs::read(path).expect("the cut frame reads")
}
