//! Tracking: detections across frames become one passage per vehicle (DESIGN.md
//! step 5).
//!
//! Pure and generic over the frame payload `F` (the pipeline uses
//! `Arc<RgbImage>`, tests use plain numbers). A detection joins the open track whose
//! last box overlaps it most (IoU ≥ `min_iou`), or, without boxes, the track whose
//! plate reads agree; otherwise it starts a track. A track closes when its vehicle
//! has not been seen for `gap`, or after `max_frames` (a parked truck). On closing,
//! the plate is voted per character across frames ([`vote_plate`](crate::track::vote_plate)), the load is
//! voted by confidence ([`vote_cargo`](crate::track::vote_cargo)), and the frame with the best reads is kept.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hub::api::{CargoRead, PlateColor, PlateLayout, PlateText};

use crate::config::TrackSettings;

/// An axis-aligned box in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl BBox {
    /// Intersection over union; 0 for empty boxes.
    pub fn iou(&self, o: &BBox) -> f32 {
        let ix = (self.x + self.w).min(o.x + o.w) - self.x.max(o.x);
        let iy = (self.y + self.h).min(o.y + o.h) - self.y.max(o.y);
        if ix <= 0.0 || iy <= 0.0 {
            return 0.0;
        }
        let inter = ix * iy;
        let union = self.w * self.h + o.w * o.h - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }

    /// How much two anchors look like one vehicle: their IoU, or [`NESTED`] when one
    /// is a small box lying inside the other. A vehicle is anchored by its plate when
    /// the detector saw the plate but no vehicle box around it, and by its vehicle
    /// box otherwise; the same truck can alternate between the two from frame to
    /// frame, and a plate box never overlaps its vehicle box by IoU.
    pub fn affinity(&self, o: &BBox) -> f32 {
        let (small, large) = if self.w * self.h <= o.w * o.h {
            (self, o)
        } else {
            (o, self)
        };
        let (small_area, large_area) = (small.w * small.h, large.w * large.h);
        if small_area > 0.0 && small_area <= 0.25 * large_area {
            let ix = (small.x + small.w).min(large.x + large.w) - small.x.max(large.x);
            let iy = (small.y + small.h).min(large.y + large.h) - small.y.max(large.y);
            if ix > 0.0 && iy > 0.0 && ix * iy >= 0.9 * small_area {
                return NESTED.max(self.iou(o));
            }
        }
        self.iou(o)
    }
}

/// The affinity of a box nested in another (see [`BBox::affinity`]).
pub const NESTED: f32 = 0.5;

/// What the reader made of one plate in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateObservation {
    /// The characters read (may not be a valid plate on its own).
    pub text: String,
    /// One confidence per character of `text`.
    pub char_confidences: Vec<f32>,
    pub color: PlateColor,
    pub layout: PlateLayout,
    /// Where the plate is, for the crop.
    pub bbox: Option<BBox>,
}

impl PlateObservation {
    fn mean_confidence(&self) -> f32 {
        if self.char_confidences.is_empty() {
            return 0.0;
        }
        self.char_confidences.iter().sum::<f32>() / self.char_confidences.len() as f32
    }
}

/// What the classifier made of one load in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct CargoObservation {
    pub read: CargoRead,
    /// Where the load is, for the crop.
    pub bbox: Option<BBox>,
}

/// One vehicle in one frame, as perception reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The vehicle's box, when the detector gives one.
    pub vehicle: Option<BBox>,
    /// Detector confidence in [0, 1].
    pub score: f32,
    pub plate: Option<PlateObservation>,
    pub cargo: Option<CargoObservation>,
}

impl Detection {
    /// How good this frame is as evidence: a confident plate read matters most.
    fn quality(&self) -> f32 {
        let plate = self
            .plate
            .as_ref()
            .map_or(0.0, |p| 2.0 * p.mean_confidence());
        let cargo = self.cargo.as_ref().map_or(0.0, |c| c.read.confidence);
        self.score + plate + cargo
    }

    fn anchor(&self) -> Option<BBox> {
        self.vehicle.or(self.plate.as_ref().and_then(|p| p.bbox))
    }
}

/// The plate of a passage, voted across its frames.
#[derive(Debug, Clone, PartialEq)]
pub struct VotedPlate {
    pub text: PlateText,
    pub color: PlateColor,
    pub layout: PlateLayout,
    /// Per character: the mean confidence of the winning character over the reads of
    /// the winning length (a read that disagrees counts 0).
    pub char_confidences: Vec<f32>,
    /// The weakest character's confidence.
    pub confidence: f32,
}

