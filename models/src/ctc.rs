//! CTC decoding of a `[T, C]` logit matrix (class 0 is the blank), and the
//! numerically stable softmax peak used for every classification head.
//!
//! Greedy decoding takes the argmax class at every step, collapses runs of the
//! same class, and drops blanks: `a a _ a b b` reads `a a b` (a blank between two
//! runs of `a` keeps both). A character's confidence is the highest softmax
//! probability its class reached over the steps of its run.
//!
//! When the greedy reading breaks a rule the labels are known to follow (a plate's
//! grammar), [`prefix_beam_search`] finds the most probable labelling that keeps
//! to it, summing over all the alignments of each labelling, and [`align`] puts
//! each of its characters at the steps where the network saw it.
//!
//! [`prefix_beam_search`]: crate::ctc::prefix_beam_search
//! [`align`]: crate::ctc::align

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

/// `log(exp(a) + exp(b))` without overflow; `-inf` is the log of zero.
#[inline]
fn log_add(a: f32, b: f32) -> f32 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    if lo == f32::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// The log-softmax of every row of `logits` (row-major `[T, classes]`); a row
/// with no finite maximum becomes all `-inf` (nothing is probable there).
pub fn log_softmax(logits: &[f32], classes: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(logits.len());
    if classes == 0 {
        return out;
    }
    for row in logits.chunks_exact(classes) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        if !max.is_finite() {
            out.extend(std::iter::repeat_n(f32::NEG_INFINITY, classes));
            continue;
        }
        let log_sum = row.iter().map(|&l| (l - max).exp()).sum::<f32>().ln();
        out.extend(row.iter().map(|&l| l - max - log_sum));
    }
    out
}

/// A labelling found by [`prefix_beam_search`]: its classes (never the blank)
/// and the log of its probability, summed over every alignment the beam kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelling {
    /// CTC classes, `1..C`.
    pub classes: Vec<usize>,
    /// Natural log of its probability.
    pub log_prob: f32,
}

/// How a [`prefix_beam_search`] searches.
#[derive(Debug, Clone, Copy)]
pub struct BeamSearch {
    /// Prefixes kept after each step.
    pub width: usize,
    /// A class is tried as the next character at a step only where its
    /// probability is at least this: the rest cannot lift a labelling far.
    pub min_class_log_prob: f32,
}

/// The CTC prefix beam search over `log_probs` (row-major `[T, classes]`, from
/// [`log_softmax`]), extending a prefix only where `viable` accepts the longer
/// one and returning, best first, the labellings `complete` accepts.
///
/// Each prefix carries two probabilities, of its alignments ending in a blank and
/// in its last character, so that `a _ a` (two `a`s) and `a a` (one) stay apart;
/// they are summed over every alignment that reaches the prefix, which is why a
/// labelling whose characters the network split over several steps can outrank
/// the greedy path.
pub fn prefix_beam_search(
    log_probs: &[f32],
    classes: usize,
    search: BeamSearch,
    mut viable: impl FnMut(&[usize]) -> bool,
    mut complete: impl FnMut(&[usize]) -> bool,
) -> Vec<Labelling> {
    use std::collections::HashMap;
    if classes == 0 || search.width == 0 {
        return Vec::new();
    }
    // Prefixes live in a tree, one node per prefix (its parent and last class),
    // so that a prefix is a node number: no prefix is copied to be extended or
    // compared. Node 0 is the empty prefix.
    let mut tree = PrefixTree::default();
    let mut beams: Vec<(usize, f32, f32)> = vec![(0, 0.0, f32::NEG_INFINITY)];
    // node -> (log p ending in a blank, log p ending in its last character)
    let mut next: HashMap<usize, (f32, f32)> = HashMap::new();
    let mut ranked: Vec<(f32, usize, f32, f32)> = Vec::new();
    let mut prefix = Vec::new();
    let add = |next: &mut HashMap<usize, (f32, f32)>, node: usize, b: f32, n: f32| {
        let e = next
            .entry(node)
            .or_insert((f32::NEG_INFINITY, f32::NEG_INFINITY));
        e.0 = log_add(e.0, b);
        e.1 = log_add(e.1, n);
    };
    for row in log_probs.chunks_exact(classes) {
        next.clear();
        for &(node, pb, pn) in &beams {
            let total = log_add(pb, pn);
            add(&mut next, node, total + row[BLANK], f32::NEG_INFINITY);
            let last = tree.last(node);
            if let Some(last) = last {
                // The last character's run goes on: the labelling is unchanged.
                add(&mut next, node, f32::NEG_INFINITY, pn + row[last]);
            }
            tree.spell(node, &mut prefix);
            for (c, &lp) in row.iter().enumerate().skip(1) {
                if lp < search.min_class_log_prob {
                    continue;
                }
                prefix.push(c);
                let ok = viable(&prefix);
                prefix.pop();
                if !ok {
                    continue;
                }
                // The same character again needs a blank between the two runs.
                let from = if last == Some(c) { pb } else { total };
                let child = tree.child(node, c);
                add(&mut next, child, f32::NEG_INFINITY, from + lp);
            }
        }
        // Each candidate's total once, then the best `width` of them; ties broken
        // by the prefix, so that the map's order never shows.
        ranked.clear();
        ranked.extend(next.iter().map(|(&k, &(b, n))| (log_add(b, n), k, b, n)));
        let order = |a: &(f32, usize, f32, f32), b: &(f32, usize, f32, f32)| {
            b.0.total_cmp(&a.0).then_with(|| tree.cmp(a.1, b.1))
        };
        if ranked.len() > search.width {
            ranked.select_nth_unstable_by(search.width, order);
            ranked.truncate(search.width);
        }
        ranked.sort_by(order);
        beams.clear();
        beams.extend(ranked.iter().map(|&(_, k, b, n)| (k, b, n)));
    }
    let mut out: Vec<Labelling> = Vec::new();
    for (node, b, n) in beams {
        tree.spell(node, &mut prefix);
        if complete(&prefix) {
            out.push(Labelling {
                classes: prefix.clone(),
                log_prob: log_add(b, n),
            });
        }
    }
    out.sort_by(|a, b| {
        b.log_prob
            .total_cmp(&a.log_prob)
            .then_with(|| a.classes.cmp(&b.classes))
    });
    out
}

