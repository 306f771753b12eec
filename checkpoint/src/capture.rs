//! Capture: frames from cameras (DESIGN.md step 1), each camera in its own thread.
//!
//! - RTSP / HTTP streams and V4L2 devices are read with OpenCV's videoio (FFmpeg and
//!   V4L2 backends). A dead stream is reopened with capped exponential backoff.
//!   (For RTSP over TCP set `OPENCV_FFMPEG_CAPTURE_OPTIONS="rtsp_transport;tcp"`.)
//! - a video file and a folder of stills are replays: read once, in order.
//! - `push` cameras have no thread: `POST /snapshot` puts their JPEGs in the slot.
//!
//! Frames are converted from OpenCV's BGR once, into a plain `image::RgbImage`, and
//! handed to the pipeline through a one-frame [`Slot`](crate::capture::Slot). A live camera never waits:
//! if the pipeline has not taken the previous frame, that stale frame is replaced
//! and counted as dropped. A replay waits instead (nothing is gained by dropping
//! recorded frames). Undecodable frames and stills are counted and skipped.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use image::RgbImage;
use opencv::core::Mat;
use opencv::prelude::*;
use opencv::{imgproc, videoio};

use crate::config::{Camera, Source};
use crate::metrics::Metrics;

/// Why a camera cannot deliver frames.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// OpenCV could not open the source (missing file, not a video, no stream).
    #[error("cannot open {what}: no backend could read it")]
    Open { what: String },
    /// A folder of stills could not be listed.
    #[error("cannot list stills in {path}: {error}")]
    Stills {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("opencv: {0}")]
    OpenCv(#[from] opencv::Error),
    /// A decoded frame has a layout we do not convert.
    #[error("unsupported frame: {channels} channels, depth {depth}")]
    Unsupported { channels: i32, depth: i32 },
}

/// One decoded frame.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Sequence number per camera, from 0.
    pub seq: u64,
    /// When the scene was filmed: the wall clock for live cameras; for replays the
    /// replay's start plus the frame's time in the recording, so that tracking (which
    /// closes a vehicle after a gap in this time) gives the same passages however fast
    /// or slow the machine works through the recording.
    pub at: DateTime<Utc>,
    pub image: Arc<RgbImage>,
}

/// What [`Slot::take`] found.
#[derive(Debug)]
pub enum Taken {
    Frame(Frame),
    /// Nothing within the timeout.
    Empty,
    /// The camera has finished (end of a replay, or shutdown) and the slot is empty.
    Closed,
}

struct SlotInner {
    frames: VecDeque<Frame>,
    closed: bool,
}

/// A small bounded hand-off from a camera to its pipeline worker: one frame for a
/// video camera (the freshest), a few for a trigger camera (one per vehicle).
pub struct Slot {
    inner: Mutex<SlotInner>,
    cv: Condvar,
    capacity: usize,
}

impl Slot {
    /// A one-frame slot.
    pub fn new() -> Arc<Slot> {
        Slot::with_capacity(1)
    }

