//! The cross-check's plate rules, pure: does a plate seen at a checkpoint fit the
//! plate a tipster said, and how well. Tipsters mishear and readers misread the same
//! few characters, so "one confusable character off" is a match too, ranked below an
//! exact or wildcard fit.

use std::cmp::Reverse;

use chrono::{DateTime, Utc};

use crate::api::{MatchKind, PlatePattern, PlateText, TipMatch};

/// Characters that look or sound alike on a plate (DOMAIN.md "Plates": readers
/// confuse 0/D/Q, 1/I, 8/B, 5/S, 2/Z; on the phone 6/G and 7/T join them). The one
/// table every confusable-aware match uses; a group is characters mistaken for each
/// other. O is with 0 because GA 36 allows O only as an authority letter, so a heard
/// O is almost always a 0.
pub const CONFUSABLE: &[&str] = &["0ODQ", "1I", "8B", "5S", "2Z", "6G", "7T"];

/// Whether `a` and `b` are different characters often mistaken for each other.
pub fn confusable(a: char, b: char) -> bool {
    a != b && CONFUSABLE.iter().any(|g| g.contains(a) && g.contains(b))
}

/// How `plate` fits the plate as heard: exactly (no wildcards, same text), through
/// the wildcards, or with one confusable character swapped; `None` otherwise.
pub fn match_plate(pattern: &PlatePattern, plate: &str) -> Option<MatchKind> {
    let pat: Vec<char> = pattern.as_str().chars().collect();
    let txt: Vec<char> = plate.chars().collect();
    let wild = pat.iter().any(|c| matches!(c, '?' | '*'));
    match substitutions(&pat, &txt)? {
        0 if wild => Some(MatchKind::Wildcard),
        0 => Some(MatchKind::Exact),
        _ => Some(MatchKind::Confusable),
    }
}

/// The fewest confusable swaps (0 or 1) that make `txt` fit `pat`; `None` when more
/// than one would be needed or it cannot fit at all.
fn substitutions(pat: &[char], txt: &[char]) -> Option<u8> {
    // Two or more swaps is no match: a cap keeps the table small.
    const NONE: u8 = 2;
    let (n, m) = (pat.len(), txt.len());
    // best[i][j]: fewest swaps for pat[i..] to fit txt[j..].
    let mut best = vec![vec![NONE; m + 1]; n + 1];
    best[n][m] = 0;
    for i in (0..n).rev() {
        for j in (0..=m).rev() {
            let next = |cost: u8| (best[i + 1][j + 1] + cost).min(NONE);
            best[i][j] = match pat[i] {
                '*' => best[i + 1][j].min(if j < m { best[i][j + 1] } else { NONE }),
                _ if j == m => NONE,
                '?' => next(0),
                c if c == txt[j] => next(0),
                c if confusable(c, txt[j]) => next(1),
                _ => NONE,
            };
        }
    }
    (best[0][0] < NONE).then_some(best[0][0])
}

/// Every valid plate one confusable swap away from `plate`: the extra plate-index
/// lookups that find a misheard concrete plate without scanning checkpoints.
pub fn confusable_variants(plate: &PlateText) -> Vec<PlateText> {
    let chars: Vec<char> = plate.as_str().chars().collect();
    let mut out = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        for group in CONFUSABLE.iter().filter(|g| g.contains(c)) {
            for alt in group.chars().filter(|&a| a != c) {
                let mut v = chars.clone();
                v[i] = alt;
                let text: String = v.into_iter().collect();
                if let Ok(p) = PlateText::parse(&text) {
                    out.push(p);
                }
            }
        }
    }
    out
}