/// The prefixes of a beam search: node `i > 0` is its parent's prefix and one
/// more class.
#[derive(Default)]
struct PrefixTree {
    /// (parent, class) of nodes 1.. (node `i` at `i - 1`).
    nodes: Vec<(usize, usize)>,
    /// (parent, class) -> node.
    children: std::collections::HashMap<(usize, usize), usize>,
}

impl PrefixTree {
    fn last(&self, node: usize) -> Option<usize> {
        node.checked_sub(1).map(|i| self.nodes[i].1)
    }

    fn child(&mut self, parent: usize, class: usize) -> usize {
        let next = self.nodes.len() + 1;
        let node = *self.children.entry((parent, class)).or_insert(next);
        if node == next {
            self.nodes.push((parent, class));
        }
        node
    }

    /// The classes of `node`'s prefix, into `out`.
    fn spell(&self, mut node: usize, out: &mut Vec<usize>) {
        out.clear();
        while let Some(i) = node.checked_sub(1) {
            out.push(self.nodes[i].1);
            node = self.nodes[i].0;
        }
        out.reverse();
    }

    /// Orders two prefixes as their class sequences.
    fn cmp(&self, a: usize, b: usize) -> std::cmp::Ordering {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        self.spell(a, &mut x);
        self.spell(b, &mut y);
        x.cmp(&y)
    }
}

/// The paths a labelling may take through the steps: its labels with a blank
/// before, between and after them (state `2i + 1` is label `i`). A path starts
/// in one of the first two states, ends in one of the last two, and at each step
/// stays, moves on one state, or skips a blank between two different labels.
struct Lattice<'a> {
    labels: &'a [usize],
}

impl Lattice<'_> {
    fn states(&self) -> usize {
        2 * self.labels.len() + 1
    }

    fn class(&self, s: usize) -> usize {
        if s % 2 == 0 {
            BLANK
        } else {
            self.labels[s / 2]
        }
    }

    /// The states a path may be in one step before `s`, `s` itself first.
    fn predecessors(&self, s: usize) -> impl Iterator<Item = usize> {
        let skip = s >= 2 && s % 2 == 1 && self.class(s) != self.class(s - 2);
        [Some(s), s.checked_sub(1), skip.then(|| s - 2)]
            .into_iter()
            .flatten()
    }

    /// The states a path may end in.
    fn last_states(&self) -> std::ops::RangeInclusive<usize> {
        let n = self.states();
        n.saturating_sub(2)..=n - 1
    }
}

/// The log-probability of the labelling `labels` under `log_probs` (row-major
/// `[T, classes]`, from [`log_softmax`]), summed over all its alignments (the CTC
/// forward algorithm); `-inf` when no alignment fits or a label is not a class.
pub fn labelling_log_prob(log_probs: &[f32], classes: usize, labels: &[usize]) -> f32 {
    if classes == 0 || labels.iter().any(|&c| c == BLANK || c >= classes) {
        return f32::NEG_INFINITY;
    }
    if log_probs.len() < classes {
        // No steps: only the empty labelling, surely.
        return if labels.is_empty() {
            0.0
        } else {
            f32::NEG_INFINITY
        };
    }
    let lattice = Lattice { labels };
    let states = lattice.states();
    let mut alpha = vec![f32::NEG_INFINITY; states];
    let mut prev = alpha.clone();
    for (t, row) in log_probs.chunks_exact(classes).enumerate() {
        if t == 0 {
            for (s, a) in alpha.iter_mut().enumerate().take(2) {
                *a = row[lattice.class(s)];
            }
            continue;
        }
        prev.copy_from_slice(&alpha);
        for (s, a) in alpha.iter_mut().enumerate() {
            let sum = lattice
                .predecessors(s)
                .fold(f32::NEG_INFINITY, |sum, p| log_add(sum, prev[p]));
            *a = sum + row[lattice.class(s)];
        }
    }
    lattice
        .last_states()
        .fold(f32::NEG_INFINITY, |sum, s| log_add(sum, alpha[s]))
}

