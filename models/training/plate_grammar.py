"""GA 36 as a last word on a reading, as models::plate_grammar (Rust).

`is_plate` ports hub::api::PlateText's validation (hub/src/api/plate.rs, the one
definition the checkpoint and hub enforce; keep the two in step). `read_as_plate`
reads a reading that is not a plausible plate as the most probable plausible plate
under the CTC output (a prefix beam search, `ctc_search`), when that plate is at
least MIN_RELATIVE_PROBABILITY as probable as the greedy reading, at most MAX_EDITS
characters from it, and keeps a province a province.
"""
from __future__ import annotations

import numpy as np

import ctc_search
from render import ALPHABET, PROVINCES

MIN_RELATIVE_PROBABILITY = 0.01  # models::plate_grammar::MIN_RELATIVE_PROBABILITY
MAX_EDITS = 2  # models::plate_grammar::MAX_EDITS
MAX_SERIAL_LETTERS = 2  # models::plate_grammar::MAX_SERIAL_LETTERS


def _serial(c: str) -> bool:
    return (c.isascii() and c.isupper() and c not in "IO") or (c.isascii() and c.isdigit())


def _authority(c: str) -> bool:
    return c.isascii() and c.isupper() and c != "I"


def is_plate(text: str) -> bool:
    """Whether `text` (no spaces or dots) is a GA 36 plate number."""
    c = list(text)
    if not c or len(c) > 8:
        return False
    if c[0] in "使领":
        return len(c) == 7 and all(map(_serial, c[1:]))
    if len(c) == 7 and c[6] == "使":
        return all(x.isascii() and x.isdigit() for x in c[:6])
    if c[0] not in PROVINCES or len(c) < 2 or not _authority(c[1]):
        return False
    if len(c) == 7:
        if not all(map(_serial, c[2:6])):
            return False
        if c[6] in "挂学警领":
            return True
        if c[6] in "港澳":
            return c[0] == "粤" and c[1] == "Z"
        return _serial(c[6])
    if len(c) == 8:
        s = c[2:]
        if not all(map(_serial, s)):
            return False
        return s[0] in "DF" or (all(x.isascii() and x.isdigit() for x in s[:5]) and s[5] in "DF")
    return False


LETTERS = set("ABCDEFGHJKLMNPQRSTUVWXYZ")
_P, _A = set(PROVINCES), set("ABCDEFGHJKLMNOPQRSTUVWXYZ")
_S, _D = LETTERS | set("0123456789"), set("0123456789")
# models::plate_grammar::KINDS: the kinds a reading may be, place by place, and
# whether it is an ordinary plate (at most MAX_SERIAL_LETTERS serial letters).
KINDS = [
    ([_P, _A, _S, _S, _S, _S, _S], True),
    ([_P, _A, _S, _S, _S, _S, set("挂学警领")], False),
    ([{"粤"}, {"Z"}, _S, _S, _S, _S, set("港澳")], False),
    ([_P, _A, set("DF"), _S, _D, _D, _D, _D], False),
    ([_P, _A, _D, _D, _D, _D, _D, set("DF")], False),
    ([set("使领"), _S, _S, _S, _S, _S, _S], False),
    ([_D, _D, _D, _D, _D, _D, {"使"}], False),
]


def fits(chars, whole: bool) -> bool:
    """Whether `chars` begin a plate of some kind (all of one when `whole`)."""
    for places, ordinary in KINDS:
        if (len(chars) == len(places) if whole else len(chars) <= len(places)) \
                and all(c in p for c, p in zip(chars, places)) \
                and (not ordinary or sum(c in LETTERS for c in chars[2:]) <= MAX_SERIAL_LETTERS):
            return True
    return False


def plausible(text: str) -> bool:
    """A GA 36 plate that also looks like an issued one: an ordinary plate's serial
    holds at most MAX_SERIAL_LETTERS letters (none of the 774 real ordinary plates of
    real/plates has more), and a small new-energy serial is D or F, a letter or
    digit, then four digits (GA 36-2018)."""
    return is_plate(text) and fits(text, True)


def read_as_plate(text: str, seq: np.ndarray, first_confidence=None):
    """`text` read greedily from the CTC logits `seq` [T, C] (blank 0): when it is not
    a plausible plate, the plate read instead and its characters' confidences (each
    at its aligned peak; the first keeps `first_confidence` when it was a province
    and still is), else (text, None). See the module docstring."""
    if not text or plausible(text):
        return text, None
    lp = ctc_search.log_softmax(seq)
    from_province = text[0] in PROVINCES
    spelt = lambda labels: "".join(ALPHABET[c - 1] for c in labels)

    def viable(prefix):
        s = spelt(prefix)
        return (not from_province or s[0] in PROVINCES) and fits(s, False)

    plate = ctc_search.prefix_beam_search(lp, viable, lambda labels: plausible(spelt(labels)))
    if not plate:
        return text, None
    labels, lpp = plate[0]
    cand = spelt(labels)
    greedy = [c for c, _, _ in ctc_search.char_peaks(seq)]  # the network's own reading
    likely = lpp - ctc_search.labelling_log_prob(lp, greedy) >= np.log(MIN_RELATIVE_PROBABILITY)  # False on NaN
    if not likely or ctc_search.levenshtein(cand, text) > MAX_EDITS:
        return text, None
    confs = [p for _, p in ctc_search.align(lp, labels)]
    if cand[0] in PROVINCES and text[0] in PROVINCES and plausible(text[0] + cand[1:]):
        cand = text[0] + cand[1:]
        if first_confidence is not None:
            confs[0] = first_confidence
    return cand, confs
