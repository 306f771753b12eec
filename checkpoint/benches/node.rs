//! End-to-end throughput of one checkpoint node: a 1920x1080 recording replayed as
//! fast as the node takes it (capture → detect → read → classify → track → judge →
//! store), with the shipped models, on 1 core and on 2 cores. Prints frames per
//! second, the mean time of each pipeline stage, and the peak resident memory.
//!
//! `cargo bench -p checkpoint --bench node` (or `make bench`). Each run is a child
//! process pinned with `taskset`, so its peak RSS is its own. The recording is the
//! demo clip scaled to 1080p with ffmpeg (made once under target/bench/).
//!
//! The node uses one capture thread and one perception worker per camera; the
//! second core lets decoding overlap perception (and serves HTTP and the uplink).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use checkpoint::config::{Config, RawConfig};
use checkpoint::Node;

const STAGES: [&str; 6] = ["capture", "perceive", "track", "evidence", "judge", "store"];

fn main() -> Result<()> {
    if let Ok(clip) = std::env::var("KADIAN_BENCH_CLIP") {
        return measure(Path::new(&clip));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let clip = clip_1080p(&root)?;
    println!(
        "checkpoint node, {} replayed as fast as it is taken",
        clip.display()
    );
    for cpus in ["0", "0,1"] {
        let out = Command::new("taskset")
            .args(["-c", cpus])
            .arg(std::env::current_exe()?)
            .env("KADIAN_BENCH_CLIP", &clip)
            .env("RUST_LOG", "warn")
            .output()
            .context("taskset (util-linux) runs the measurement")?;
        if !out.status.success() {
            bail!(
                "measurement on cores {cpus} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let cores = cpus.split(',').count();
        print!("{cores} core(s): {}", String::from_utf8_lossy(&out.stdout));
    }
    Ok(())
}

/// The demo clip at 1920x1080, made once.
fn clip_1080p(root: &Path) -> Result<PathBuf> {
    let dir = root.join("target/bench");
    let clip = dir.join("gantry-1080p.mp4");
    if clip.is_file() {
        return Ok(clip);
    }
    std::fs::create_dir_all(&dir)?;
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(root.join("demo/sample-gantry.mp4"))
        .args([
            "-vf",
            "scale=1920:1080",
            "-c:v",
            "libx264",
            "-preset",
            "fast",
            "-crf",
            "20",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&clip)
        .status()
        .context("ffmpeg (make deps installs it) scales the demo clip")?;
    if !status.success() {
        bail!("ffmpeg could not make {}", clip.display());
    }
    Ok(clip)
}

/// One run, in this (pinned) process: prints one line of figures.
fn measure(clip: &Path) -> Result<()> {
    let data = tempfile::tempdir()?;
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/onnx");
    let toml = format!(
        "checkpoint_id = \"bench-01\"\ntoken = \"bench\"\nhub_url = \"http://127.0.0.1:9\"\ndata_dir = {:?}\nlisten = \"127.0.0.1:0\"\n\
         [models]\nplate_reader = {:?}\nplate_detector = {:?}\ncargo_classifier = {:?}\n\
         [[cameras]]\nname = \"gantry\"\nsource = {:?}\n",
        data.path().display().to_string(),
        models.join("plate_reader.onnx").display().to_string(),
        models.join("plate_detector.onnx").display().to_string(),
        models.join("cargo_classifier.onnx").display().to_string(),
        clip.display().to_string(),
    );
    let config = Config::from_raw(toml::from_str::<RawConfig>(&toml)?)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let node = Node::start(config).await?;
        let started = Instant::now();
        let m = node.metrics().clone();
        let done = m.replay_done.with_label_values(&["gantry"]);
        while done.get() == 0 {
            if started.elapsed() > Duration::from_secs(600) {
                bail!("the replay did not finish in 10 minutes");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let secs = started.elapsed().as_secs_f64();
        let frames = m.frames.with_label_values(&["gantry"]).get();
        let mut line = format!(
            "{:.1} fps ({frames} frames in {secs:.2} s)",
            frames as f64 / secs
        );
        for s in STAGES {
            let h = m.stage_seconds.with_label_values(&[s]);
            let mean_ms = 1e3 * h.get_sample_sum() / h.get_sample_count().max(1) as f64;
            line.push_str(&format!(", {s} {mean_ms:.2} ms"));
        }
        line.push_str(&format!(
            ", {} passages, peak RSS {} MB",
            m.passages.get(),
            peak_rss_kb()? / 1024
        ));
        println!("{line}");
        node.stop().await?;
        Ok(())
    })
}

/// The process's peak resident set (VmHWM), in KiB.
fn peak_rss_kb() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmHWM in /proc/self/status")
}
