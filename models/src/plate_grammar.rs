//! The GA 36 grammar as a last word on a reading: a reading that is not a plate
//! number, but one character away from one that the network also considered, is
//! read as that plate.
//!
//! A checkpoint drops every reading that is not a GA 36 plate
//! ([`hub::api::PlateText`], the one definition of the grammar), so a plate read as
//! `皖0FX886` (a digit where the authority letter stands) or `鄂ZR066港` (港 plates
//! are 粤Z only) is lost. The network's own second choice at that character is
//! often the letter or province the grammar asks for. Only substitutions are
//! tried, at the step where each character peaked: a reading with a character too
//! many or too few is left as it is.
//!
//! Beside the grammar, one fact of issued plates that it leaves out: an ordinary
//! plate's five serial characters hold at most [`MAX_SERIAL_LETTERS`] letters. A
//! reading with more is put right the same way, or kept as read when no
//! substitution helps (the hub's grammar accepts it).

use hub::api::PlateText;

use crate::ctc::{self, Decoded};
use crate::plate_province::softmax_into;

/// The least softmax probability a replacement character must have had at its
/// step: a real second choice of the network, not noise. On the synthetic
/// hold-out (2000 plates, Python) 0.01 put right 10 readings, 0.1 6 and 0.2 4,
/// and none broke a right one; on real dev the one plate put right (皖DFX886) had
/// its D at 0.45.
pub const MIN_REPAIR_PROBABILITY: f32 = 0.1;

/// At most this many letters among an ordinary plate's five serial characters.
/// None of the 774 ordinary plates of `real/plates` (train and dev) has more,
/// while a third of their serial characters are letters: drawn independently,
/// about 137 of them would have three or more.
pub const MAX_SERIAL_LETTERS: usize = 2;

/// A GA 36 plate whose serial, if it is an ordinary plate's, holds at most
/// [`MAX_SERIAL_LETTERS`] letters.
fn plausible(text: &str) -> bool {
    if PlateText::parse(text).is_err() {
        return false;
    }
    let c: Vec<char> = text.chars().collect();
    // Ordinary: province, authority letter, five of A-Z / 0-9 (a special last
    // character such as 挂 or 港 makes another kind).
    let ordinary = c.len() == 7
        && hub::api::PROVINCES.contains(c[0])
        && c[2..].iter().all(char::is_ascii_alphanumeric);
    !ordinary || c[2..].iter().filter(|ch| ch.is_ascii_alphabetic()).count() <= MAX_SERIAL_LETTERS
}

