//! `PlateText`: a licence plate number validated against GA 36 (DOMAIN.md "Plates").
//!
//! Accepted shapes (after removing spaces and the middle dot, upper-casing ASCII):
//! - ordinary: province + authority letter + 5 of A-Z/0-9 without I/O (`晋H93513`);
//! - special last character: province + letter + 4 serial + 挂/学/警/领 (`冀A1234挂`),
//!   港/澳 only on 粤Z (`粤Z1234港`);
//! - embassy / consulate: 使 or 领 first, then 6 of A-Z/0-9 (`使123456`), or 6 digits
//!   then 使 (the 2007 layout);
//! - new energy (8 characters): small cars D/F then 5 (`京AD12345`), large vehicles
//!   5 digits then D/F (`京A12345D`).
//!
//! Lenient where GA 36 has real variants: the authority letter may be O (some official
//! plates). Everything else is rejected with a message saying what is wrong.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The 31 province abbreviations of GA 36.
pub const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// Why a plate text is not a GA 36 plate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a GA 36 plate: {0}")]
pub struct PlateError(&'static str);

/// A plate number in canonical form (no spaces or dots, ASCII upper case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlateText(String);

impl PlateText {
    /// Validates and canonicalises `raw`.
    pub fn parse(raw: &str) -> Result<Self, PlateError> {
        let canon: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '·' && *c != '•' && *c != '.')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        validate(&canon)?;
        Ok(PlateText(canon))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PlateText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PlateText {
    type Error = PlateError;
    fn try_from(s: String) -> Result<Self, PlateError> {
        PlateText::parse(&s)
    }
}

impl From<PlateText> for String {
    fn from(p: PlateText) -> String {
        p.0
    }
}

impl std::str::FromStr for PlateText {
    type Err = PlateError;
    fn from_str(s: &str) -> Result<Self, PlateError> {
        PlateText::parse(s)
    }
}

fn is_province(c: char) -> bool {
    PROVINCES.contains(c)
}

/// A serial character: A-Z or 0-9, never I or O.
fn is_serial(c: char) -> bool {
    (c.is_ascii_uppercase() && c != 'I' && c != 'O') || c.is_ascii_digit()
}

/// The authority letter: A-Z except I (O occurs on some official plates).
fn is_authority(c: char) -> bool {
    c.is_ascii_uppercase() && c != 'I'
}

fn validate(s: &str) -> Result<(), PlateError> {
    let c: Vec<char> = s.chars().collect();
    if c.is_empty() {
        return Err(PlateError("empty"));
    }
    if c.len() > 8 {
        return Err(PlateError("longer than 8 characters"));
    }
    // Embassy and consulate plates with the mark first.
    if c[0] == '使' || c[0] == '领' {
        return if c.len() == 7 && c[1..].iter().all(|&x| is_serial(x)) {
            Ok(())
        } else {
            Err(PlateError("使/领 must be followed by 6 of A-Z/0-9"))
        };
    }
    // 2007 embassy layout: six digits then 使.
    if c.len() == 7 && c[6] == '使' {
        return if c[..6].iter().all(|x| x.is_ascii_digit()) {
            Ok(())
        } else {
            Err(PlateError("an embassy plate is 6 digits then 使"))
        };
    }
    if !is_province(c[0]) {
        return Err(PlateError(
            "first character must be a province abbreviation",
        ));
    }
    if c.len() < 2 || !is_authority(c[1]) {
        return Err(PlateError(
            "second character must be an authority letter A-Z (no I)",
        ));
    }
    match c.len() {
        7 => {
            let last = c[6];
            if !c[2..6].iter().all(|&x| is_serial(x)) {
                return Err(PlateError("serial must be A-Z/0-9 without I or O"));
            }
            match last {
                '挂' | '学' | '警' | '领' => Ok(()),
                '港' | '澳' if c[0] == '粤' && c[1] == 'Z' => Ok(()),
                '港' | '澳' => Err(PlateError("港/澳 plates are 粤Z only")),
                x if is_serial(x) => Ok(()),
                _ => Err(PlateError("serial must be A-Z/0-9 without I or O")),
            }
        }
        8 => {
            let serial = &c[2..];
            if !serial.iter().all(|&x| is_serial(x)) {
                return Err(PlateError("serial must be A-Z/0-9 without I or O"));
            }
            let small = matches!(serial[0], 'D' | 'F');
            let large =
                serial[..5].iter().all(|x| x.is_ascii_digit()) && matches!(serial[5], 'D' | 'F');
            if small || large {
                Ok(())
            } else {
                Err(PlateError(
                    "a new-energy plate starts its serial with D/F (small) or ends it with D/F after 5 digits (large)",
                ))
            }
        }
        _ => Err(PlateError("must be 7 characters (8 for new energy)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ga36_shapes() {
        for ok in [
            "晋H93513",
            "冀A1234挂",
            "冀H12345",
            "京A0000学",
            "沪A1234警",
            "粤Z1234港",
            "粤Z1234澳",
            "使123456",
            "领123456",
            "224001使",
            "沪A1234领",
            "京AD12345",
            "京AF1234A",
            "京A12345D",
            "京A12345F",
            "京O12345",
            "蒙AB1234",
        ] {
            assert!(
                PlateText::parse(ok).is_ok(),
                "{ok} should be valid: {:?}",
                PlateText::parse(ok)
            );
        }
    }

    #[test]
    fn canonicalises_spacing_and_case() {
        assert_eq!(
            PlateText::parse(" 晋H·93513 ").unwrap().as_str(),
            "晋H93513"
        );
        assert_eq!(PlateText::parse("晋h9351a").unwrap().as_str(), "晋H9351A");
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "ABCDEFG",
            "晋I12345",
            "晋H9351I",
            "晋H9351O",
            "晋H1234",
            "晋H123456",
            "京A123456",
            "京AA12345",
            "京A1234D5",
            "冀A12345挂",
            "沪A1234港",
            "晋H93513X",
            "X晋H9351",
            "晋1H2345",
            "<script>",
            "使12345",
            "晋H93513晋H93513",
        ] {
            assert!(PlateText::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn deserialises_through_validation() {
        let p: PlateText = serde_json::from_str("\"晋H93513\"").unwrap();
        assert_eq!(p.as_str(), "晋H93513");
        let e = serde_json::from_str::<PlateText>("\"晋I12345\"").unwrap_err();
        assert!(e.to_string().contains("GA 36"), "{e}");
    }
}
