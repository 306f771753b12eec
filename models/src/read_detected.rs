//! The reading of a detected plate: which cuts of it are read, and which
//! reading is kept.
//!
//! The reader reads a crop, not a plate, and two things about the crop move its
//! reading on real frames:
//! - where the plate's ends are: the detector's quad now and then runs over the
//!   car or starts inside the province ([`refine_plate_ends`] finds the ends from
//!   the plate's colour);
//! - how tightly the plate is framed: on a plate 100 px wide a character near the
//!   edge, or a province glyph a few pixels high, reads differently at a margin of
//!   2, 4 or 6 % (`frames/dev`: 皖AT891G read as 皖AT8916 at 4 % and right at 6 %).
//!
//! So the first cut, the detector's quad at the reader's `reader_crop_margin`, is
//! read, then the quad with refined ends when they move, and, when the better of
//! the two is not a plate number read surely, its quad again at the manifest's
//! further margins (`[plate_detector.recrop]`). A later cut's reading replaces
//! the kept one only when it confirms a plate and ranks above it, so a surely
//! read plate costs one read and an unsure one a few.

use hub::api::PlateText;
use image::RgbImage;

use crate::plate_detector::{rectify_plate, PlateBox, PlateDetector};
use crate::plate_ends::refine_plate_ends;
use crate::plate_reader::{PlateRead, PlateReader};
use crate::Error;

/// How much a reading is to be believed: a plate number first, then its weakest
/// character.
fn rank(read: &PlateRead) -> (bool, f32) {
    (PlateText::parse(&read.text).is_ok(), read.confidence)
}

/// A detected plate as the reader read it, and the cut it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectedRead {
    /// The reading kept.
    pub read: PlateRead,
    /// The plate it was read from: the detector's, or with its ends refined.
    pub plate: PlateBox,
    /// Whether the refined ends were kept.
    pub refined: bool,
    /// The margins [left/right, top/bottom] of the kept cut, as fractions of the
    /// plate's width and height.
    pub margin: [f32; 2],
}

/// Replaces `kept` with `next` when `next` confirms a plate (and, with
/// `plate_number`, is a GA 36 plate number) and ranks above it, or when `kept`
/// could not be read at all.
fn consider(
    kept: &mut Result<DetectedRead, Error>,
    next: Result<DetectedRead, Error>,
    plate_number: bool,
) {
    let better = match (&*kept, &next) {
        (_, Err(_)) => false,
        (Err(_), Ok(_)) => true,
        (Ok(a), Ok(b)) => {
            let (is_plate, _) = rank(&b.read);
            b.read.confirms_plate() && (is_plate || !plate_number) && rank(&b.read) > rank(&a.read)
        }
    };
    if better {
        *kept = next;
    }
}