/// When `text`, what `chars` spell (decoded from the CTC `logits`, row-major
/// `[T, classes]`, over `alphabet` with the blank at class 0), is not a GA 36
/// plate, or is an ordinary plate with more than [`MAX_SERIAL_LETTERS`] letters in
/// its serial: replaces the one character whose replacement makes such a plate
/// and had the highest softmax probability at that character's peak step, at
/// least [`MIN_REPAIR_PROBABILITY`]; that probability becomes its confidence.
/// Returns the new text when a character was replaced.
pub fn repair_to_plate(
    chars: &mut [Decoded],
    text: &str,
    logits: &[f32],
    classes: usize,
    alphabet: &[String],
) -> Option<String> {
    if chars.is_empty() || plausible(text) {
        return None;
    }
    // Only readings the grammar rejects, or with too many serial letters, come
    // here: a few per hundred.
    let mut probs = Vec::with_capacity(classes);
    let mut candidate = chars.to_vec();
    let mut best: Option<(usize, usize, f32)> = None;
    for (i, d) in chars.iter().enumerate() {
        let Some(row) = logits.get(d.step * classes..(d.step + 1) * classes) else {
            continue;
        };
        softmax_into(row, &mut probs);
        for (class, &p) in probs.iter().enumerate().skip(1) {
            let better = best.is_none_or(|(_, _, b)| p > b);
            if class == d.class || p < MIN_REPAIR_PROBABILITY || !better {
                continue;
            }
            candidate[i].class = class;
            if plausible(&ctc::spell(&candidate, alphabet)) {
                best = Some((i, class, p));
            }
            candidate[i].class = d.class;
        }
    }
    let (i, class, p) = best?;
    chars[i].class = class;
    chars[i].confidence = p;
    Some(ctc::spell(chars, alphabet))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small alphabet: 皖 粤 鄂 0 D F X 8 6 Z R 港.
    fn alphabet() -> Vec<String> {
        "皖粤鄂0DFX86ZR港".chars().map(String::from).collect()
    }

    fn class(ch: char) -> usize {
        1 + alphabet().iter().position(|a| a.starts_with(ch)).unwrap()
    }

    /// Logits with one step per character: the first of `alts` at `p`, the
    /// others sharing what is left, the blank nearly nothing.
    fn logits(steps: &[&[(char, f32)]]) -> (Vec<f32>, Vec<Decoded>) {
        let classes = 1 + alphabet().len();
        let mut out = vec![-20.0f32; steps.len() * classes];
        let mut chars = Vec::new();
        for (t, alts) in steps.iter().enumerate() {
            for &(ch, p) in alts.iter() {
                out[t * classes + class(ch)] = p.ln();
            }
            chars.push(Decoded {
                class: class(alts[0].0),
                confidence: alts[0].1,
                step: t,
            });
        }
        (out, chars)
    }

    fn text(chars: &[Decoded]) -> String {
        ctc::spell(chars, &alphabet())
    }

    /// `皖?FX886`, its second character read as `second` (best first), the
    /// others surely.
    fn wan_fx886(second: &[(char, f32)]) -> (Vec<f32>, Vec<Decoded>) {
        let sure = |ch: char| [(ch, 0.99)];
        let [wan, f, x, e, six] = ['皖', 'F', 'X', '8', '6'].map(sure);
        logits(&[&wan, second, &f, &x, &e, &e, &six])
    }

    /// Repairs `chars` in place; whether a character was replaced (the
    /// returned text then is what they spell).
    fn repair(l: &[f32], chars: &mut [Decoded]) -> bool {
        let repaired = repair_to_plate(chars, &text(chars), l, 1 + alphabet().len(), &alphabet());
        repaired.inspect(|t| assert_eq!(*t, text(chars))).is_some()
    }

    #[test]
    fn a_digit_where_the_authority_letter_stands_becomes_the_letter() {
        let (l, mut chars) = wan_fx886(&[('0', 0.52), ('D', 0.45)]);
        assert_eq!(text(&chars), "皖0FX886");
        assert!(repair(&l, &mut chars));
        assert_eq!(text(&chars), "皖DFX886");
        // Its softmax probability at that step (0.45 of the 0.97 there).
        assert!((chars[1].confidence - 0.45 / 0.97).abs() < 1e-3);
    }

    #[test]
    fn a_hong_kong_plate_takes_the_province_it_must_have() {
        let sure = |ch: char| [(ch, 0.99)];
        let [z, r, zero, six, gang] = ['Z', 'R', '0', '6', '港'].map(sure);
        let province = [('鄂', 0.59), ('粤', 0.38)];
        let (l, mut chars) = logits(&[&province, &z, &r, &zero, &six, &six, &gang]);
        assert!(repair(&l, &mut chars));
        assert_eq!(text(&chars), "粤ZR066港");
    }

    #[test]
    fn a_third_serial_letter_the_network_doubted_becomes_its_digit() {
        let sure = |ch: char| [(ch, 0.99)];
        let [wan, d, f, x, e, six] = ['皖', 'D', 'F', 'X', '8', '6'].map(sure);
        // 皖DFX86D: F, X and D in the serial; the last D was nearly a 0.
        let last = [('D', 0.6), ('0', 0.35)];
        let (l, mut chars) = logits(&[&wan, &d, &f, &x, &e, &six, &last]);
        assert!(PlateText::parse(&text(&chars)).is_ok());
        assert!(repair(&l, &mut chars));
        assert_eq!(text(&chars), "皖DFX860");
        // Read surely, three letters stay: the hub's grammar still takes it.
        let [z] = ['Z'].map(sure);
        let (l, mut chars) = logits(&[&wan, &d, &f, &x, &z, &e, &six]);
        assert!(!repair(&l, &mut chars));
        assert_eq!(text(&chars), "皖DFXZ86");
        assert!(!plausible("皖DFXZ86") && plausible("皖DFX860"));
        // Other kinds keep their own letters: a 港 plate or a new-energy one.
        assert!(plausible("粤ZDFX6港") && plausible("京ADF1234"));
    }

    #[test]
    fn plates_noise_and_lettering_are_left_alone() {
        // Already a plate.
        let (l, mut chars) = wan_fx886(&[('D', 0.99)]);
        assert!(!repair(&l, &mut chars));
        // The letter the grammar wants was below the floor.
        let (l, mut chars) = wan_fx886(&[('0', 0.9), ('D', 0.05)]);
        assert!(!repair(&l, &mut chars));
        assert_eq!(text(&chars), "皖0FX886");
        // Too short to be a plate by one substitution; and nothing at all.
        let (l, mut chars) = logits(&[&[('皖', 0.9)], &[('8', 0.9), ('D', 0.3)]]);
        assert!(!repair(&l, &mut chars));
        assert!(!repair(&[], &mut []));
        // Logits shorter than the steps claim: no panic, no change.
        let (_, mut chars) = wan_fx886(&[('0', 0.52), ('D', 0.45)]);
        assert!(!repair(&[], &mut chars));
        assert_eq!(text(&chars), "皖0FX886");
    }
}
