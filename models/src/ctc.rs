//! Greedy CTC decoding of a `[T, C]` logit matrix (class 0 is the blank), and the
//! numerically stable softmax peak used for every classification head.
//!
//! Greedy decoding takes the argmax class at every step, collapses runs of the
//! same class, and drops blanks: `a a _ a b b` reads `a a b` (a blank between two
//! runs of `a` keeps both). A character's confidence is the highest softmax
//! probability its class reached over the steps of its run.

/// One decoded character: its CTC class (`1..C`, never the blank) and confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decoded {
    /// CTC class: `class - 1` indexes the alphabet.
    pub class: usize,
    /// Peak softmax probability of `class` over the steps of its run, in `0..=1`.
    pub confidence: f32,
    /// The step of that peak (the first on a tie): where to look for what else
    /// the network thought the character might be.
    pub step: usize,
}

/// The CTC blank class.
pub const BLANK: usize = 0;

/// Argmax of `logits` and its softmax probability, computed stably:
/// `p_max = 1 / Σ exp(l_i − l_max)`, so no exponential can overflow.
///
/// Ties go to the lowest index. An empty slice, or logits with no finite maximum
/// (NaN, infinities), give probability 0 so that a broken output can never look
/// confident.
pub fn softmax_peak(logits: &[f32]) -> (usize, f32) {
    let mut best = 0;
    let mut max = f32::NEG_INFINITY;
    for (i, &l) in logits.iter().enumerate() {
        if l > max {
            max = l;
            best = i;
        }
    }
    if !max.is_finite() {
        return (best, 0.0);
    }
    let sum: f32 = logits.iter().map(|&l| (l - max).exp()).sum();
    let p = 1.0 / sum;
    (best, if p.is_finite() { p } else { 0.0 })
}

/// Greedy-decodes `logits` (row-major `[T, classes]`) into `out`, which is
/// cleared first (the caller keeps it to avoid an allocation per read).
///
/// A trailing partial row (when `logits.len()` is not a multiple of `classes`)
/// is ignored; `classes == 0` decodes nothing.
pub fn greedy_decode_into(logits: &[f32], classes: usize, out: &mut Vec<Decoded>) {
    out.clear();
    if classes == 0 {
        return;
    }
    // The class of the previous step, blank included: a run continues only while
    // the argmax stays the same.
    let mut prev = BLANK;
    for (t, step) in logits.chunks_exact(classes).enumerate() {
        let (class, p) = softmax_peak(step);
        if class != BLANK {
            match out.last_mut() {
                Some(last) if class == prev => {
                    if p > last.confidence {
                        last.confidence = p;
                        last.step = t;
                    }
                }
                _ => out.push(Decoded {
                    class,
                    confidence: p,
                    step: t,
                }),
            }
        }
        prev = class;
    }
}

/// The text `chars` spell over `alphabet` (class `c` is `alphabet[c - 1]`); a
/// class outside the alphabet spells nothing.
pub fn spell(chars: &[Decoded], alphabet: &[String]) -> String {
    chars
        .iter()
        .filter_map(|d| alphabet.get(d.class.checked_sub(1)?))
        .map(String::as_str)
        .collect()
}

/// Greedy-decodes `logits` (row-major `[T, classes]`); see [`greedy_decode_into`].
pub fn greedy_decode(logits: &[f32], classes: usize) -> Vec<Decoded> {
    let mut out = Vec::new();
    greedy_decode_into(logits, classes, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: usize = 4; // blank, a, b, c

    /// Logits whose argmax per step is `path[t]`, peaking at `peak[t]` (a logit).
    fn logits(path: &[usize], peak: &[f32]) -> Vec<f32> {
        let mut v = vec![0.0; path.len() * C];
        for (t, (&k, &l)) in path.iter().zip(peak).enumerate() {
            v[t * C + k] = l;
        }
        v
    }

    fn classes(d: &[Decoded]) -> Vec<usize> {
        d.iter().map(|d| d.class).collect()
    }

    #[test]
    fn blanks_are_dropped() {
        let d = greedy_decode(&logits(&[0, 1, 0, 0, 2, 0], &[5.0; 6]), C);
        assert_eq!(classes(&d), [1, 2]);
    }

    #[test]
    fn repeats_collapse() {
        let d = greedy_decode(&logits(&[1, 1, 1, 2, 2, 3], &[5.0; 6]), C);
        assert_eq!(classes(&d), [1, 2, 3]);
    }

    #[test]
    fn a_blank_separates_repeats() {
        let d = greedy_decode(&logits(&[1, 1, 0, 1, 0, 0, 1], &[5.0; 7]), C);
        assert_eq!(classes(&d), [1, 1, 1]);
    }

    #[test]
    fn all_blank_reads_nothing() {
        assert!(greedy_decode(&logits(&[0; 9], &[5.0; 9]), C).is_empty());
        assert!(greedy_decode(&[], C).is_empty());
        assert!(greedy_decode(&[1.0, 2.0], 0).is_empty());
    }

    #[test]
    fn confidence_is_the_peak_over_the_run() {
        // run of `a` peaks at logit 3 on its second step; `b` is a single step.
        let d = greedy_decode(&logits(&[1, 1, 0, 2], &[1.0, 3.0, 2.0, 2.0]), C);
        let p = |l: f32| l.exp() / (l.exp() + 3.0); // the other three logits are 0
        assert_eq!(classes(&d), [1, 2]);
        assert!((d[0].confidence - p(3.0)).abs() < 1e-6, "{d:?}");
        assert!((d[1].confidence - p(2.0)).abs() < 1e-6, "{d:?}");
        // ... and remembers where: step 1 for `a`, step 3 for `b`.
        assert_eq!((d[0].step, d[1].step), (1, 3));
    }

    #[test]
    fn softmax_is_stable_for_huge_logits() {
        let (k, p) = softmax_peak(&[1000.0, 1001.0, -1000.0, 999.0]);
        assert_eq!(k, 1);
        let expect = 1.0 / (1.0 + (-1.0f32).exp() + (-2.0f32).exp());
        assert!((p - expect).abs() < 1e-6, "{p}");
        let (_, p) = softmax_peak(&[-1e30, -1e30]);
        assert!((p - 0.5).abs() < 1e-6);
    }

    #[test]
    fn softmax_of_broken_logits_is_not_confident() {
        assert_eq!(softmax_peak(&[]).1, 0.0);
        assert_eq!(softmax_peak(&[f32::NAN, f32::NAN]).1, 0.0);
        assert_eq!(softmax_peak(&[f32::INFINITY, 1.0]).1, 0.0);
        // one NaN among finite logits: never reported as a probability above 1
        let (_, p) = softmax_peak(&[1.0, f32::NAN]);
        assert!(p == 0.0 || (0.0..=1.0).contains(&p));
    }

    #[test]
    fn decode_into_reuses_the_buffer() {
        let mut out = Vec::with_capacity(8);
        greedy_decode_into(&logits(&[1, 2], &[5.0; 2]), C, &mut out);
        greedy_decode_into(&logits(&[3], &[5.0]), C, &mut out);
        assert_eq!(classes(&out), [3]);
    }
}
