//! Where a detected plate really begins and ends, found from its background
//! colour.
//!
//! On the real frames the detector's corners are within a few per cent of the
//! plate's width at most plates, but now and then up to a third of a width off at
//! one end: a box that runs on over the car body left of the plate, or one that
//! starts inside the province character. Either way the reader loses the
//! province, which sits at that end (`frames/dev`: 晋AJ002E for 皖AJ002E, read
//! at 0.07). A plate's background is one flat, saturated colour (GA 36: blue,
//! yellow, green) that fills the margins above and below its characters, so
//! along the plate's own axis the columns that carry that colour are the plate.
//!
//! [`refine_plate_ends`] moves the left and right ends of the corner quad to where
//! that colour stops (top and bottom edges kept); it gives up, rather than guess,
//! on plates with no such colour (white, black, infrared night frames) and on
//! any outcome that does not look like the same plate. [`crate::read_detected_plate`]
//! reads both cuts and keeps the refined one only when its reading is the better,
//! so a refinement that cuts into a character costs nothing but one more read.

use image::RgbImage;

use crate::plate_detector::{
    homography, project, quad_size, sample_bilinear, BBox, PlateBox, Point,
};

/// How far beyond each end of the detector's quad the colour is looked for, as a
/// fraction of the plate's width.
const SEARCH_BEYOND: f64 = 0.3;

/// The most an end may move outwards, as a fraction of the plate's width: the
/// real boxes that cut into a plate lose up to about 0.15 of it, while a longer
/// run of the plate's colour is paint of the same hue (a blue car, a yellow bus).
const MAX_GROWTH: f64 = 0.2;

/// The refined plate must be this share of the detector's width or more, and
/// [`MAX_WIDTH`] or less; anything else is not the same plate.
const MIN_WIDTH: f64 = 0.7;
/// See [`MIN_WIDTH`].
const MAX_WIDTH: f64 = 1.4;

/// Ends that moved less than this fraction of the width are left alone (no
/// second read for a box that was right).
const MIN_MOVE: f64 = 0.03;

/// The share of the middle of the plate that must be of one plate colour for the
/// colour to be trusted.
const MIN_COLOUR_SHARE: f32 = 0.35;

/// A column belongs to the plate while its colour share (smoothed) is at least
/// this fraction of the median share over the middle of the plate: the
/// characters leave a column little of the background in the middle rows, but
/// the margins above and below them keep it.
const EDGE_FRACTION: f32 = 0.3;

/// Width of the smoothing window over columns, as a fraction of the plate's width
/// (about half a character): the gaps between characters and the separator dot
/// must not end the plate.
const SMOOTHING: f64 = 0.04;

/// A run of columns below the floor this long, as a fraction of the plate's width,
/// ends the plate; a shorter one is crossed. In a character-dense stretch the
/// background share can dip under the floor for a column or two, and on a coarse
/// grid that dip decided whether a plate was refined at all.
const GAP: f64 = 0.06;

/// The sampling grid is at most this many columns and rows: the colour share of a
/// column needs no more, and a plate filling a 4K frame costs what a small one does.
const MAX_GRID_COLUMNS: u32 = 160;
/// See [`MAX_GRID_COLUMNS`].
const MAX_GRID_ROWS: u32 = 24;

/// Rows, as fractions of the plate's height, whose colour share is measured per
/// column: the margin above the characters, the margin below them and their middle.
/// The best of the three counts, as the detector's top or bottom edge may be off.
const ROW_BANDS: [(f64, f64); 3] = [(0.04, 0.18), (0.82, 0.96), (0.25, 0.75)];

/// A plate background colour, as OpenCV's 8-bit HSV (hue 0–180): hue range, and
/// the least saturation and value.
#[derive(Debug, Clone, Copy)]
struct Background {
    hue: (u8, u8),
    min_saturation: u8,
    min_value: u8,
}

/// Blue (cars), yellow (trucks, buses, learners), green (new-energy vehicles).
/// White and black plates have no hue to follow and are left as detected.
const BACKGROUNDS: [Background; 3] = [
    Background {
        hue: (100, 130),
        min_saturation: 90,
        min_value: 40,
    },
    Background {
        hue: (12, 35),
        min_saturation: 90,
        min_value: 80,
    },
    Background {
        hue: (35, 95),
        min_saturation: 40,
        min_value: 80,
    },
];

impl Background {
    fn matches(&self, [h, s, v]: [u8; 3]) -> bool {
        (self.hue.0..=self.hue.1).contains(&h) && s >= self.min_saturation && v >= self.min_value
    }
}

