//! A frame's boxes put together the way a checkpoint reads a passage: each
//! vehicle with its plate and its load, and the plates of no vehicle.
//!
//! The detector finds plates, vehicles and loads as separate boxes; which plate
//! and which load belong to which vehicle is geometry, decided here once so that
//! the checkpoint and `evaluate` make the same choices (and `evaluate` counts as
//! reported exactly the plates a checkpoint would pass on).

use crate::{BBox, PlateBox, Region};

/// A load box counts as a vehicle's when at least this share of it lies inside
/// the vehicle box.
pub const LOAD_INSIDE_VEHICLE: f32 = 0.5;

/// A vehicle box lying at least this share inside a better-scored one is the
/// same vehicle.
const NESTED_INSIDE: f32 = 0.7;

/// One vehicle of the frame: its box, its plate (an index into the frame's
/// plates) and its load box.
#[derive(Clone, Debug, PartialEq)]
pub struct VehicleParts {
    pub vehicle: Region,
    pub plate: Option<usize>,
    pub load: Option<Region>,
}

/// The frame put together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scene {
    /// The vehicles, nested boxes dropped, by descending score.
    pub vehicles: Vec<VehicleParts>,
    /// Plates whose reading confirms a plate and that belong to no vehicle (a
    /// vehicle cut by the frame edge, or one the detector missed). A plate of no
    /// vehicle read as a few characters is lettering or a lamp, and is left out.
    pub lone_plates: Vec<usize>,
}

impl Scene {
    /// The plates the checkpoint passes on, each once: the vehicles' plates,
    /// then the lone plates.
    pub fn plates(&self) -> impl Iterator<Item = usize> + '_ {
        self.vehicles
            .iter()
            .filter_map(|v| v.plate)
            .chain(self.lone_plates.iter().copied())
    }
}

/// Puts the frame together. `readings[k]` is `None` for plate `k` read as
/// nothing, else whether its reading confirms a plate
/// ([`crate::PlateRead::confirms_plate`]); `vehicles` are by descending score.
///
/// Vehicle boxes lying mostly inside a better-scored one are dropped. Each
/// vehicle left, best first, takes the plate nearest its box among those in its
/// reach (the box widened and lengthened downwards), a confirmed reading first:
/// the lettering on a cab's signboard can outscore the plate below it. Its load
/// is the best-scored load box lying at least half inside it. A plate no
/// vehicle took is a lone plate when its reading confirms a plate.
pub fn assemble(
    vehicles: &[Region],
    plates: &[PlateBox],
    loads: &[Region],
    readings: &[Option<bool>],
) -> Scene {
    let reading = |k: usize| readings.get(k).copied().flatten();
    let mut taken = vec![false; plates.len()];
    let mut scene = Scene::default();
    for vehicle in drop_nested(vehicles) {
        let plate = plate_of(&vehicle.bbox, plates, |k| {
            if taken[k] {
                None
            } else {
                reading(k)
            }
        });
        if let Some(k) = plate {
            taken[k] = true;
        }
        scene.vehicles.push(VehicleParts {
            load: load_of(&vehicle.bbox, loads).copied(),
            vehicle,
            plate,
        });
    }
    scene.lone_plates = (0..plates.len())
        .filter(|&k| !taken[k] && reading(k) == Some(true))
        .collect();
    scene
}

/// The vehicles without those lying mostly inside a better-scored one.
/// IoU-based NMS keeps both when the detector boxes a truck's cab and the whole
/// truck: they overlap little by IoU but are one vehicle, and two boxes would
/// make two passages. `vehicles` are by descending score.
fn drop_nested(vehicles: &[Region]) -> Vec<Region> {
    let mut kept: Vec<Region> = Vec::with_capacity(vehicles.len());
    for v in vehicles {
        let nested = kept.iter().any(|k| {
            let smaller = v.bbox.area().min(k.bbox.area()).max(1e-6);
            v.bbox.intersection(&k.bbox) / smaller >= NESTED_INSIDE
        });
        if !nested {
            kept.push(*v);
        }
    }
    kept
}