/// A vehicle that has passed: what the pipeline turns into a passage.
#[derive(Debug, Clone, PartialEq)]
pub struct Passed<F> {
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub frames: u32,
    pub plate: Option<VotedPlate>,
    pub cargo: Option<CargoRead>,
    /// The best frame and what was detected in it (for the evidence crops).
    pub best_frame: F,
    pub best: Detection,
}

/// Which open track a detection belongs to.
enum Found {
    /// A track not yet seen in this frame.
    Free(usize),
    /// A track this frame already added to.
    SameFrame(usize),
}

struct Track<F> {
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    frames: u32,
    anchor: Option<BBox>,
    plates: Vec<PlateObservation>,
    cargos: Vec<CargoRead>,
    best_quality: f32,
    best_frame: F,
    best: Detection,
}

/// Open tracks of one camera.
pub struct Tracker<F> {
    settings: TrackSettings,
    tracks: Vec<Track<F>>,
    /// Reused per frame: which tracks already took a detection.
    taken: Vec<bool>,
}

impl<F: Clone> Track<F> {
    /// Adds one detection's reads, and keeps its frame if it is the best evidence yet.
    fn absorb(&mut self, d: &Detection, frame: &F) {
        self.plates.extend(d.plate.clone());
        self.cargos.extend(d.cargo.as_ref().map(|c| c.read.clone()));
        let q = d.quality();
        if q > self.best_quality {
            self.best_quality = q;
            self.best_frame = frame.clone();
            self.best = d.clone();
        }
    }
}

impl<F: Clone> Tracker<F> {
    pub fn new(settings: TrackSettings) -> Self {
        Tracker {
            settings,
            tracks: Vec::new(),
            taken: Vec::new(),
        }
    }

    /// Vehicles being followed now.
    pub fn open(&self) -> usize {
        self.tracks.len()
    }

    /// Feeds one frame's detections; vehicles that have passed go to `closed`.
    pub fn observe(
        &mut self,
        at: DateTime<Utc>,
        frame: &F,
        detections: &[Detection],
        closed: &mut Vec<Passed<F>>,
    ) {
        // First close what has gone: a new truck where an old one was is a new passage.
        self.expire(at, closed);
        self.taken.clear();
        self.taken.resize(self.tracks.len(), false);
        for d in detections {
            match self.find(d) {
                Some(Found::Free(i)) => {
                    self.taken[i] = true;
                    let t = &mut self.tracks[i];
                    t.last_seen = at;
                    t.frames += 1;
                    t.anchor = d.anchor().or(t.anchor);
                    t.absorb(d, frame);
                }
                // A second detection of a vehicle already seen in this frame (its
                // plate found apart from its box): its reads count, not as a frame.
                Some(Found::SameFrame(i)) => self.tracks[i].absorb(d, frame),
                None => {
                    self.tracks.push(Track {
                        first_seen: at,
                        last_seen: at,
                        frames: 1,
                        anchor: d.anchor(),
                        plates: d.plate.iter().cloned().collect(),
                        cargos: d.cargo.iter().map(|c| c.read.clone()).collect(),
                        best_quality: d.quality(),
                        best_frame: frame.clone(),
                        best: d.clone(),
                    });
                    self.taken.push(true);
                }
            }
        }
        let max_frames = self.settings.max_frames;
        self.close_where(closed, |t| t.frames >= max_frames);
    }

    /// Closes tracks not seen for `gap` at `at`, when no frame came (a quiet road).
    pub fn expire(&mut self, at: DateTime<Utc>, closed: &mut Vec<Passed<F>>) {
        let gap = chrono::Duration::from_std(self.settings.gap).unwrap_or(chrono::Duration::MAX);
        self.close_where(closed, |t| at - t.last_seen > gap);
    }

    /// Closes every open track (end of a stream, a trigger camera's snapshot).
    pub fn flush(&mut self, closed: &mut Vec<Passed<F>>) {
        self.close_where(closed, |_| true);
    }

