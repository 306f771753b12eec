//! [`ModelPerception`]: the models crate's three networks as the pipeline's
//! [`Perception`]: detect → rectify + read each plate → classify each vehicle's load.
//!
//! The networks are loaded, pinned and optimised once ([`ModelPerception::load`]);
//! each camera worker then gets its own run state over the same loaded networks
//! ([`ModelPerception::try_clone`]), so nothing on the per-frame path is shared.
//!
//! Every plate box is read once, or again when its ends move or its reading is
//! unsure ([`models::read_detected_plate`]: the detector's cut, one with the
//! plate's ends found from its colour, and further margins; the best-ranked
//! reading kept). The boxes are put together by [`models::scene::assemble`], so
//! `evaluate` sees the same choices. One [`Detection`](crate::track::Detection) per vehicle box: its plate
//! is the plate nearest the box among those whose centre lies in its reach,
//! preferring a reading the reader confirms as a plate
//! ([`models::PlateRead::confirms_plate`]) — the lettering on a cab's signboard
//! can outscore the plate below it. Its load is the best-scored load box lying
//! at least half inside it (the contract's "the one that overlaps the vehicle
//! whose plate was read"). A plate outside every vehicle box (vehicle cut by the
//! frame edge) still makes a detection, anchored on the plate, when its reading
//! confirms a plate: on its own, a box read as two or three characters is
//! lettering or a lamp, and would start a passage of no vehicle. A vehicle
//! without a load box gets no cargo read: an unknown cover state, never a guess.

use std::path::Path;

use hub::api::{CargoRead, Cover, Material, PlateColor, PlateLayout};
use image::RgbImage;
use models::{CargoClassifier, Detections, PlateDetector, PlateReader};

use crate::pipeline::{Perception, PerceptionError};
use crate::track::{BBox, CargoObservation, Detection, PlateObservation};

/// Plate detector + plate reader + cargo classifier, ready to run.
#[derive(Debug)]
pub struct ModelPerception {
    detector: PlateDetector,
    reader: PlateReader,
    classifier: Option<CargoClassifier>,
    /// Detections of the current frame, reused.
    dets: Detections,
}

impl ModelPerception {
    /// Loads the three networks (each with its `manifest.toml` beside it). Without
    /// a classifier, loads are not classified.
    pub fn load(
        detector: &Path,
        reader: &Path,
        classifier: Option<&Path>,
    ) -> Result<Self, models::Error> {
        Ok(ModelPerception {
            detector: PlateDetector::load(detector)?,
            reader: PlateReader::load(reader)?,
            classifier: classifier.map(CargoClassifier::load).transpose()?,
            dets: Detections::default(),
        })
    }

    /// One detector pass per frame, without the manifest's tiled second look
    /// (`models.detector_tiling = false`, the default).
    pub fn disable_tiling(&mut self) {
        self.detector.set_tiling(None);
    }

    /// Another perception over the same loaded networks, with its own run states:
    /// one per camera worker.
    pub fn try_clone(&self) -> Result<Self, models::Error> {
        Ok(ModelPerception {
            detector: self.detector.try_clone()?,
            reader: self.reader.try_clone()?,
            classifier: self
                .classifier
                .as_ref()
                .map(CargoClassifier::try_clone)
                .transpose()?,
            dets: Detections::default(),
        })
    }

    /// The plate's reading, and whether it confirms a plate; `None` when the
    /// reader saw no characters.
    fn read_plate(
        &self,
        frame: &RgbImage,
        plate: &models::PlateBox,
    ) -> Option<(PlateObservation, bool)> {
        let models::DetectedRead { read, plate, .. } =
            match models::read_detected_plate(&self.detector, &self.reader, frame, plate) {
                Ok(detected) => detected,
                Err(e) => {
                    tracing::debug!(error = %e, "plate crop unreadable");
                    return None;
                }
            };
        if read.text.is_empty() {
            return None;
        }
        let confirmed = read.confirms_plate();
        let obs = PlateObservation {
            text: read.text,
            char_confidences: read.char_confidences,
            color: color(read.color),
            layout: match read.layout {
                models::PlateLayout::Single => PlateLayout::Single,
                models::PlateLayout::Double => PlateLayout::Double,
            },
            bbox: Some(bbox(&plate.bbox)),
        };
        Some((obs, confirmed))
    }

    fn classify(&self, frame: &RgbImage, load: &models::BBox) -> Option<CargoObservation> {
        let read = match self.classifier.as_ref()?.classify_box(frame, load) {
            Ok(read) => read,
            Err(e) => {
                tracing::debug!(error = %e, "load crop unclassifiable");
                return None;
            }
        };
        Some(CargoObservation {
            read: CargoRead {
                cover: cover(read.cover),
                material: material(read.material),
                // The judge uses one confidence for both heads: the weaker one.
                confidence: read.cover_confidence.min(read.material_confidence),
            },
            bbox: Some(bbox(load)),
        })
    }
}

