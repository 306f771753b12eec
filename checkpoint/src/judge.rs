//! The judge: rules that turn a passage into incidents (DESIGN.md step 6).
//!
//! Pure functions over a passage, the [`Rules`](crate::config::Rules) from config and the [`ListIndex`](crate::judge::ListIndex)
//! (whitelist and hotlist synced from the hub, kept locally so this works offline):
//!
//! - coal-like load visible (material `coal` with enough confidence, in a cover state
//!   that shows it) and the plate not whitelisted → `suspected_loose_coal`. A passage
//!   with no confident plate read cannot be whitelisted: it is flagged.
//! - bulk load open or partly covered (Air Pollution Law art. 70) →
//!   `uncovered_load`, whoever the truck belongs to: licensed fleets must cover too.
//! - plate on the hotlist, read with enough confidence → `hotlist_hit`.
//!
//! A camera cannot tell banned coal from legal anthracite or semi-coke (DOMAIN.md),
//! so the kinds say *suspected*: the officer and the truck's papers decide.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hub::api::{IncidentKind, Lists, Material, Passage, PlateText, Severity};

use crate::config::Rules;

/// One reason a passage matters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: IncidentKind,
    pub severity: Severity,
}

/// The whitelist and hotlist, indexed by plate, with each entry's expiry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListIndex {
    /// The hub's version of the lists these came from (0: never synced).
    pub version: u64,
    whitelist: HashMap<PlateText, Option<DateTime<Utc>>>,
    hotlist: HashMap<PlateText, Option<DateTime<Utc>>>,
}

impl ListIndex {
    pub fn new(lists: &Lists) -> ListIndex {
        let index = |entries: &[hub::api::ListEntry]| {
            entries
                .iter()
                .map(|e| (e.plate.clone(), e.expires_at))
                .collect()
        };
        ListIndex {
            version: lists.version,
            whitelist: index(&lists.whitelist),
            hotlist: index(&lists.hotlist),
        }
    }

    pub fn whitelisted(&self, plate: &PlateText, now: DateTime<Utc>) -> bool {
        live(&self.whitelist, plate, now)
    }

    pub fn hotlisted(&self, plate: &PlateText, now: DateTime<Utc>) -> bool {
        live(&self.hotlist, plate, now)
    }

    /// (whitelist, hotlist) sizes.
    pub fn sizes(&self) -> (usize, usize) {
        (self.whitelist.len(), self.hotlist.len())
    }
}

fn live(
    list: &HashMap<PlateText, Option<DateTime<Utc>>>,
    plate: &PlateText,
    now: DateTime<Utc>,
) -> bool {
    list.get(plate)
        .is_some_and(|exp| exp.is_none_or(|t| t > now))
}