    fn find(&self, d: &Detection) -> Option<Found> {
        let taken = |i: usize| self.taken.get(i).copied().unwrap_or(false);
        if let Some(b) = d.anchor() {
            let best = |want_taken: bool| {
                (0..self.tracks.len())
                    .filter(|i| taken(*i) == want_taken)
                    .filter_map(|i| self.tracks[i].anchor.map(|a| (i, a.affinity(&b))))
                    .filter(|(_, affinity)| *affinity >= self.settings.min_iou.min(NESTED))
                    .max_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|(i, _)| i)
            };
            return best(false)
                .map(Found::Free)
                .or_else(|| best(true).map(Found::SameFrame));
        }
        // No box: the same plate text is the same vehicle.
        let text = &d.plate.as_ref()?.text;
        (0..self.tracks.len())
            .find(|i| self.tracks[*i].plates.iter().any(|p| &p.text == text))
            .map(|i| {
                if taken(i) {
                    Found::SameFrame(i)
                } else {
                    Found::Free(i)
                }
            })
    }

    fn close_where(&mut self, closed: &mut Vec<Passed<F>>, done: impl Fn(&Track<F>) -> bool) {
        let mut i = 0;
        while i < self.tracks.len() {
            if done(&self.tracks[i]) {
                let t = self.tracks.swap_remove(i);
                closed.push(Passed {
                    first_seen: t.first_seen,
                    last_seen: t.last_seen,
                    frames: t.frames,
                    plate: vote_plate(&t.plates),
                    cargo: vote_cargo(&t.cargos),
                    best_frame: t.best_frame,
                    best: t.best,
                });
            } else {
                i += 1;
            }
        }
        closed.sort_by_key(|p| p.first_seen);
    }
}

/// Votes a plate from reads across frames: the length with the most total
/// confidence wins (a read that dropped or doubled a character does not shift the
/// others), then each position takes the character with the most confidence. When
/// the voted text is not a GA 36 plate, the next length is tried; `None` when no
/// length gives a plate (the passage is 无车牌).
pub fn vote_plate(reads: &[PlateObservation]) -> Option<VotedPlate> {
    let mut by_len: HashMap<usize, Vec<&PlateObservation>> = HashMap::new();
    for r in reads {
        let n = r.text.chars().count();
        if n > 0 && n == r.char_confidences.len() {
            by_len.entry(n).or_default().push(r);
        }
    }
    let mut lengths: Vec<(usize, f32)> = by_len
        .iter()
        .map(|(n, rs)| (*n, rs.iter().map(|r| r.mean_confidence()).sum()))
        .collect();
    lengths.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
    for (n, _) in lengths {
        let group = &by_len[&n];
        let mut text = String::with_capacity(n * 3);
        let mut confs = Vec::with_capacity(n);
        for pos in 0..n {
            let mut weights: Vec<(char, f32)> = Vec::new();
            for r in group {
                let c = r.text.chars().nth(pos).unwrap_or('?');
                let w = r.char_confidences[pos];
                match weights.iter_mut().find(|(k, _)| *k == c) {
                    Some((_, sum)) => *sum += w,
                    None => weights.push((c, w)),
                }
            }
            let (c, w) = weights
                .into_iter()
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))?;
            text.push(c);
            confs.push(w / group.len() as f32);
        }
        if let Ok(text) = PlateText::parse(&text) {
            let all = || reads.iter().map(|r| (r, r.mean_confidence()));
            let color = weighted_mode(all().map(|(r, w)| (r.color, w)))?;
            let layout = weighted_mode(all().map(|(r, w)| (r.layout, w)))?;
            let confidence = confs.iter().copied().fold(1.0, f32::min);
            return Some(VotedPlate {
                text,
                color,
                layout,
                char_confidences: confs,
                confidence,
            });
        }
    }
    None
}

/// Votes the load across frames: cover and material each by summed confidence;
/// the confidence is the smaller of the two winners' mean support.
pub fn vote_cargo(reads: &[CargoRead]) -> Option<CargoRead> {
    if reads.is_empty() {
        return None;
    }
    let n = reads.len() as f32;
    let support = |w: f32| w / n;
    let (cover, cw) = weighted_mode_with_weight(reads.iter().map(|r| (r.cover, r.confidence)))?;
    let (material, mw) =
        weighted_mode_with_weight(reads.iter().map(|r| (r.material, r.confidence)))?;
    Some(CargoRead {
        cover,
        material,
        confidence: support(cw).min(support(mw)),
    })
}

fn weighted_mode<T: PartialEq + Copy>(items: impl Iterator<Item = (T, f32)>) -> Option<T> {
    weighted_mode_with_weight(items).map(|(t, _)| t)
}