impl Perception for ModelPerception {
    fn perceive(
        &mut self,
        frame: &RgbImage,
        out: &mut Vec<Detection>,
    ) -> Result<(), PerceptionError> {
        let mut dets = std::mem::take(&mut self.dets);
        let detected = self.detector.detect_into(frame, &mut dets);
        if let Err(e) = detected {
            self.dets = dets;
            return Err(PerceptionError::Model(e.to_string()));
        }
        let mut reads: Vec<Option<(PlateObservation, bool)>> = dets
            .plates
            .iter()
            .map(|p| self.read_plate(frame, p))
            .collect();
        let readings: Vec<Option<bool>> = reads
            .iter()
            .map(|r| r.as_ref().map(|(_, whole)| *whole))
            .collect();
        let scene = models::scene::assemble(&dets.vehicles, &dets.plates, &dets.loads, &readings);
        for part in &scene.vehicles {
            out.push(Detection {
                vehicle: Some(bbox(&part.vehicle.bbox)),
                score: part.vehicle.score,
                plate: part.plate.and_then(|k| reads[k].take()).map(|(obs, _)| obs),
                cargo: part.load.and_then(|l| self.classify(frame, &l.bbox)),
            });
        }
        for &k in &scene.lone_plates {
            if let Some((obs, _)) = reads[k].take() {
                out.push(Detection {
                    vehicle: None,
                    score: dets.plates[k].score,
                    plate: Some(obs),
                    cargo: None,
                });
            }
        }
        self.dets = dets;
        Ok(())
    }
}

fn bbox(b: &models::BBox) -> BBox {
    BBox {
        x: b.x1,
        y: b.y1,
        w: b.width(),
        h: b.height(),
    }
}

fn color(c: models::PlateColor) -> PlateColor {
    match c {
        models::PlateColor::Blue => PlateColor::Blue,
        models::PlateColor::Yellow => PlateColor::Yellow,
        models::PlateColor::Green => PlateColor::Green,
        models::PlateColor::White => PlateColor::White,
        models::PlateColor::Black => PlateColor::Black,
    }
}

fn cover(c: models::Cover) -> Cover {
    match c {
        models::Cover::Empty => Cover::Empty,
        models::Cover::Open => Cover::Open,
        models::Cover::Partial => Cover::Partial,
        models::Cover::Tarped => Cover::Tarped,
        models::Cover::Enclosed => Cover::Enclosed,
    }
}

fn material(m: models::Material) -> Material {
    match m {
        models::Material::Coal => Material::Coal,
        models::Material::Briquette => Material::Briquette,
        models::Material::OtherBulk => Material::OtherBulk,
        models::Material::None => Material::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: serde::Serialize>(v: &T) -> String {
        serde_json::to_string(v).unwrap()
    }

    #[test]
    fn model_enums_map_onto_the_wire_enums_by_name() {
        for c in models::Cover::ALL {
            assert_eq!(json(&c), json(&cover(c)));
        }
        for m in models::Material::ALL {
            assert_eq!(json(&m), json(&material(m)));
        }
        for c in models::PlateColor::ALL {
            assert_eq!(json(&c), json(&color(c)));
        }
    }

    /// The shipped models on a synthetic scene of the models crate's fixtures
    /// (`$KADIAN_MODELS_DIR`, default `models/onnx`).
    #[test]
    fn model_perception_sees_the_truck_of_a_fixture_scene() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = std::env::var_os("KADIAN_MODELS_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| root.join("models/onnx"));
        let manifest = std::fs::read_to_string(dir.join("manifest.toml")).unwrap_or_default();
        assert!(
            dir.join("plate_detector.onnx").exists()
                && manifest.contains("[plate_detector]")
                && manifest.contains("[cargo_classifier]"),
            "{} lacks the exported plate detector / cargo classifier",
            dir.display()
        );
        let loaded = ModelPerception::load(
            &dir.join("plate_detector.onnx"),
            &dir.join("plate_reader.onnx"),
            Some(&dir.join("cargo_classifier.onnx")),
        )
        .unwrap();
        let mut perception = loaded.try_clone().unwrap();
        let frame = image::open(root.join("models/tests/fixtures/scenes/scene_1.jpg"))
            .unwrap()
            .to_rgb8();
        let mut out = Vec::new();
        perception.perceive(&frame, &mut out).unwrap();
        eprintln!("{out:#?}");
        assert!(!out.is_empty(), "the scene shows a truck");
        let (w, h) = (frame.width() as f32, frame.height() as f32);
        for d in &out {
            assert!(d.vehicle.is_some() || d.plate.is_some());
            if let Some(v) = d.vehicle {
                assert!(v.x >= 0.0 && v.y >= 0.0 && v.x + v.w <= w + 1e-3 && v.y + v.h <= h + 1e-3);
            }
        }
        // A bad frame is an error, not a panic; the next frame works again.
        assert!(perception.perceive(&RgbImage::new(0, 0), &mut out).is_err());
        out.clear();
        perception.perceive(&frame, &mut out).unwrap();
    }

    #[test]
    fn boxes_convert_corner_form_to_origin_and_size() {
        let b = bbox(&models::BBox {
            x1: 10.0,
            y1: 20.0,
            x2: 40.0,
            y2: 25.0,
        });
        assert_eq!(
            b,
            BBox {
                x: 10.0,
                y: 20.0,
                w: 30.0,
                h: 5.0
            }
        );
    }
}
