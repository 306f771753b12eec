//! What each outcome must record (DOMAIN.md "Enforcement teams"): a fine needs its
//! amount and the article it rests on, a seizure its tonnes, a release the papers
//! that justified it. Checked here, at the boundary, so the page and the API agree.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{invalid, ActionKind, ActionRequest, InvalidValue, Outcome};

/// The papers that let a coal truck go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Papers {
    /// A licensed supply company's delivery (保供企业).
    LicensedSupply,
    /// Legal "无烟1号" anthracite, with its quality report.
    Anthracite,
    /// Legal 兰炭 semi-coke, with its quality report.
    SemiCoke,
}

impl Papers {
    pub const ALL: [Papers; 3] = [Papers::LicensedSupply, Papers::Anthracite, Papers::SemiCoke];
    pub fn as_str(self) -> &'static str {
        match self {
            Papers::LicensedSupply => "licensed_supply",
            Papers::Anthracite => "anthracite",
            Papers::SemiCoke => "semi_coke",
        }
    }
}

impl FromStr for Papers {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        Papers::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(invalid(
                "papers",
                "must be licensed_supply, anthracite or semi_coke",
            ))
    }
}

/// What the newer outcomes record, beside `tonnes` and `fine_yuan` (which older
/// clients already send): flattened into [`ActionRequest`] and `HistoryEntry`, absent
/// from the JSON when empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutcomeDetails {
    /// The article a fine rests on (outcome `fined`), e.g. 《大气污染防治法》第一百一十六条.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    /// Which papers let the truck go (outcome `released_with_papers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub papers: Option<Papers>,
    /// Quality report number of legal anthracite or semi-coke.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_report: Option<String>,
    /// Number on the sample bag (outcome `sampled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_no: Option<String>,
}

/// A field of an action that is missing, out of range or does not belong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {why}")]
pub struct FieldError {
    pub field: &'static str,
    pub why: String,
}

/// Fines under Air Pollution Law art. 116 for uncovered bulk loads, yuan.
pub const FINE_RANGE: std::ops::RangeInclusive<u32> = 2_000..=20_000;

/// Longest free-text field of an outcome, characters.
const MAX_TEXT: usize = 200;

impl Outcome {
    /// The fields this outcome records besides the note, in the order a form shows them.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Outcome::Stopped | Outcome::TurnedBack | Outcome::FalseAlarm => &[],
            Outcome::Sampled => &["sample_no"],
            Outcome::Seized => &["tonnes"],
            Outcome::Fined => &["fine_yuan", "legal_basis"],
            Outcome::ReleasedWithPapers => &["papers", "quality_report"],
        }
    }
}

fn text<'a>(field: &'static str, v: &'a Option<String>) -> Result<Option<&'a str>, FieldError> {
    let Some(v) = v.as_deref().map(str::trim) else {
        return Ok(None);
    };
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > MAX_TEXT {
        return Err(FieldError {
            field,
            why: format!("longer than {MAX_TEXT} characters"),
        });
    }
    Ok(Some(v))
}

fn missing(field: &'static str, outcome: Outcome) -> FieldError {
    FieldError {
        field,
        why: format!("required for outcome {}", outcome.as_str()),
    }
}

/// Checks that an action carries exactly the fields its outcome records: each required
/// one present and in range, none that belongs to another outcome.
pub fn check_fields(req: &ActionRequest) -> Result<(), FieldError> {
    let d = &req.details;
    let given: [(&'static str, bool); 6] = [
        ("tonnes", req.tonnes.is_some()),
        ("fine_yuan", req.fine_yuan.is_some()),
        (
            "legal_basis",
            text("legal_basis", &d.legal_basis)?.is_some(),
        ),
        ("papers", d.papers.is_some()),
        (
            "quality_report",
            text("quality_report", &d.quality_report)?.is_some(),
        ),
        ("sample_no", text("sample_no", &d.sample_no)?.is_some()),
    ];
    let allowed: &[&str] = match (req.action, req.outcome) {
        (ActionKind::Outcome, Some(o)) => o.fields(),
        _ => &[],
    };
    if let Some(&(field, _)) = given.iter().find(|(f, g)| *g && !allowed.contains(f)) {
        let why = match req.outcome {
            Some(o) if req.action == ActionKind::Outcome => {
                format!("not recorded for outcome {}", o.as_str())
            }
            _ => "only an outcome records it".to_owned(),
        };
        return Err(FieldError { field, why });
    }
    let (ActionKind::Outcome, Some(o)) = (req.action, req.outcome) else {
        return Ok(());
    };
    match o {
        Outcome::Sampled if !given[5].1 => Err(missing("sample_no", o)),
        Outcome::Seized => match req.tonnes {
            None => Err(missing("tonnes", o)),
            Some(t) if !(t > 0.0 && t <= 1000.0) => Err(FieldError {
                field: "tonnes",
                why: "must be more than 0 and at most 1000".into(),
            }),
            Some(_) => Ok(()),
        },
        Outcome::Fined => match req.fine_yuan {
            None => Err(missing("fine_yuan", o)),
            Some(y) if !FINE_RANGE.contains(&y) => Err(FieldError {
                field: "fine_yuan",
                why: format!(
                    "must be {}-{} yuan (Air Pollution Law art. 116)",
                    FINE_RANGE.start(),
                    FINE_RANGE.end()
                ),
            }),
            Some(_) if !given[2].1 => Err(missing("legal_basis", o)),
            Some(_) => Ok(()),
        },
        Outcome::ReleasedWithPapers => match d.papers {
            None => Err(missing("papers", o)),
            // A licensed fleet's delivery note is the paper; fuels need their report.
            Some(Papers::LicensedSupply) => Ok(()),
            Some(_) if !given[4].1 => Err(FieldError {
                field: "quality_report",
                why: "required when anthracite or semi-coke is released".into(),
            }),
            Some(_) => Ok(()),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(o: Outcome) -> ActionRequest {
        ActionRequest {
            outcome: Some(o),
            ..ActionRequest::new(ActionKind::Outcome)
        }
    }

    #[test]
    fn each_outcome_names_its_missing_field() {
        let field = |r: &ActionRequest| check_fields(r).err().map(|e| e.field);
        assert_eq!(field(&outcome(Outcome::Stopped)), None);
        assert_eq!(field(&outcome(Outcome::Seized)), Some("tonnes"));
        assert_eq!(field(&outcome(Outcome::Sampled)), Some("sample_no"));
        let mut fined = outcome(Outcome::Fined);
        assert_eq!(field(&fined), Some("fine_yuan"));
        fined.fine_yuan = Some(500);
        assert_eq!(field(&fined), Some("fine_yuan"));
        fined.fine_yuan = Some(5000);
        assert_eq!(field(&fined), Some("legal_basis"));
        fined.details.legal_basis = Some("art. 116".into());
        assert_eq!(field(&fined), None);
        fined.tonnes = Some(3.0);
        assert_eq!(field(&fined), Some("tonnes"));
        let mut released = outcome(Outcome::ReleasedWithPapers);
        assert_eq!(field(&released), Some("papers"));
        released.details.papers = Some(Papers::SemiCoke);
        assert_eq!(field(&released), Some("quality_report"));
        released.details.papers = Some(Papers::LicensedSupply);
        assert_eq!(field(&released), None);
    }
}