/// Reads a detected plate (see the module doc): the detector's cut first, then
/// the refined ends' cut when they move, then, unless the better reading is a
/// plate number whose weakest character reaches `recrop.below`, its quad at each
/// of the `recrop.margins` until one does. A later reading is kept when it
/// confirms a plate and ranks above the kept one: a GA 36 plate number over
/// anything else (a box cut inside the province reads surely, but one character
/// short), then the surer weakest character; a further margin's reading must also
/// be a plate number. An unreadable first cut (no pixels) gives way to any
/// readable one.
pub fn read_detected_plate(
    detector: &PlateDetector,
    reader: &PlateReader,
    frame: &RgbImage,
    plate: &PlateBox,
) -> Result<DetectedRead, Error> {
    let spec = detector.spec();
    let read = |quad: &PlateBox, refined: bool, margin: [f32; 2]| {
        reader
            .read(&rectify_plate(frame, quad, margin))
            .map(|read| DetectedRead {
                read,
                plate: quad.clone(),
                refined,
                margin,
            })
    };
    let mut kept = read(plate, false, spec.reader_crop_margin);
    if let Some(ends) = refine_plate_ends(frame, plate) {
        consider(&mut kept, read(&ends, true, spec.reader_crop_margin), false);
    }
    let Some(recrop) = &spec.recrop else {
        return kept;
    };
    // Re-cutting both quads read the same plates on frames/dev at twice the cost.
    let (quad, refined) = match &kept {
        Ok(d) => (d.plate.clone(), d.refined),
        Err(_) => (plate.clone(), false),
    };
    for &margin in &recrop.margins {
        if kept
            .as_ref()
            .is_ok_and(|d| rank(&d.read) >= (true, recrop.below))
        {
            break;
        }
        // Many cuts of a non-plate give it many chances to look like one: a
        // further cut is kept only for a plate number.
        consider(&mut kept, read(&quad, refined, margin), true);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plate_detector::BBox;
    use crate::{PlateColor, PlateLayout};

    fn quad() -> PlateBox {
        let bbox = BBox {
            x1: 10.0,
            y1: 20.0,
            x2: 110.0,
            y2: 50.0,
        };
        PlateBox {
            bbox,
            corners: bbox.corners(),
            double_row: false,
            score: 0.9,
        }
    }

    /// A reading of `text` whose characters are all at `confidence`, cut at a
    /// side margin of `margin`.
    fn cut(text: &str, confidence: f32, margin: f32) -> Result<DetectedRead, Error> {
        let n = text.chars().count();
        Ok(DetectedRead {
            read: PlateRead {
                text: text.into(),
                color: PlateColor::Blue,
                layout: PlateLayout::Single,
                char_confidences: vec![confidence; n],
                confidence,
                color_confidence: 1.0,
                layout_confidence: 1.0,
            },
            plate: quad(),
            refined: false,
            margin: [margin, 0.08],
        })
    }

    fn kept_margin(kept: &Result<DetectedRead, Error>) -> f32 {
        kept.as_ref().expect("a reading").margin[0]
    }

    #[test]
    fn a_surer_plate_number_replaces_the_kept_reading() {
        let mut kept = cut("皖AT8916", 0.86, 0.04);
        consider(&mut kept, cut("皖AT891G", 0.97, 0.06), true);
        assert_eq!(kept_margin(&kept), 0.06);
        // A less sure one does not, nor does a non-plate, however sure.
        consider(&mut kept, cut("皖AT8910", 0.9, 0.02), true);
        consider(&mut kept, cut("皖AT891GG", 0.99, 0.02), true);
        assert_eq!(kept_margin(&kept), 0.06);
    }

    #[test]
    fn a_plate_number_outranks_any_other_reading() {
        // A box cut inside the province reads surely, but one character short.
        let mut kept = cut("H93513", 1.0, 0.04);
        consider(&mut kept, cut("晋H93513", 0.6, 0.06), true);
        assert_eq!(kept.as_ref().unwrap().read.text, "晋H93513");
    }

    #[test]
    fn a_further_cut_must_be_a_plate_number_where_the_refined_one_need_not() {
        // Eight characters, confirmed, not GA 36: what a badge reads as.
        let badge = || cut("粤21123153", 0.45, 0.06);
        let mut kept = cut("皖72402353", 0.26, 0.04);
        consider(&mut kept, badge(), true);
        assert_eq!(kept_margin(&kept), 0.04);
        consider(&mut kept, badge(), false);
        assert_eq!(kept_margin(&kept), 0.06);
    }

    #[test]
    fn an_unconfirmed_reading_never_replaces_and_an_unreadable_cut_gives_way() {
        let unreadable = || {
            Err(Error::EmptyImage {
                width: 0,
                height: 0,
            })
        };
        let mut kept = cut("H93513", 1.0, 0.04);
        // A plate number would rank above, but read at 0.3 it confirms no plate.
        consider(&mut kept, cut("晋H93513", 0.3, 0.06), false);
        assert_eq!(kept_margin(&kept), 0.04);
        consider(&mut kept, unreadable(), true);
        assert_eq!(kept_margin(&kept), 0.04);

        let mut kept = unreadable();
        consider(&mut kept, cut("皖A", 0.1, 0.06), true);
        assert_eq!(kept_margin(&kept), 0.06);
    }
}