fn weighted_mode_with_weight<T: PartialEq + Copy>(
    items: impl Iterator<Item = (T, f32)>,
) -> Option<(T, f32)> {
    let mut sums: Vec<(T, f32)> = Vec::new();
    for (t, w) in items {
        match sums.iter_mut().find(|(k, _)| *k == t) {
            Some((_, s)) => *s += w,
            None => sums.push((t, w)),
        }
    }
    // Ties go to the first seen: `max_by` keeps the last maximum, so reverse.
    sums.into_iter().rev().max_by(|a, b| a.1.total_cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub::api::{Cover, Material};
    use std::time::Duration;

    fn read(text: &str, confs: &[f32]) -> PlateObservation {
        PlateObservation {
            text: text.into(),
            char_confidences: confs.to_vec(),
            color: PlateColor::Yellow,
            layout: PlateLayout::Single,
            bbox: None,
        }
    }

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_800_000_000_000 + ms).unwrap()
    }

    fn det(x: f32, plate: Option<PlateObservation>, score: f32) -> Detection {
        Detection {
            vehicle: Some(BBox {
                x,
                y: 0.0,
                w: 100.0,
                h: 100.0,
            }),
            score,
            plate,
            cargo: None,
        }
    }

    fn settings() -> TrackSettings {
        TrackSettings {
            gap: Duration::from_millis(500),
            min_iou: 0.3,
            max_frames: 100,
            min_frames: 1,
        }
    }

    #[test]
    fn iou() {
        let a = BBox {
            x: 0.0,
            y: 0.0,
            w: 10.0,
            h: 10.0,
        };
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&BBox { x: 20.0, ..a }), 0.0);
        assert!((a.iou(&BBox { x: 5.0, ..a }) - 50.0 / 150.0).abs() < 1e-6);
    }

    #[test]
    fn a_plate_alternating_with_its_vehicle_box_is_one_passage() {
        let mut t: Tracker<u32> = Tracker::new(settings());
        let mut closed = Vec::new();
        let plate = |x: f32| PlateObservation {
            bbox: Some(BBox {
                x: x + 40.0,
                y: 85.0,
                w: 20.0,
                h: 8.0,
            }),
            ..read("晋H93513", &[0.9; 7])
        };
        for f in 0..6u32 {
            let x = 5.0 * f as f32;
            let d = if f % 2 == 0 {
                det(x, None, 0.9)
            } else {
                Detection {
                    vehicle: None,
                    score: 0.8,
                    plate: Some(plate(x)),
                    cargo: None,
                }
            };
            // In frame 4 the plate is also found apart from the box, in the same frame.
            let mut dets = vec![d];
            if f == 4 {
                dets.push(Detection {
                    vehicle: None,
                    score: 0.8,
                    plate: Some(plate(x)),
                    cargo: None,
                });
            }
            t.observe(at(100 * f as i64), &f, &dets, &mut closed);
        }
        assert!(closed.is_empty());
        t.flush(&mut closed);
        assert_eq!(closed.len(), 1, "one vehicle");
        assert_eq!(
            closed[0].frames, 6,
            "the same-frame plate is not another frame"
        );
        assert_eq!(closed[0].plate.as_ref().unwrap().text.as_str(), "晋H93513");
    }

    #[test]
    fn affinity_is_iou_or_nesting() {
        let truck = BBox {
            x: 0.0,
            y: 0.0,
            w: 100.0,
            h: 100.0,
        };
        let plate = BBox {
            x: 40.0,
            y: 85.0,
            w: 20.0,
            h: 8.0,
        };
        assert_eq!(truck.affinity(&plate), NESTED);
        assert_eq!(plate.affinity(&truck), NESTED);
        assert_eq!(truck.affinity(&truck), 1.0);
        // A plate outside the box, or a box not much smaller, is not nested.
        assert_eq!(truck.affinity(&BBox { y: 120.0, ..plate }), 0.0);
        let half = BBox { w: 60.0, ..truck };
        assert!((truck.affinity(&half) - 0.6).abs() < 1e-6);
    }

    #[test]
    fn plate_vote_is_per_character_and_confidence_weighted() {
        let reads = [
            read("晋H935l3", &[0.9, 0.9, 0.9, 0.9, 0.9, 0.3, 0.9]),
            read("晋H93513", &[0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.9]),
            read("晋H9B513", &[0.9, 0.9, 0.9, 0.2, 0.9, 0.8, 0.9]),
        ];
        let v = vote_plate(&reads).unwrap();
        assert_eq!(v.text.as_str(), "晋H93513");
        assert_eq!(v.char_confidences.len(), 7);
        // Position 3: '3' won with 0.9 + 0.9 of three reads.
        assert!((v.char_confidences[3] - 0.6).abs() < 1e-6);
        assert!((v.confidence - 1.6 / 3.0).abs() < 1e-6, "{}", v.confidence);
        assert_eq!(v.color, PlateColor::Yellow);
    }

    #[test]
    fn plate_vote_is_length_aware() {
        // One read dropped a character; two confident reads of 7 win, unshifted.
        let reads = [
            read("冀A1234", &[0.99; 6]),
            read("冀A12345", &[0.8; 7]),
            read("冀A12345", &[0.7; 7]),
        ];
        assert_eq!(vote_plate(&reads).unwrap().text.as_str(), "冀A12345");
        // An 8-character new-energy plate read confidently beats a weak 7.
        let reads = [read("京AD12345", &[0.95; 8]), read("京AD1234", &[0.4; 7])];
        assert_eq!(vote_plate(&reads).unwrap().text.as_str(), "京AD12345");
        // A winning length that is no plate falls back to the next one.
        let reads = [read("XXXXXXXXX", &[0.99; 9]), read("冀A12345", &[0.5; 7])];
        assert_eq!(vote_plate(&reads).unwrap().text.as_str(), "冀A12345");
        // Nothing readable: no plate (无车牌); mismatched confidences are ignored.
        assert!(vote_plate(&[read("??", &[0.9, 0.9])]).is_none());
        assert!(vote_plate(&[read("冀A12345", &[0.9])]).is_none());
        assert!(vote_plate(&[]).is_none());
    }

    #[test]
    fn cargo_vote() {
        let r = |cover, material, confidence| CargoRead {
            cover,
            material,
            confidence,
        };
        let v = vote_cargo(&[
            r(Cover::Open, Material::Coal, 0.9),
            r(Cover::Tarped, Material::Coal, 0.4),
            r(Cover::Open, Material::Coal, 0.8),
        ])
        .unwrap();
        assert_eq!((v.cover, v.material), (Cover::Open, Material::Coal));
        assert!((v.confidence - 1.7 / 3.0).abs() < 1e-6);
        assert!(vote_cargo(&[]).is_none());
    }

    #[test]
    fn one_vehicle_across_frames_is_one_passage_with_its_best_frame() {
        let mut t: Tracker<u32> = Tracker::new(settings());
        let mut closed = Vec::new();
        // Truck A moves right 10 px per frame; truck B appears far away at frame 2.
        for f in 0..5u32 {
            let mut dets = vec![det(
                10.0 * f as f32,
                Some(read("晋H93513", &[0.5 + 0.1 * f as f32; 7])),
                0.9,
            )];
            if f >= 2 {
                dets.push(det(500.0, None, 0.8));
            }
            t.observe(at(100 * f as i64), &f, &dets, &mut closed);
        }
        assert!(closed.is_empty());
        assert_eq!(t.open(), 2);
        // Nothing for longer than the gap: both pass.
        t.expire(at(700), &mut closed);
        assert!(closed.is_empty(), "within the gap");
        t.expire(at(1200), &mut closed);
        assert_eq!(closed.len(), 2);
        assert_eq!(t.open(), 0);
        let a = &closed[0];
        assert_eq!(a.frames, 5);
        assert_eq!(a.plate.as_ref().unwrap().text.as_str(), "晋H93513");
        assert_eq!(a.best_frame, 4, "the most confident read is the best frame");
        assert_eq!((a.first_seen, a.last_seen), (at(0), at(400)));
        let b = &closed[1];
        assert_eq!(b.frames, 3);
        assert!(b.plate.is_none());
    }

    #[test]
    fn a_new_vehicle_in_the_same_place_after_the_gap_is_a_new_passage() {
        let mut t: Tracker<u32> = Tracker::new(settings());
        let mut closed = Vec::new();
        t.observe(at(0), &0, &[det(0.0, None, 0.9)], &mut closed);
        t.observe(at(2000), &1, &[det(0.0, None, 0.9)], &mut closed);
        assert_eq!(closed.len(), 1, "the first closed when the gap passed");
        t.flush(&mut closed);
        assert_eq!(closed.len(), 2);
    }

    #[test]
    fn boxless_detections_join_by_plate_and_long_tracks_close() {
        let mut t: Tracker<u32> = Tracker::new(TrackSettings {
            max_frames: 3,
            ..settings()
        });
        let mut closed = Vec::new();
        let d = Detection {
            vehicle: None,
            score: 0.5,
            plate: Some(read("冀A12345", &[0.9; 7])),
            cargo: None,
        };
        for f in 0..3 {
            t.observe(
                at(f * 10),
                &(f as u32),
                std::slice::from_ref(&d),
                &mut closed,
            );
        }
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].frames, 3);
    }
}