/// Whether some plate could fit both patterns (literals equal or confusable): two
/// tips that may be about the same truck.
pub fn patterns_overlap(a: &PlatePattern, b: &PlatePattern) -> bool {
    let a: Vec<char> = a.as_str().chars().collect();
    let b: Vec<char> = b.as_str().chars().collect();
    let (n, m) = (a.len(), b.len());
    // can[i][j]: a[i..] and b[j..] share a fitting plate. Filled from the end; every
    // step moves i or j forward, so the entries it reads are filled already.
    let mut can = vec![vec![false; m + 1]; n + 1];
    for i in (0..=n).rev() {
        for j in (0..=m).rev() {
            if i == n && j == m {
                can[i][j] = true;
                continue;
            }
            let (sa, sb) = (a.get(i) == Some(&'*'), b.get(j) == Some(&'*'));
            let mut ok = (sa && can[i + 1][j]) || (sb && can[i][j + 1]);
            if !ok && i < n && j < m {
                let fits = match (a[i], b[j]) {
                    ('*' | '?', _) | (_, '*' | '?') => true,
                    (x, y) => x == y || confusable(x, y),
                };
                // A star consuming a character stays where it is; both staying
                // would be a loop that the empty-star steps above already cover.
                let (ni, nj) = (if sa { i } else { i + 1 }, if sb { j } else { j + 1 });
                ok = fits && (ni, nj) != (i, j) && can[ni][nj];
            }
            can[i][j] = ok;
        }
    }
    can[0][0]
}