/// OpenCV's `COLOR_RGB2HSV` for 8-bit pixels: hue in degrees halved (0–180),
/// saturation and value 0–255.
fn hsv([r, g, b]: [u8; 3]) -> [u8; 3] {
    let (rf, gf, bf) = (f32::from(r), f32::from(g), f32::from(b));
    let v = rf.max(gf).max(bf);
    let min = rf.min(gf).min(bf);
    let d = v - min;
    if v == 0.0 || d == 0.0 {
        return [0, 0, v as u8];
    }
    let s = (255.0 * d / v).round();
    let mut h = if v == rf {
        60.0 * (gf - bf) / d
    } else if v == gf {
        120.0 + 60.0 * (bf - rf) / d
    } else {
        240.0 + 60.0 * (rf - gf) / d
    };
    if h < 0.0 {
        h += 360.0;
    }
    [(h / 2.0).round() as u8 % 180, s as u8, v as u8]
}

/// The plate's quad rectified into a strip along its own axis, `SEARCH_BEYOND`
/// of its width added at each end, sampled on a grid of at most
/// `MAX_GRID_COLUMNS` x `MAX_GRID_ROWS` cells as HSV.
struct Strip {
    hsv: Vec<[u8; 3]>,
    cols: usize,
    rows: usize,
    /// Strip units (the plate's pixels) per grid column.
    du: f64,
    /// The plate's width and height, and where it starts in the strip.
    w: f64,
    h: f64,
    mx: f64,
    /// Strip point → frame point.
    m: [f64; 9],
}

impl Strip {
    fn sample(frame: &RgbImage, plate: &PlateBox) -> Option<Strip> {
        let q = plate.corners.map(|p| (f64::from(p.x), f64::from(p.y)));
        let (w, h) = quad_size(&q);
        if !(w.is_finite() && h.is_finite() && w >= 16.0 && h >= 4.0) {
            return None;
        }
        let mx = SEARCH_BEYOND * w;
        let sw = w + 2.0 * mx;
        let m = homography([(mx, 0.0), (mx + w, 0.0), (mx + w, h), (mx, h)], q)?;
        let cols = (sw.round() as u32).clamp(1, MAX_GRID_COLUMNS) as usize;
        let rows = (h.round() as u32).clamp(1, MAX_GRID_ROWS) as usize;
        let (du, dv) = (sw / cols as f64, h / rows as f64);
        let mut strip = Strip {
            hsv: Vec::with_capacity(cols * rows),
            cols,
            rows,
            du,
            w,
            h,
            mx,
            m,
        };
        for r in 0..rows {
            for c in 0..cols {
                let (x, y) = strip.map((c as f64 + 0.5) * du, (r as f64 + 0.5) * dv)?;
                strip.hsv.push(hsv(sample_bilinear(frame, x, y).0));
            }
        }
        Some(strip)
    }

    /// Strip point → frame point; `None` where the homography has no finite image.
    fn map(&self, u: f64, v: f64) -> Option<(f64, f64)> {
        project(&self.m, u, v)
    }

    fn to_frame(&self, u: f64, v: f64) -> Option<Point> {
        self.map(u, v).map(|(x, y)| Point {
            x: x as f32,
            y: y as f32,
        })
    }

    /// The grid column of strip abscissa `u`.
    fn col(&self, u: f64) -> usize {
        ((u / self.du).round() as usize).min(self.cols - 1)
    }

    /// Grid rows `[from, to)` of the plate's height, at least one.
    fn band(&self, (from, to): (f64, f64)) -> (usize, usize) {
        let row = |f: f64| ((f * self.rows as f64).round() as usize).min(self.rows - 1);
        (row(from), row(to).max(row(from) + 1))
    }

    /// Grid columns `[from, to)` of the plate's width (0 = its detected left end),
    /// at least one.
    fn span(&self, from: f64, to: f64) -> (usize, usize) {
        let a = self.col(self.mx + from * self.w);
        (a, self.col(self.mx + to * self.w).max(a + 1))
    }

    /// The share of the cells in rows `r` and columns `c` that are of `bg`.
    fn share(&self, bg: &Background, r: (usize, usize), c: (usize, usize)) -> f32 {
        let hits: usize = (r.0..r.1)
            .map(|row| {
                self.hsv[row * self.cols + c.0..row * self.cols + c.1]
                    .iter()
                    .filter(|p| bg.matches(**p))
                    .count()
            })
            .sum();
        hits as f32 / ((r.1 - r.0) * (c.1 - c.0)).max(1) as f32
    }

    /// Per column, how much of it is `bg`: the best share over `ROW_BANDS`,
    /// smoothed over `SMOOTHING` of the width.
    fn column_scores(&self, bg: &Background) -> Vec<f32> {
        let bands: Vec<(usize, usize)> = ROW_BANDS.iter().map(|&b| self.band(b)).collect();
        let raw: Vec<f32> = (0..self.cols)
            .map(|c| {
                bands
                    .iter()
                    .map(|&rows| self.share(bg, rows, (c, c + 1)))
                    .fold(0.0, f32::max)
            })
            .collect();
        let k = ((SMOOTHING * self.w / self.du).round() as usize).max(1);
        (0..self.cols)
            .map(|c| {
                let (a, b) = (c.saturating_sub(k / 2), (c + k - k / 2).min(self.cols));
                raw[a..b].iter().sum::<f32>() / k as f32
            })
            .collect()
    }
}