/// The most probable alignment of `labels` to the steps of `log_probs` (row-major
/// `[T, classes]`, from [`log_softmax`]): each label as a [`Decoded`] whose step
/// is where, among the steps aligned to it, its probability peaks, and whose
/// confidence is that probability. `None` when the steps are too few to hold the
/// labels (a repeated label needs a blank between its two runs) or a label is
/// not a class.
pub fn align(log_probs: &[f32], classes: usize, labels: &[usize]) -> Option<Vec<Decoded>> {
    if classes == 0 || labels.iter().any(|&c| c == BLANK || c >= classes) {
        return None;
    }
    let steps = log_probs.len() / classes;
    if steps == 0 {
        return labels.is_empty().then(Vec::new);
    }
    let lattice = Lattice { labels };
    let states = lattice.states();
    let lp = |t: usize, s: usize| log_probs[t * classes + lattice.class(s)];
    let mut score = vec![f32::NEG_INFINITY; states];
    let mut prev = score.clone();
    let mut from = vec![0usize; steps * states];
    for (s, v) in score.iter_mut().enumerate().take(2) {
        *v = lp(0, s);
    }
    for t in 1..steps {
        prev.copy_from_slice(&score);
        for (s, v) in score.iter_mut().enumerate() {
            // The best predecessor, the earliest listed on a tie.
            let (best, p) = lattice
                .predecessors(s)
                .map(|p| (prev[p], p))
                .reduce(|a, b| if b.0 > a.0 { b } else { a })
                .unwrap_or((f32::NEG_INFINITY, s));
            *v = best + lp(t, s);
            from[t * states + s] = p;
        }
    }
    // The later end state unless the other is strictly likelier.
    let end = lattice
        .last_states()
        .rev()
        .reduce(|a, b| if score[b] > score[a] { b } else { a })?;
    if score[end] == f32::NEG_INFINITY {
        return None;
    }
    let mut out: Vec<Decoded> = labels
        .iter()
        .map(|&class| Decoded {
            class,
            confidence: 0.0,
            step: 0,
        })
        .collect();
    let mut s = end;
    for t in (0..steps).rev() {
        if s % 2 == 1 {
            let p = lp(t, s).exp();
            let d = &mut out[s / 2];
            // Backwards, so `>=` keeps the first step on a tie.
            if p >= d.confidence {
                d.confidence = p;
                d.step = t;
            }
        }
        s = from[t * states + s];
    }
    Some(out)
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
    /// Log-probabilities `[T, C]` from per-step probabilities of the classes
    /// listed (the rest of each row shared by the classes not listed).
    fn log_probs(steps: &[&[(usize, f32)]]) -> Vec<f32> {
        let mut out = Vec::new();
        for alts in steps {
            let listed: f32 = alts.iter().map(|a| a.1).sum();
            let rest = (1.0 - listed).max(1e-6) / (C - alts.len()) as f32;
            for c in 0..C {
                let p = alts.iter().find(|a| a.0 == c).map_or(rest, |a| a.1);
                out.push(p.ln());
            }
        }
        out
    }

    const SEARCH: BeamSearch = BeamSearch {
        width: 8,
        min_class_log_prob: -7.0,
    };

    #[test]
    fn beam_search_sums_the_alignments_of_a_labelling() {
        // Each step: blank 0.5, `a` 0.4. The best path is two blanks (0.25),
        // which reads nothing; but `a` is read by three paths (a _, _ a, a a:
        // 0.2 + 0.2 + 0.16), so it is the most probable labelling.
        let step: &[(usize, f32)] = &[(0, 0.5), (1, 0.4), (2, 0.05), (3, 0.05)];
        let lp = log_probs(&[step, step]);
        assert!(greedy_decode(&lp, C).is_empty());
        let all = prefix_beam_search(&lp, C, SEARCH, |_| true, |_| true);
        assert_eq!(all[0].classes, [1]);
        assert!((all[0].log_prob.exp() - 0.56).abs() < 1e-4, "{:?}", all[0]);
        assert!(all[1].classes.is_empty() && (all[1].log_prob.exp() - 0.25).abs() < 1e-4);
        // The forward algorithm sums the same paths.
        assert!((labelling_log_prob(&lp, C, &[1]).exp() - 0.56).abs() < 1e-4);
        assert!((labelling_log_prob(&lp, C, &[]).exp() - 0.25).abs() < 1e-4);
        assert_eq!(labelling_log_prob(&lp, C, &[1, 1, 1]), f32::NEG_INFINITY);
        assert_eq!(labelling_log_prob(&lp, C, &[0]), f32::NEG_INFINITY);
        assert_eq!(labelling_log_prob(&[], C, &[]), 0.0);
        // Every labelling's probability is the sum of its own paths: no path is
        // counted twice.
        let total: f32 = all.iter().map(|l| l.log_prob.exp()).sum();
        assert!(total <= 1.0 + 1e-4, "{total}");
    }

    #[test]
    fn beam_search_keeps_to_the_rule_it_is_given() {
        // The network reads `c`, but the rule allows only labellings that start
        // with `a` and have two characters.
        let lp = log_probs(&[&[(3, 0.7), (1, 0.2)], &[(0, 0.9)], &[(2, 0.9)]]);
        let greedy = greedy_decode(&lp, C);
        assert_eq!(classes(&greedy), [3, 2]);
        let ruled = prefix_beam_search(
            &lp,
            C,
            SEARCH,
            |p| p[0] == 1 && p.len() <= 2,
            |p| p.len() == 2,
        );
        assert_eq!(ruled[0].classes, [1, 2]);
        let free = prefix_beam_search(&lp, C, SEARCH, |_| true, |_| true);
        assert_eq!(free[0].classes, [3, 2]);
        // The rule's price: 0.2 against 0.7 at the first step.
        let ratio = (ruled[0].log_prob - free[0].log_prob).exp();
        assert!((ratio - 0.2 / 0.7).abs() < 0.02, "{ratio}");
        // A rule nothing satisfies finds nothing; degenerate input neither panics.
        assert!(prefix_beam_search(&lp, C, SEARCH, |_| false, |p| !p.is_empty()).is_empty());
        assert!(prefix_beam_search(&[], C, SEARCH, |_| true, |p| !p.is_empty()).is_empty());
        assert!(prefix_beam_search(&lp, 0, SEARCH, |_| true, |_| true).is_empty());
    }

    #[test]
    fn a_repeated_character_needs_a_blank_between_its_runs() {
        // a a a: one `a` (the run collapses) unless a blank splits it.
        let step: &[(usize, f32)] = &[(1, 0.9), (0, 0.08)];
        let lp = log_probs(&[step, step, step]);
        let two_a = prefix_beam_search(&lp, C, SEARCH, |p| p.len() <= 2, |p| p.len() == 2);
        // "aa" needs a _ a: the blank at 0.08 in the middle step.
        assert_eq!(two_a[0].classes, [1, 1]);
        assert!(two_a[0].log_prob < (0.9f32 * 0.1).ln());
        let aligned = align(&lp, C, &[1, 1]).unwrap();
        assert_eq!((aligned[0].step, aligned[1].step), (0, 2));
        // Three steps cannot hold a _ a _ a.
        assert!(align(&lp, C, &[1, 1, 1]).is_none());
    }

    #[test]
    fn align_puts_each_label_where_the_network_saw_it() {
        let lp = log_probs(&[
            &[(0, 0.9)],
            &[(1, 0.6), (2, 0.3)],
            &[(1, 0.8)],
            &[(0, 0.9)],
            &[(3, 0.4), (2, 0.5)],
            &[(0, 0.9)],
        ]);
        // The greedy reading is a b; aligned as a c, `c` lands on step 4 at 0.4.
        let d = align(&lp, C, &[1, 3]).unwrap();
        assert_eq!(classes(&d), [1, 3]);
        assert_eq!((d[0].step, d[1].step), (2, 4));
        assert!((d[0].confidence - 0.8).abs() < 1e-5 && (d[1].confidence - 0.4).abs() < 1e-5);
        // Nothing to align, or a label that is the blank or no class.
        assert_eq!(align(&lp, C, &[]), Some(vec![]));
        assert!(align(&lp, C, &[0]).is_none() && align(&lp, C, &[C]).is_none());
        assert!(align(&[], C, &[1]).is_none());
    }

    #[test]
    fn log_softmax_rows_are_log_probabilities() {
        let lp = log_softmax(
            &[1.0, 2.0, 3.0, 4.0, f32::NAN, f32::NAN, f32::NAN, f32::NAN],
            C,
        );
        let sum: f32 = lp[..C].iter().map(|l| l.exp()).sum();
        assert!((sum - 1.0).abs() < 1e-6);
        assert!(lp[C..].iter().all(|&l| l == f32::NEG_INFINITY));
        assert!(log_softmax(&[1.0], 0).is_empty());
    }
}