/// Which of the frame's plates (by descending score) is the vehicle's:
/// `reading(k)` is `None` for a plate already taken or read as nothing, else
/// whether its reading confirms a plate. Among the plates whose centre lies in the
/// vehicle's reach, a confirmed reading first, then the nearest, then the best
/// scored.
fn plate_of(
    vehicle: &BBox,
    plates: &[PlateBox],
    reading: impl Fn(usize) -> Option<bool>,
) -> Option<usize> {
    let reach = plate_reach(vehicle);
    (0..plates.len())
        .filter_map(|k| Some((k, reading(k)?)))
        .filter(|(k, _)| reach.contains(plates[*k].bbox.center()))
        .min_by(|(a, whole_a), (b, whole_b)| {
            whole_b.cmp(whole_a).then(
                gap_to(vehicle, &plates[*a].bbox).total_cmp(&gap_to(vehicle, &plates[*b].bbox)),
            )
        })
        .map(|(k, _)| k)
}

/// The best-scored of the load boxes that are the vehicle's (at least
/// [`LOAD_INSIDE_VEHICLE`] of the box inside it), the one lying more inside it
/// among equals. The share inside says whose a load is; which of a vehicle's
/// loads is its bed is the detector's call. Preferring the one lying most
/// inside took, on real frame 02342, a box over the cab (0.38, read partial)
/// over the bed's (0.40, open, straddling the vehicle box's top); on 600
/// synthetic gantry scenes it chose differently for 11 of 622 vehicles, and
/// the best-scored boxes matched 3 more labelled loads.
fn load_of<'a>(vehicle: &BBox, loads: &'a [Region]) -> Option<&'a Region> {
    loads
        .iter()
        .map(|l| (l, l.bbox.intersection(vehicle) / l.bbox.area().max(1e-6)))
        .filter(|(_, inside)| *inside >= LOAD_INSIDE_VEHICLE)
        .max_by(|a, b| a.0.score.total_cmp(&b.0.score).then(a.1.total_cmp(&b.1)))
        .map(|(l, _)| l)
}

/// Where a vehicle's plate may be: its box, widened by 15 % on each side and
/// lengthened by 30 % downwards, because the detector's vehicle boxes tend to stop
/// short of the bumper where the plate hangs.
fn plate_reach(v: &BBox) -> BBox {
    let (w, h) = (v.width(), v.height());
    BBox {
        x1: v.x1 - 0.15 * w,
        y1: v.y1,
        x2: v.x2 + 0.15 * w,
        y2: v.y2 + 0.3 * h,
    }
}