/// What the rules make of `passage` at `now`, most severe first.
pub fn judge(
    passage: &Passage,
    rules: &Rules,
    lists: &ListIndex,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let plate = passage
        .plate
        .as_ref()
        .filter(|p| p.confidence >= rules.plate_min_confidence)
        .map(|p| &p.text);

    if let Some(cargo) = &passage.cargo {
        let cover_counts = cargo.confidence >= rules.cover_min_confidence;
        let coal_visible = cargo.material == Material::Coal
            && cargo.confidence >= rules.coal_min_confidence
            && rules.coal_visible_covers.contains(&cargo.cover);
        if coal_visible && !plate.is_some_and(|p| lists.whitelisted(p, now)) {
            out.push(finding(
                IncidentKind::SUSPECTED_LOOSE_COAL,
                rules.suspected_loose_coal,
            ));
        }
        let bulk = matches!(cargo.material, Material::Coal | Material::OtherBulk);
        if bulk && cover_counts && rules.uncovered_covers.contains(&cargo.cover) {
            out.push(finding(IncidentKind::UNCOVERED_LOAD, rules.uncovered_load));
        }
    }
    if plate.is_some_and(|p| lists.hotlisted(p, now)) {
        out.push(finding(IncidentKind::HOTLIST_HIT, rules.hotlist_hit));
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

fn finding(kind: &str, severity: Severity) -> Finding {
    // The kinds are constants of the hub's contract: always well-formed.
    let kind = IncidentKind::parse(kind).expect("the hub's incident kinds are valid");
    Finding { kind, severity }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub::api::{
        CargoRead, CheckpointId, Cover, Direction, ListEntry, PassageId, PlateColor, PlateLayout,
        PlateRead,
    };

    fn passage(plate: Option<(&str, f32)>, cargo: Option<(Cover, Material, f32)>) -> Passage {
        Passage {
            id: PassageId::new(),
            checkpoint_id: CheckpointId::parse("cp").unwrap(),
            seen_at: Utc::now(),
            lane: 1,
            direction: Direction::Inbound,
            plate: plate.map(|(t, c)| PlateRead {
                text: PlateText::parse(t).unwrap(),
                color: PlateColor::Yellow,
                layout: PlateLayout::Single,
                confidence: c,
            }),
            cargo: cargo.map(|(cover, material, confidence)| CargoRead {
                cover,
                material,
                confidence,
            }),
            evidence: vec![],
        }
    }

    fn lists(white: &[&str], hot: &[(&str, Option<DateTime<Utc>>)]) -> ListIndex {
        let entry = |p: &str, exp| ListEntry {
            plate: PlateText::parse(p).unwrap(),
            reason: "test".into(),
            company: None,
            expires_at: exp,
            added_by: "admin".into(),
            added_at: Utc::now(),
        };
        ListIndex::new(&Lists {
            version: 3,
            whitelist: white.iter().map(|p| entry(p, None)).collect(),
            hotlist: hot.iter().map(|(p, e)| entry(p, *e)).collect(),
        })
    }

    fn kinds(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.kind.as_str()).collect()
    }

    #[test]
    fn open_coal_is_suspected_and_uncovered() {
        let r = Rules::default();
        let f = judge(
            &passage(
                Some(("晋H93513", 0.9)),
                Some((Cover::Open, Material::Coal, 0.9)),
            ),
            &r,
            &ListIndex::default(),
            Utc::now(),
        );
        assert_eq!(kinds(&f), ["suspected_loose_coal", "uncovered_load"]);
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[1].severity, Severity::Medium);
    }

    #[test]
    fn whitelisted_coal_is_not_suspected_but_must_still_be_covered() {
        let r = Rules::default();
        let l = lists(&["晋H93513"], &[]);
        let f = judge(
            &passage(
                Some(("晋H93513", 0.9)),
                Some((Cover::Partial, Material::Coal, 0.9)),
            ),
            &r,
            &l,
            Utc::now(),
        );
        assert_eq!(kinds(&f), ["uncovered_load"]);
        // A plate read too weakly cannot claim the whitelist.
        let f = judge(
            &passage(
                Some(("晋H93513", 0.2)),
                Some((Cover::Partial, Material::Coal, 0.9)),
            ),
            &r,
            &l,
            Utc::now(),
        );
        assert_eq!(kinds(&f), ["suspected_loose_coal", "uncovered_load"]);
        // Nor can a passage with no plate (无车牌).
        let f = judge(
            &passage(None, Some((Cover::Open, Material::Coal, 0.9))),
            &r,
            &l,
            Utc::now(),
        );
        assert!(kinds(&f).contains(&"suspected_loose_coal"));
    }

    #[test]
    fn thresholds_and_cover_states_come_from_config() {
        let mut r = Rules::default();
        let p = passage(
            Some(("晋H93513", 0.9)),
            Some((Cover::Open, Material::Coal, 0.5)),
        );
        assert!(
            judge(&p, &r, &ListIndex::default(), Utc::now()).is_empty(),
            "0.5 < 0.6"
        );
        r.coal_min_confidence = 0.4;
        r.cover_min_confidence = 0.4;
        assert_eq!(
            kinds(&judge(&p, &r, &ListIndex::default(), Utc::now())),
            ["suspected_loose_coal", "uncovered_load"]
        );
        r.uncovered_covers = vec![Cover::Partial];
        r.suspected_loose_coal = Severity::Low;
        let f = judge(&p, &r, &ListIndex::default(), Utc::now());
        assert_eq!(kinds(&f), ["suspected_loose_coal"]);
        assert_eq!(f[0].severity, Severity::Low);
        // Tarped coal does not show.
        let tarped = passage(None, Some((Cover::Tarped, Material::Coal, 0.99)));
        assert!(judge(
            &tarped,
            &Rules::default(),
            &ListIndex::default(),
            Utc::now()
        )
        .is_empty());
        // Open sand is uncovered but not coal; an open empty bed is nothing.
        let sand = passage(None, Some((Cover::Open, Material::OtherBulk, 0.9)));
        assert_eq!(
            kinds(&judge(
                &sand,
                &Rules::default(),
                &ListIndex::default(),
                Utc::now()
            )),
            ["uncovered_load"]
        );
        let empty = passage(None, Some((Cover::Open, Material::None, 0.9)));
        assert!(judge(&empty, &Rules::default(), &ListIndex::default(), Utc::now()).is_empty());
    }

    #[test]
    fn hotlist_hits_respect_expiry_and_confidence() {
        let r = Rules::default();
        let now = Utc::now();
        let l = lists(
            &[],
            &[
                ("冀A12345", None),
                ("冀B12345", Some(now - chrono::Duration::hours(1))),
            ],
        );
        let f = judge(&passage(Some(("冀A12345", 0.8)), None), &r, &l, now);
        assert_eq!(kinds(&f), ["hotlist_hit"]);
        assert!(
            judge(&passage(Some(("冀B12345", 0.8)), None), &r, &l, now).is_empty(),
            "expired"
        );
        assert!(
            judge(&passage(Some(("冀A12345", 0.3)), None), &r, &l, now).is_empty(),
            "weak read"
        );
        assert_eq!(l.sizes(), (0, 2));
        assert_eq!(l.version, 3);
    }
}
