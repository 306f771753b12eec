"""CTC prefix beam search and forced alignment, as models::ctc (Rust): the search
behind plate_grammar.read_as_plate."""
from __future__ import annotations

import numpy as np

WIDTH = 16  # models::plate_grammar::SEARCH.width
MIN_CLASS_LOG_PROB = -6.9  # models::plate_grammar::SEARCH.min_class_log_prob


def log_softmax(seq: np.ndarray) -> np.ndarray:
    z = seq - seq.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _add(a: float, b: float) -> float:
    return float(np.logaddexp(a, b))


def prefix_beam_search(lp: np.ndarray, viable=lambda p: True, complete=lambda p: True):
    """lp: log-probabilities [T, C], blank 0. Returns [(classes, log p)] best first,
    over labellings `complete` accepts, extending only prefixes `viable` accepts."""
    ninf = -np.inf
    beams = {(): (0.0, ninf)}  # prefix -> (log p ending in blank, in its last character)
    for row in lp:
        tried = [c for c in np.flatnonzero(row >= MIN_CLASS_LOG_PROB) if c != 0]
        nxt = {}

        def add(k, b, n):
            ob, on = nxt.get(k, (ninf, ninf))
            nxt[k] = (_add(ob, b), _add(on, n))

        for pre, (pb, pn) in beams.items():
            total = _add(pb, pn)
            add(pre, total + row[0], ninf)
            if pre:
                add(pre, ninf, pn + row[pre[-1]])
            for c in tried:
                q = pre + (int(c),)
                if not viable(q):
                    continue
                add(q, ninf, (pb if pre and pre[-1] == c else total) + row[c])
        ranked = sorted(nxt.items(), key=lambda kv: (-_add(*kv[1]), kv[0]))[:WIDTH]
        beams = dict(ranked)
    out = [(list(k), _add(*v)) for k, v in beams.items() if complete(list(k))]
    return sorted(out, key=lambda x: (-x[1], x[0]))


def char_peaks(seq: np.ndarray) -> list[tuple[int, int, float]]:
    """Each character greedy decoding reads from one item's CTC logits [T, C]:
    (class, the step of its run where its softmax peaks (the first on a tie), that
    peak probability), as models::ctc::Decoded."""
    am = seq.argmax(-1)
    out, t = [], 0
    while t < len(am):
        t1 = t
        while t1 + 1 < len(am) and am[t1 + 1] == am[t]:
            t1 += 1
        c = int(am[t])
        if c != 0:
            p = np.exp(log_softmax(seq[t: t1 + 1]))[:, c]
            out.append((c, t + int(p.argmax()), float(p.max())))
        t = t1 + 1
    return out


def labelling_log_prob(lp: np.ndarray, labels) -> float:
    """log p(labels) summed over all alignments: the CTC forward algorithm
    (models::ctc::labelling_log_prob)."""
    S = 2 * len(labels) + 1
    cls = [0 if s % 2 == 0 else labels[s // 2] for s in range(S)]
    alpha = np.full(S, -np.inf)
    alpha[0] = lp[0, 0]
    if S > 1:
        alpha[1] = lp[0, cls[1]]
    for t in range(1, lp.shape[0]):
        prev = alpha.copy()
        for s in range(S):
            v = prev[s]
            if s >= 1:
                v = np.logaddexp(v, prev[s - 1])
            if s >= 2 and s % 2 == 1 and cls[s] != cls[s - 2]:
                v = np.logaddexp(v, prev[s - 2])
            alpha[s] = v + lp[t, cls[s]]
    return float(np.logaddexp(alpha[S - 1], alpha[S - 2]) if S > 1 else alpha[0])


def align(lp: np.ndarray, labels):
    """The most probable alignment of `labels` to the steps of `lp` [T, C]: per label
    (peak step, probability there) over its aligned steps (models::ctc::align)."""
    T, S = lp.shape[0], 2 * len(labels) + 1
    cls = [0 if s % 2 == 0 else labels[s // 2] for s in range(S)]
    score = np.full(S, -np.inf)
    back = np.zeros((T, S), int)
    score[0] = lp[0, 0]
    if S > 1:
        score[1] = lp[0, cls[1]]
    for t in range(1, T):
        prev = score.copy()
        for s in range(S):
            best, arg = prev[s], s
            if s >= 1 and prev[s - 1] > best:
                best, arg = prev[s - 1], s - 1
            if s >= 2 and s % 2 == 1 and cls[s] != cls[s - 2] and prev[s - 2] > best:
                best, arg = prev[s - 2], s - 2
            score[s] = best + lp[t, cls[s]]
            back[t, s] = arg
    s = S - 2 if S > 1 and score[S - 2] > score[S - 1] else S - 1
    out = [(0, 0.0) for _ in labels]
    for t in range(T - 1, -1, -1):
        if s % 2 == 1:
            p = float(np.exp(lp[t, cls[s]]))
            if p >= out[s // 2][1]:
                out[s // 2] = (t, p)
        s = back[t, s]
    return out


def levenshtein(a: str, b: str) -> int:
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        p, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            p, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, p + (x != y))
    return d[-1]