/// How far the plate's centre lies outside the vehicle's box (0 inside).
fn gap_to(v: &BBox, plate: &BBox) -> f32 {
    let c = plate.center();
    let dx = (v.x1 - c.x).max(c.x - v.x2).max(0.0);
    let dy = (v.y1 - c.y).max(c.y - v.y2).max(0.0);
    dx.hypot(dy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Point;

    fn b(x1: f32, y1: f32, x2: f32, y2: f32) -> BBox {
        BBox { x1, y1, x2, y2 }
    }

    fn region(bbox: BBox, score: f32) -> Region {
        Region { bbox, score }
    }

    fn plate(bbox: BBox, score: f32) -> PlateBox {
        PlateBox {
            bbox,
            corners: [Point { x: 0.0, y: 0.0 }; 4],
            double_row: false,
            score,
        }
    }

    #[test]
    fn a_box_inside_a_better_one_is_the_same_vehicle_but_a_neighbour_is_not() {
        let v = [
            region(b(100.0, 100.0, 500.0, 600.0), 0.9),
            region(b(150.0, 120.0, 450.0, 350.0), 0.8), // the cab of the same truck
            region(b(520.0, 100.0, 900.0, 600.0), 0.7), // the next lane
        ];
        let kept = drop_nested(&v);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[1].bbox.x1, 520.0);
    }

    #[test]
    fn a_plate_just_below_a_short_vehicle_box_is_its_plate() {
        let v = b(100.0, 100.0, 500.0, 500.0);
        let below = b(260.0, 520.0, 340.0, 545.0);
        let far = b(260.0, 700.0, 340.0, 725.0);
        assert!(plate_reach(&v).contains(below.center()));
        assert!(!plate_reach(&v).contains(far.center()));
        assert!(gap_to(&v, &below) > 0.0 && gap_to(&v, &v) == 0.0);
    }

    #[test]
    fn a_vehicle_takes_the_plate_its_reader_confirms_over_lettering() {
        let truck = b(100.0, 100.0, 500.0, 500.0);
        let plates = [
            plate(b(200.0, 150.0, 400.0, 190.0), 0.9), // the cab's signboard
            plate(b(260.0, 460.0, 340.0, 485.0), 0.7), // the plate on the bumper
            plate(b(900.0, 460.0, 980.0, 485.0), 0.8), // another vehicle's
        ];
        let plate_of = |truck: &BBox, plates: &[PlateBox], r: &[Option<bool>]| {
            plate_of(truck, plates, |k| r.get(k).copied().flatten())
        };
        // The signboard read as a few characters, the plate as a whole one.
        assert_eq!(
            plate_of(&truck, &plates, &[Some(false), Some(true), Some(true)]),
            Some(1)
        );
        // Both whole, or both partial: the nearer (both inside), then the better.
        assert_eq!(
            plate_of(&truck, &plates, &[Some(true), Some(true), Some(true)]),
            Some(0)
        );
        assert_eq!(
            plate_of(&truck, &plates, &[Some(false), Some(false), None]),
            Some(0)
        );
        // Taken or unread plates are not offered; one out of reach never is.
        assert_eq!(plate_of(&truck, &plates, &[None, None, Some(true)]), None);
        assert_eq!(plate_of(&truck, &plates, &[None, Some(false)]), Some(1));
    }

    /// The truck and loads of real frame 02342 (frame pixels), and a load of the
    /// next lane.
    #[test]
    fn a_vehicle_takes_the_best_scored_of_its_loads() {
        let truck = b(685.0, 155.0, 1692.0, 1507.0);
        let loads = [
            region(b(1500.0, 50.0, 2600.0, 600.0), 0.9), // mostly the next lane's
            region(b(860.0, 213.0, 1544.0, 902.0), 0.38), // over the cab, wholly inside
            region(b(840.0, 72.0, 1554.0, 496.0), 0.40), // the bed, its top outside
        ];
        assert_eq!(load_of(&truck, &loads), Some(&loads[2]));
        assert_eq!(load_of(&truck, &loads[..2]), Some(&loads[1]));
        assert_eq!(load_of(&b(3000.0, 0.0, 3200.0, 200.0), &loads), None);
    }

    /// The truck of checkpoint frame 00001 (frame pixels), whose cab's "Produced
    /// by FOTON DAIMLER" reads as a plate number with unsure characters.
    #[test]
    fn the_checkpoint_passes_on_each_vehicles_plate_and_confirmed_lone_plates() {
        let vehicles = [
            region(b(372.0, 187.0, 1374.0, 1409.0), 0.82),
            region(b(380.0, 200.0, 1300.0, 800.0), 0.6), // its cab and load, nested
            region(b(1912.0, 359.0, 2044.0, 506.0), 0.49), // a car up the road
        ];
        let plates = [
            plate(b(903.0, 539.0, 1071.0, 620.0), 0.9), // the cab's lettering
            plate(b(762.0, 1295.0, 897.0, 1343.0), 0.88), // the truck's plate
            plate(b(1950.0, 470.0, 1990.0, 484.0), 0.5), // the car's plate
            plate(b(2500.0, 900.0, 2640.0, 945.0), 0.6), // a vehicle the detector missed
            plate(b(2700.0, 900.0, 2740.0, 915.0), 0.4), // a lamp read as two characters
        ];
        let loads = [region(b(525.0, 48.0, 1251.0, 504.0), 0.4)];
        let readings = [
            Some(false),
            Some(true),
            Some(false),
            Some(true),
            Some(false),
        ];
        let scene = assemble(&vehicles, &plates, &loads, &readings);
        assert_eq!(scene.vehicles.len(), 2);
        assert_eq!(scene.vehicles[0].plate, Some(1));
        assert_eq!(scene.vehicles[0].load, Some(loads[0]));
        // A vehicle's plate need not be confirmed: the passage's votes decide.
        assert_eq!(scene.vehicles[1].plate, Some(2));
        assert_eq!(scene.vehicles[1].load, None);
        assert_eq!(scene.lone_plates, vec![3]);
        assert_eq!(scene.plates().collect::<Vec<_>>(), vec![1, 2, 3]);

        // No plate is given twice, and a frame of plates alone is lone plates.
        let scene = assemble(&[], &plates, &loads, &readings);
        assert!(scene.vehicles.is_empty());
        assert_eq!(scene.plates().collect::<Vec<_>>(), vec![1, 3]);
    }
}