/// The first and last column of the run around `centre` whose scores stay at or
/// above `floor`, crossing dips of at most `gap` columns (a dense character, mud).
fn run_around(score: &[f32], centre: usize, floor: f32, gap: f64) -> (usize, usize) {
    let (mut left, mut probe) = (centre, centre);
    while probe > 0 && (left - probe) as f64 <= gap {
        probe -= 1;
        if score[probe] >= floor {
            left = probe;
        }
    }
    let (mut right, mut probe) = (centre, centre);
    while probe + 1 < score.len() && (probe - right) as f64 <= gap {
        probe += 1;
        if score[probe] >= floor {
            right = probe;
        }
    }
    (left, right)
}

/// The plate with its left and right ends moved to where its background colour
/// stops, along its own axis (the top and bottom edges are kept); `None` when the
/// detector's ends stand (no plate colour, an implausible result, or ends that
/// hardly move).
pub fn refine_plate_ends(frame: &RgbImage, plate: &PlateBox) -> Option<PlateBox> {
    let (fw, fh) = frame.dimensions();
    if fw == 0 || fh == 0 {
        return None;
    }
    let strip = Strip::sample(frame, plate)?;
    let (w, mx, du) = (strip.w, strip.mx, strip.du);

    // The plate's colour: the background that fills most of its middle.
    let (core, middle) = (strip.span(0.3, 0.7), strip.band((0.25, 0.75)));
    let (bg, best) = BACKGROUNDS
        .iter()
        .map(|bg| (bg, strip.share(bg, middle, core)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    if best < MIN_COLOUR_SHARE {
        return None;
    }

    let score = strip.column_scores(bg);
    let mut of_core = score[core.0..core.1].to_vec();
    of_core.sort_by(f32::total_cmp);
    let reference = of_core[of_core.len() / 2];
    if reference <= 0.0 {
        return None;
    }
    let centre = strip.col(mx + 0.5 * w);
    let (left, right) = run_around(&score, centre, EDGE_FRACTION * reference, GAP * w / du);

    let (mut u0, mut u1) = (left as f64 * du, (right + 1) as f64 * du);
    if u0 < mx - MAX_GROWTH * w {
        u0 = mx;
    }
    if u1 > mx + w + MAX_GROWTH * w {
        u1 = mx + w;
    }
    if !((MIN_WIDTH * w..=MAX_WIDTH * w).contains(&(u1 - u0))) {
        return None;
    }
    if (u0 - mx).abs() < MIN_MOVE * w && (u1 - mx - w).abs() < MIN_MOVE * w {
        return None;
    }
    let h = strip.h;
    let corners = [
        strip.to_frame(u0, 0.0)?,
        strip.to_frame(u1, 0.0)?,
        strip.to_frame(u1, h)?,
        strip.to_frame(u0, h)?,
    ];
    let (xs, ys) = (corners.map(|p| p.x), corners.map(|p| p.y));
    let bbox = BBox {
        x1: xs.into_iter().fold(f32::INFINITY, f32::min),
        y1: ys.into_iter().fold(f32::INFINITY, f32::min),
        x2: xs.into_iter().fold(f32::NEG_INFINITY, f32::max),
        y2: ys.into_iter().fold(f32::NEG_INFINITY, f32::max),
    }
    .clamp(fw as f32, fh as f32);
    Some(PlateBox {
        bbox,
        corners,
        ..plate.clone()
    })
}

#[cfg(test)]
mod tests {
    use image::Rgb;

    use super::*;

    const GREY: Rgb<u8> = Rgb([110, 112, 108]);
    const BLUE: Rgb<u8> = Rgb([20, 60, 200]);
    const WHITE: Rgb<u8> = Rgb([235, 235, 235]);
    const BLACK: Rgb<u8> = Rgb([15, 15, 15]);

    /// A 400 x 200 frame of `around`, with a 200 x 60 plate of `background` at
    /// x 100–300, y 80–140, carrying seven `ink` characters between its margins.
    fn frame(around: Rgb<u8>, background: Rgb<u8>, ink: Rgb<u8>) -> RgbImage {
        RgbImage::from_fn(400, 200, |x, y| {
            if !(100..300).contains(&x) || !(80..140).contains(&y) {
                return around;
            }
            let (px, py) = (x - 100, y - 80);
            // Characters 20 wide every 27 from x 8, rows 9–51: the GA 36 margins.
            let in_char = px >= 8 && (px - 8) % 27 < 20 && px < 8 + 7 * 27 && (9..51).contains(&py);
            // Strokes, not solid blocks: a character leaves some background.
            if in_char && (px + py) % 3 != 0 {
                ink
            } else {
                background
            }
        })
    }

    fn plate(x1: f32, x2: f32) -> PlateBox {
        let bbox = BBox {
            x1,
            y1: 80.0,
            x2,
            y2: 140.0,
        };
        PlateBox {
            bbox,
            corners: bbox.corners(),
            double_row: false,
            score: 0.9,
        }
    }

    /// The plate detected from `x1` to x 300, refined: its ends must be the
    /// plate's, x 100 and 300, to within 6 px.
    fn refined_to_the_plate(f: &RgbImage, x1: f32) -> PlateBox {
        let refined = refine_plate_ends(f, &plate(x1, 300.0)).expect("the left end moves");
        let (l, r) = (refined.corners[0].x, refined.corners[1].x);
        assert!(
            (l - 100.0).abs() <= 6.0 && (r - 300.0).abs() <= 6.0,
            "{l} {r}"
        );
        refined
    }

    #[test]
    fn hsv_follows_opencv() {
        assert_eq!(hsv([255, 0, 0]), [0, 255, 255]);
        assert_eq!(hsv([0, 255, 0]), [60, 255, 255]);
        assert_eq!(hsv([0, 0, 255]), [120, 255, 255]);
        assert_eq!(hsv([255, 255, 0]), [30, 255, 255]);
        assert_eq!(hsv([128, 128, 128]), [0, 0, 128]);
        assert_eq!(hsv([0, 0, 0]), [0, 0, 0]);
        let [h, s, v] = hsv(BLUE.0);
        assert!(
            (100..=130).contains(&h) && s > 200 && v == 200,
            "{h} {s} {v}"
        );
    }

    #[test]
    fn a_box_running_on_over_the_car_is_cut_back_to_the_plate() {
        let refined = refined_to_the_plate(&frame(GREY, BLUE, WHITE), 40.0);
        assert!(refined.bbox.x1 >= 90.0 && refined.bbox.x2 <= 310.0);
        assert_eq!(refined.score, 0.9);
    }

    #[test]
    fn a_box_cutting_into_the_province_is_widened_to_the_plate() {
        refined_to_the_plate(&frame(GREY, BLUE, WHITE), 130.0);
    }

    #[test]
    fn a_dark_bar_across_the_plate_does_not_end_it() {
        // Mud or a bolt across the whole height, two fifths in from the right.
        let mut f = frame(GREY, BLUE, WHITE);
        for x in 218..224 {
            for y in 80..140 {
                f.put_pixel(x, y, BLACK);
            }
        }
        refined_to_the_plate(&f, 130.0);
    }

    #[test]
    fn a_box_that_was_right_is_left_alone() {
        let f = frame(GREY, BLUE, WHITE);
        assert_eq!(refine_plate_ends(&f, &plate(101.0, 299.0)), None);
    }

    #[test]
    fn paint_of_the_plates_colour_does_not_pull_an_end_away() {
        // A blue car: the walk would run on over the paint; the end stays where
        // the detector put it rather than move more than MAX_GROWTH.
        let f = frame(BLUE, BLUE, WHITE);
        assert_eq!(refine_plate_ends(&f, &plate(130.0, 300.0)), None);
    }

    #[test]
    fn plates_with_no_hue_are_left_as_detected() {
        let white = frame(GREY, WHITE, BLACK);
        assert_eq!(refine_plate_ends(&white, &plate(40.0, 300.0)), None);
        let black = frame(GREY, BLACK, WHITE);
        assert_eq!(refine_plate_ends(&black, &plate(40.0, 300.0)), None);
    }

    #[test]
    fn degenerate_input_gives_none_not_a_panic() {
        let f = frame(GREY, BLUE, WHITE);
        assert_eq!(
            refine_plate_ends(&RgbImage::new(0, 0), &plate(40.0, 300.0)),
            None
        );
        assert_eq!(
            refine_plate_ends(&f, &plate(100.0, 105.0)),
            None,
            "too narrow"
        );
        let mut collapsed = plate(100.0, 300.0);
        collapsed.corners = [Point { x: 150.0, y: 100.0 }; 4];
        assert_eq!(refine_plate_ends(&f, &collapsed), None);
        let mut wild = plate(100.0, 300.0);
        wild.corners[1] = Point {
            x: f32::NAN,
            y: 80.0,
        };
        assert_eq!(refine_plate_ends(&f, &wild), None);
        // A plate far outside the frame samples replicated edge pixels only.
        let _ = refine_plate_ends(&f, &plate(5000.0, 5200.0));
    }
}