    pub fn with_capacity(capacity: usize) -> Arc<Slot> {
        let capacity = capacity.max(1);
        Arc::new(Slot {
            inner: Mutex::new(SlotInner {
                frames: VecDeque::with_capacity(capacity),
                closed: false,
            }),
            cv: Condvar::new(),
            capacity,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts `frame` without waiting; `true` when the oldest, stale frame was dropped
    /// to make room.
    pub fn put(&self, frame: Frame) -> bool {
        let mut g = self.lock();
        let stale = g.frames.len() >= self.capacity && g.frames.pop_front().is_some();
        g.frames.push_back(frame);
        drop(g);
        self.cv.notify_all();
        stale
    }

    /// Puts `frame` if there is room; gives it back when full (the caller refuses it,
    /// e.g. `503` to a trigger camera, which retries).
    pub fn try_put(&self, frame: Frame) -> Result<(), Frame> {
        let mut g = self.lock();
        if g.frames.len() >= self.capacity || g.closed {
            return Err(frame);
        }
        g.frames.push_back(frame);
        drop(g);
        self.cv.notify_all();
        Ok(())
    }

    /// Puts `frame` once there is room; `false` when closed or `stop` is set.
    pub fn put_wait(&self, frame: Frame, stop: &AtomicBool) -> bool {
        let mut g = self.lock();
        while g.frames.len() >= self.capacity && !g.closed {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            g = self
                .cv
                .wait_timeout(g, Duration::from_millis(100))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        if g.closed {
            return false;
        }
        g.frames.push_back(frame);
        drop(g);
        self.cv.notify_all();
        true
    }

    /// Takes the oldest frame, waiting up to `timeout`.
    pub fn take(&self, timeout: Duration) -> Taken {
        let deadline = Instant::now() + timeout;
        let mut g = self.lock();
        loop {
            if let Some(f) = g.frames.pop_front() {
                drop(g);
                self.cv.notify_all();
                return Taken::Frame(f);
            }
            if g.closed {
                return Taken::Closed;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Taken::Empty;
            }
            g = self
                .cv
                .wait_timeout(g, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// No more frames will come; frames already in the slot can still be taken.
    pub fn close(&self) {
        self.lock().closed = true;
        self.cv.notify_all();
    }
}

/// Counts and hands frames on for one camera.
struct Feed<'a> {
    camera: &'a Camera,
    /// Time to read and convert one frame.
    decode_t: prometheus::Histogram,
    slot: &'a Slot,
    metrics: &'a Metrics,
    stop: &'a AtomicBool,
    seq: u64,
    window: (Instant, u32),
    last_put: Option<Instant>,
    /// Set for replays: frame `seq` was filmed at `start + seq * step`.
    media: Option<MediaClock>,
}

/// The time line of a recording.
#[derive(Debug, Clone, Copy)]
struct MediaClock {
    start: DateTime<Utc>,
    step: chrono::Duration,
}

impl MediaClock {
    /// A recording made at `fps` frames per second (what the file says; a missing or
    /// absurd rate, which some containers report, counts as 25).
    fn at_fps(fps: f64) -> MediaClock {
        let fps = if fps.is_finite() && (1.0..=240.0).contains(&fps) {
            fps
        } else {
            25.0
        };
        MediaClock {
            start: Utc::now(),
            step: chrono::Duration::microseconds((1e6 / fps) as i64),
        }
    }
}

impl Feed<'_> {
    /// Hands on one frame; `false` when the camera should stop.
    fn deliver(&mut self, image: RgbImage) -> bool {
        let name = self.camera.name.as_str();
        self.metrics.frames.with_label_values(&[name]).inc();
        self.window.1 += 1;
        let elapsed = self.window.0.elapsed();
        if elapsed >= Duration::from_secs(1) {
            self.metrics
                .fps
                .with_label_values(&[name])
                .set(self.window.1 as f64 / elapsed.as_secs_f64());
            self.window = (Instant::now(), 0);
        }
        let at = match self.media {
            Some(m) => m.start + m.step * self.seq as i32,
            None => Utc::now(),
        };
        let frame = Frame {
            seq: self.seq,
            at,
            image: Arc::new(image),
        };
        self.seq += 1;
        if self.camera.source.is_live() {
            if self.slot.put(frame) {
                self.metrics.frames_dropped.with_label_values(&[name]).inc();
            }
            true
        } else {
            if let (Some(every), Some(last)) = (self.camera.replay_interval, self.last_put) {
                let wait = every.saturating_sub(last.elapsed());
                if !wait.is_zero() {
                    std::thread::sleep(wait);
                }
            }
            self.last_put = Some(Instant::now());
            self.slot.put_wait(frame, self.stop)
        }
    }

    fn undecodable(&self) {
        self.metrics
            .frames_undecodable
            .with_label_values(&[self.camera.name.as_str()])
            .inc();
    }
}

/// Runs `camera` until its source ends (replays) or `stop` is set, then closes the
/// slot. Blocking: call it on the camera's own thread.
pub fn run_camera(
    camera: &Camera,
    slot: &Slot,
    metrics: &Metrics,
    stop: &AtomicBool,
) -> Result<(), CaptureError> {
    let decode_t = metrics.stage_seconds.with_label_values(&["capture"]);
    let mut feed = Feed {
        camera,
        decode_t,
        slot,
        metrics,
        stop,
        seq: 0,
        window: (Instant::now(), 0),
        last_put: None,
        media: None,
    };
    let name = camera.name.as_str();
    let result = match &camera.source {
        Source::Push => {
            metrics.camera_state(name, "waiting for snapshots", None);
            return Ok(());
        }
        Source::Stills(dir) => replay_stills(dir, &mut feed),
        Source::File(path) => read_file(path, &mut feed),
        Source::Stream(url) => read_live(
            &mut feed,
            || videoio::VideoCapture::from_file(url, videoio::CAP_FFMPEG),
            url,
        ),
        Source::Device(n) => read_live(
            &mut feed,
            || videoio::VideoCapture::new(*n, videoio::CAP_V4L2),
            &format!("/dev/video{n}"),
        ),
    };
    match &result {
        Ok(()) => metrics.camera_state(name, "finished", None),
        Err(e) => metrics.camera_state(name, "failed", Some(e.to_string())),
    }
    slot.close();
    result
}

/// Starts `camera` on its own thread.
pub fn spawn(
    camera: Camera,
    slot: Arc<Slot>,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("cam-{}", camera.name))
        .spawn(move || {
            if let Err(e) = run_camera(&camera, &slot, &metrics, &stop) {
                tracing::error!(camera = %camera.name, error = %e, "camera stopped");
            }
        })
}

fn replay_stills(dir: &Path, feed: &mut Feed<'_>) -> Result<(), CaptureError> {
    let listing = |error| CaptureError::Stills {
        path: dir.into(),
        error,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(listing)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    // Stills carry no frame rate: space them by the replay interval, or 5 per second.
    let every = feed
        .camera
        .replay_interval
        .unwrap_or(Duration::from_millis(200));
    feed.media = Some(MediaClock::at_fps(1.0 / every.as_secs_f64().max(1e-3)));
    feed.metrics
        .camera_state(&feed.camera.name, "replaying", None);
    for path in files {
        if feed.stop.load(Ordering::Relaxed) {
            break;
        }
        let decoded = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| image::load_from_memory(&b).map_err(|e| e.to_string()));
        match decoded {
            Ok(img) => {
                if !feed.deliver(img.to_rgb8()) {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(camera = %feed.camera.name, file = %path.display(), error = %e, "still does not decode; skipped");
                feed.undecodable();
            }
        }
    }
    Ok(())
}

fn read_file(path: &Path, feed: &mut Feed<'_>) -> Result<(), CaptureError> {
    let source = path.display().to_string();
    if !path.is_file() {
        feed.undecodable();
        return Err(CaptureError::Open { what: source });
    }
    let mut cap = videoio::VideoCapture::from_file(&source, videoio::CAP_FFMPEG)?;
    if !cap.is_opened()? {
        feed.undecodable();
        return Err(CaptureError::Open { what: source });
    }
    feed.media = Some(MediaClock::at_fps(
        cap.get(videoio::CAP_PROP_FPS).unwrap_or(0.0),
    ));
    feed.metrics
        .camera_state(&feed.camera.name, "replaying", None);
    let mut bgr = Mat::default();
    let mut rgb = Mat::default();
    // A file ends at the first failed read; a few undecodable frames in a row
    // before that are counted.
    while !feed.stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        match cap.read(&mut bgr) {
            Ok(true) if !bgr.empty() => match to_rgb(&bgr, &mut rgb) {
                Ok(img) => {
                    feed.decode_t.observe(t.elapsed().as_secs_f64());
                    if !feed.deliver(img) {
                        break;
                    }
                }
                Err(_) => feed.undecodable(),
            },
            Ok(true) => feed.undecodable(),
            Ok(false) => break,
            Err(_) => {
                feed.undecodable();
                break;
            }
        }
    }
    if feed.seq == 0 {
        // Opened, but not one frame decoded: as good as unreadable.
        return Err(CaptureError::Open { what: source });
    }
    Ok(())
}

/// Reads a live source, reopening it with backoff whenever it dies.
fn read_live(
    feed: &mut Feed<'_>,
    open: impl Fn() -> opencv::Result<videoio::VideoCapture>,
    what: &str,
) -> Result<(), CaptureError> {
    const FAILED_READS_BEFORE_REOPEN: u32 = 25;
    let name = feed.camera.name.clone();
    let mut bgr = Mat::default();
    let mut rgb = Mat::default();
    let mut attempt = 0u32;
    while !feed.stop.load(Ordering::Relaxed) {
        feed.metrics.camera_state(
            &name,
            if attempt == 0 {
                "connecting"
            } else {
                "reconnecting"
            },
            None,
        );
        let cap = open().and_then(|c| c.is_opened().map(|ok| (c, ok)));
        let mut cap = match cap {
            Ok((c, true)) => c,
            Ok((_, false)) | Err(_) => {
                feed.metrics
                    .open_failures
                    .with_label_values(&[name.as_str()])
                    .inc();
                attempt += 1;
                let wait = Duration::from_millis(500)
                    .saturating_mul(1 << attempt.min(6))
                    .min(Duration::from_secs(30));
                feed.metrics.camera_state(
                    &name,
                    "reconnecting",
                    Some(format!("cannot open {what}")),
                );
                tracing::warn!(camera = %name, source = what, retry_in_s = wait.as_secs_f32(), "cannot open camera");
                sleep_unless(wait, feed.stop);
                continue;
            }
        };
        if attempt > 0 {
            feed.metrics
                .reconnects
                .with_label_values(&[name.as_str()])
                .inc();
        }
        attempt = 0;
        feed.metrics.camera_state(&name, "streaming", None);
        let mut failed = 0u32;
        while !feed.stop.load(Ordering::Relaxed) && failed < FAILED_READS_BEFORE_REOPEN {
            let t = Instant::now();
            match cap.read(&mut bgr) {
                Ok(true) if !bgr.empty() => match to_rgb(&bgr, &mut rgb) {
                    Ok(img) => {
                        feed.decode_t.observe(t.elapsed().as_secs_f64());
                        failed = 0;
                        feed.deliver(img);
                    }
                    Err(_) => {
                        failed += 1;
                        feed.undecodable();
                    }
                },
                Ok(_) | Err(_) => {
                    failed += 1;
                    feed.undecodable();
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        if failed >= FAILED_READS_BEFORE_REOPEN {
            feed.metrics
                .camera_state(&name, "reconnecting", Some(format!("{what}: stream died")));
            tracing::warn!(camera = %name, "stream died; reopening");
            attempt = 1;
            sleep_unless(Duration::from_millis(500), feed.stop);
        }
    }
    Ok(())
}

fn sleep_unless(d: Duration, stop: &AtomicBool) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::Relaxed) && Instant::now() < end {
        std::thread::sleep(
            Duration::from_millis(50).min(end.saturating_duration_since(Instant::now())),
        );
    }
}

/// Converts a decoded OpenCV frame (BGR, BGRA or grey; 8-bit) to RGB, once.
/// `rgb` is a scratch Mat reused across frames.
pub fn to_rgb(src: &Mat, rgb: &mut Mat) -> Result<RgbImage, CaptureError> {
    let code = match (src.channels(), src.depth()) {
        (3, opencv::core::CV_8U) => imgproc::COLOR_BGR2RGB,
        (4, opencv::core::CV_8U) => imgproc::COLOR_BGRA2RGB,
        (1, opencv::core::CV_8U) => imgproc::COLOR_GRAY2RGB,
        (channels, depth) => return Err(CaptureError::Unsupported { channels, depth }),
    };
    imgproc::cvt_color_def(src, rgb, code)?;
    let (w, h) = (rgb.cols() as u32, rgb.rows() as u32);
    let bytes = rgb.data_bytes()?;
    RgbImage::from_raw(w, h, bytes.to_vec()).ok_or(CaptureError::Unsupported {
        channels: 3,
        depth: -1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub::api::Direction;
    use std::process::Command;

    fn camera(source: Source) -> Camera {
        Camera {
            name: "test".into(),
            source,
            lane: 1,
            direction: Direction::Inbound,
            replay_interval: None,
        }
    }

    fn drain(slot: &Slot) -> Vec<Frame> {
        let mut out = Vec::new();
        loop {
            match slot.take(Duration::from_secs(10)) {
                Taken::Frame(f) => out.push(f),
                Taken::Closed => return out,
                Taken::Empty => panic!("camera stalled"),
            }
        }
    }

    #[test]
    fn slot_replaces_stale_frames_and_closes() {
        let slot = Slot::new();
        let f = |seq| Frame {
            seq,
            at: Utc::now(),
            image: Arc::new(RgbImage::new(1, 1)),
        };
        assert!(!slot.put(f(0)));
        assert!(slot.put(f(1)), "the unread frame 0 is dropped");
        assert!(slot.try_put(f(2)).is_err(), "full: given back");
        slot.close();
        match slot.take(Duration::ZERO) {
            Taken::Frame(fr) => assert_eq!(fr.seq, 1),
            other => panic!("{other:?}"),
        }
        assert!(matches!(slot.take(Duration::ZERO), Taken::Closed));
        let push = Slot::with_capacity(2);
        assert!(push.try_put(f(0)).is_ok() && push.try_put(f(1)).is_ok());
        assert!(push.try_put(f(2)).is_err());
    }

    #[test]
    fn a_live_camera_never_waits_stale_frames_are_dropped_and_counted() {
        let cam = camera(Source::Stream("rtsp://example/none".into()));
        let slot = Slot::new();
        let metrics = Metrics::new();
        let stop = AtomicBool::new(false);
        let decode_t = metrics.stage_seconds.with_label_values(&["capture"]);
        let mut feed = Feed {
            camera: &cam,
            decode_t,
            slot: &slot,
            metrics: &metrics,
            stop: &stop,
            seq: 0,
            window: (Instant::now(), 0),
            last_put: None,
            media: None,
        };
        // The pipeline takes nothing: each new frame replaces the unread one.
        for shade in 0..5u8 {
            assert!(feed.deliver(RgbImage::from_pixel(2, 2, image::Rgb([shade; 3]))));
        }
        assert_eq!(metrics.frames.with_label_values(&["test"]).get(), 5);
        assert_eq!(metrics.frames_dropped.with_label_values(&["test"]).get(), 4);
        match slot.take(Duration::ZERO) {
            Taken::Frame(f) => assert_eq!(
                (f.seq, f.image.get_pixel(0, 0).0[0]),
                (4, 4),
                "the freshest frame is kept"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_a_generated_clip_and_converts_bgr_to_rgb() {
        let dir = tempfile::tempdir().unwrap();
        let clip = dir.path().join("clip.avi");
        // A solid red clip: after the BGR→RGB conversion, red must be in channel 0.
        let ok = Command::new("ffmpeg")
            .args([
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                "color=c=red:size=64x48:rate=10:duration=1",
                "-c:v",
                "mjpeg",
                "-q:v",
                "2",
            ])
            .arg(&clip)
            .status()
            .expect("ffmpeg is installed (make deps)");
        assert!(ok.success());
        let slot = Slot::new();
        let metrics = Metrics::new();
        let stop = AtomicBool::new(false);
        let frames = std::thread::scope(|s| {
            let h =
                s.spawn(|| run_camera(&camera(Source::File(clip.clone())), &slot, &metrics, &stop));
            let frames = drain(&slot);
            h.join().unwrap().unwrap();
            frames
        });
        assert_eq!(frames.len(), 10, "a replay drops nothing");
        let img = &frames[5].image;
        assert_eq!(img.dimensions(), (64, 48));
        let px = img.get_pixel(32, 24).0;
        assert!(
            px[0] > 200 && px[1] < 60 && px[2] < 60,
            "red stays red: {px:?}"
        );
        assert_eq!(metrics.frames.with_label_values(&["test"]).get(), 10);
        assert_eq!(
            metrics
                .frames_undecodable
                .with_label_values(&["test"])
                .get(),
            0
        );
        // testsrc too, in a different container and codec.
        let clip2 = dir.path().join("testsrc.mp4");
        let ok = Command::new("ffmpeg")
            .args([
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=96x64:rate=25:duration=0.4",
                "-c:v",
                "mpeg4",
            ])
            .arg(&clip2)
            .status()
            .unwrap();
        assert!(ok.success());
        let slot = Slot::new();
        let frames = std::thread::scope(|s| {
            let h = s
                .spawn(|| run_camera(&camera(Source::File(clip2.clone())), &slot, &metrics, &stop));
            let frames = drain(&slot);
            h.join().unwrap().unwrap();
            frames
        });
        assert_eq!(frames.len(), 10);
    }

    #[test]
    fn a_corrupt_file_is_a_clear_counted_error() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.mp4");
        std::fs::write(
            &bad,
            b"this is not a video, just some bytes pretending to be one",
        )
        .unwrap();
        let slot = Slot::new();
        let metrics = Metrics::new();
        let stop = AtomicBool::new(false);
        let err = run_camera(&camera(Source::File(bad)), &slot, &metrics, &stop).unwrap_err();
        assert!(
            err.to_string().contains("cannot open") && err.to_string().contains("bad.mp4"),
            "{err}"
        );
        assert!(
            metrics
                .frames_undecodable
                .with_label_values(&["test"])
                .get()
                >= 1
        );
        assert!(matches!(slot.take(Duration::ZERO), Taken::Closed));
        assert_eq!(metrics.cameras.lock().unwrap()["test"].state, "failed");
        // A missing file too.
        let err = run_camera(
            &camera(Source::File(dir.path().join("nope.mp4"))),
            &Slot::new(),
            &metrics,
            &stop,
        )
        .unwrap_err();
        assert!(err.to_string().contains("nope.mp4"));
    }

    #[test]
    fn stills_replay_in_order_and_skip_undecodable_ones() {
        let dir = tempfile::tempdir().unwrap();
        for (i, shade) in [(1u8, 10u8), (3, 30)] {
            let img = RgbImage::from_pixel(8, 8, image::Rgb([shade, shade, shade]));
            img.save(dir.path().join(format!("{i:02}.png"))).unwrap();
        }
        std::fs::write(dir.path().join("02.jpg"), b"\xff\xd8 truncated jpeg").unwrap();
        let slot = Slot::new();
        let metrics = Metrics::new();
        let stop = AtomicBool::new(false);
        let frames = std::thread::scope(|s| {
            let h = s.spawn(|| {
                run_camera(
                    &camera(Source::Stills(dir.path().into())),
                    &slot,
                    &metrics,
                    &stop,
                )
            });
            let frames = drain(&slot);
            h.join().unwrap().unwrap();
            frames
        });
        let shades: Vec<u8> = frames
            .iter()
            .map(|f| f.image.get_pixel(0, 0).0[0])
            .collect();
        assert_eq!(shades, [10, 30]);
        assert_eq!(
            metrics
                .frames_undecodable
                .with_label_values(&["test"])
                .get(),
            1
        );
    }

    #[test]
    fn a_dead_stream_is_retried_until_stopped() {
        let slot = Slot::new();
        let metrics = Metrics::new();
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            let h = s.spawn(|| {
                run_camera(
                    &camera(Source::Stream("rtsp://127.0.0.1:1/none".into())),
                    &slot,
                    &metrics,
                    &stop,
                )
            });
            let deadline = Instant::now() + Duration::from_secs(20);
            while metrics.cameras.lock().unwrap().get("test").map(|c| c.state)
                != Some("reconnecting")
            {
                assert!(Instant::now() < deadline, "never tried to reconnect");
                std::thread::sleep(Duration::from_millis(20));
            }
            stop.store(true, Ordering::Relaxed);
            h.join().unwrap().unwrap();
        });
        assert!(metrics.cameras.lock().unwrap()["test"]
            .last_error
            .as_deref()
            .unwrap()
            .contains("cannot open"));
    }
}