/// Sorts matches best first: exact > wildcard > confusable, in-county > neighbour,
/// then closer to the middle of the tip's window, then earlier.
pub fn rank(matches: &mut [TipMatch], window: (DateTime<Utc>, DateTime<Utc>)) {
    let mid = window.0 + (window.1 - window.0) / 2;
    matches.sort_by_key(|m| {
        (
            m.kind,
            m.area,
            (m.seen_at - mid).abs(),
            m.seen_at,
            Reverse(m.passage_id),
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Area, CheckpointId, County, PassageId};
    use chrono::Duration;

    fn pat(s: &str) -> PlatePattern {
        PlatePattern::parse(s).unwrap()
    }

    #[test]
    fn exact_plates_match_exactly() {
        assert_eq!(
            match_plate(&pat("晋H93513"), "晋H93513"),
            Some(MatchKind::Exact)
        );
        assert_eq!(
            match_plate(&pat("晋h 93513"), "晋H93513"),
            Some(MatchKind::Exact)
        );
        assert_eq!(match_plate(&pat("晋H93513"), "晋H93514"), None);
        assert_eq!(match_plate(&pat("晋H93513"), "晋H935133"), None);
    }

    #[test]
    fn question_mark_is_one_character() {
        let p = pat("晋A?2345");
        assert_eq!(match_plate(&p, "晋AB2345"), Some(MatchKind::Wildcard));
        assert_eq!(match_plate(&p, "晋A2345"), None);
        assert_eq!(match_plate(&p, "晋AB12345"), None);
    }

    #[test]
    fn star_is_any_run_including_none() {
        let p = pat("晋A?23*");
        assert_eq!(match_plate(&p, "晋AK2345"), Some(MatchKind::Wildcard));
        assert_eq!(match_plate(&p, "晋AK23"), Some(MatchKind::Wildcard));
        assert_eq!(match_plate(&p, "晋AK2345挂"), Some(MatchKind::Wildcard));
        assert_eq!(match_plate(&p, "冀AK2345"), None);
        let tail = pat("*5678");
        assert_eq!(match_plate(&tail, "冀B05678"), Some(MatchKind::Wildcard));
        assert_eq!(match_plate(&tail, "冀B05679"), None);
        assert_eq!(
            match_plate(&pat("**56**78*"), "冀B05678"),
            Some(MatchKind::Wildcard)
        );
    }

    #[test]
    fn one_confusable_swap_matches_two_do_not() {
        // 0 heard as D, 8 as B.
        assert_eq!(
            match_plate(&pat("晋HD3513"), "晋H03513"),
            Some(MatchKind::Confusable)
        );
        assert_eq!(
            match_plate(&pat("晋H9351B"), "晋H93518"),
            Some(MatchKind::Confusable)
        );
        assert_eq!(match_plate(&pat("晋HD351B"), "晋H03518"), None);
        // A swap inside a wildcard pattern is still only a confusable match.
        assert_eq!(
            match_plate(&pat("*S678"), "冀B05678"),
            Some(MatchKind::Confusable)
        );
        // Unrelated characters never count as confusable.
        assert_eq!(match_plate(&pat("晋H93513"), "晋H93543"), None);
        for (a, b) in [
            ('0', 'D'),
            ('0', 'Q'),
            ('1', 'I'),
            ('8', 'B'),
            ('5', 'S'),
            ('2', 'Z'),
            ('6', 'G'),
            ('7', 'T'),
        ] {
            assert!(confusable(a, b) && confusable(b, a), "{a}/{b}");
        }
        assert!(!confusable('A', 'A') && !confusable('3', '8'));
    }

    #[test]
    fn exact_beats_swapped_when_both_fit() {
        // "晋H0..." fits "晋H0..." exactly even though 0 is confusable.
        assert_eq!(
            match_plate(&pat("晋H03513"), "晋H03513"),
            Some(MatchKind::Exact)
        );
    }

    #[test]
    fn variants_are_valid_plates_one_swap_away() {
        let p = PlateText::parse("晋H03518").unwrap();
        let v: Vec<String> = confusable_variants(&p)
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert!(v.contains(&"晋HD3518".to_string()));
        assert!(v.contains(&"晋H0351B".to_string()));
        assert!(v.contains(&"晋H03S18".to_string()));
        // O and I are not serial characters in GA 36: never proposed there.
        assert!(!v.iter().any(|s| s == "晋HO3518"));
        assert!(v.iter().all(|s| s != "晋H03518"));
    }

    #[test]
    fn overlapping_patterns() {
        assert!(patterns_overlap(&pat("晋A?23*"), &pat("*2345")));
        assert!(patterns_overlap(&pat("晋A12345"), &pat("晋A1234S")));
        assert!(patterns_overlap(&pat("*5678"), &pat("冀B*")));
        assert!(!patterns_overlap(&pat("晋A12345"), &pat("冀A12345")));
        assert!(!patterns_overlap(&pat("晋A?2345"), &pat("晋A23456")));
        assert!(patterns_overlap(&pat("*78"), &pat("*5678")));
        assert!(!patterns_overlap(&pat("*79"), &pat("*5678")));
    }

    #[test]
    fn ranks_kind_then_area_then_time() {
        let t0 = Utc::now();
        let mk = |kind, area, mins: i64| TipMatch {
            passage_id: PassageId::new(),
            checkpoint_id: CheckpointId::parse("cp").unwrap(),
            county: County::parse("滦平县").unwrap(),
            seen_at: t0 + Duration::minutes(mins),
            plate: PlateText::parse("晋H93513").unwrap(),
            kind,
            area,
            cargo: None,
            evidence: Vec::new(),
        };
        let mut v = vec![
            mk(MatchKind::Confusable, Area::InCounty, 0),
            mk(MatchKind::Wildcard, Area::Neighbour, 0),
            mk(MatchKind::Wildcard, Area::InCounty, 50),
            mk(MatchKind::Wildcard, Area::InCounty, 5),
            mk(MatchKind::Exact, Area::Neighbour, 90),
        ];
        rank(&mut v, (t0 - Duration::hours(1), t0 + Duration::hours(1)));
        let order: Vec<_> = v
            .iter()
            .map(|m| (m.kind, m.area, (m.seen_at - t0).num_minutes()))
            .collect();
        assert_eq!(
            order,
            vec![
                (MatchKind::Exact, Area::Neighbour, 90),
                (MatchKind::Wildcard, Area::InCounty, 5),
                (MatchKind::Wildcard, Area::InCounty, 50),
                (MatchKind::Wildcard, Area::Neighbour, 0),
                (MatchKind::Confusable, Area::InCounty, 0),
            ]
        );
    }

    #[test]
    fn patterns_are_validated() {
        assert!(PlatePattern::parse("*").is_err());
        assert!(PlatePattern::parse("?5").is_err());
        assert!(PlatePattern::parse("晋A#123").is_err());
        assert!(
            PlatePattern::parse("晋A1234").is_err(),
            "partial without wildcards"
        );
        assert!(PlatePattern::parse("晋A1234*").is_ok());
        assert_eq!(pat("晋a？23＊＊").as_str(), "晋A?23*");
        assert_eq!(pat("晋H93513").concrete().unwrap().as_str(), "晋H93513");
        assert!(pat("晋H9351?").concrete().is_none());
    }
}
