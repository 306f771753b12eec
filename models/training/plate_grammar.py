"""GA 36 as a last word on a reading, as models::plate_grammar (Rust).

`is_plate` ports hub::api::PlateText's validation (hub/src/api/plate.rs, the one
definition the checkpoint and hub enforce; keep the two in step). `repair_to_plate`
replaces the one character of a reading that is not a plate whose replacement makes
a plate and had the highest softmax probability at that character's peak step, at
least MIN_REPAIR_PROBABILITY.
"""
from __future__ import annotations

import numpy as np

from render import ALPHABET, PROVINCES

MIN_REPAIR_PROBABILITY = 0.1  # models::plate_grammar::MIN_REPAIR_PROBABILITY
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


def plausible(text: str) -> bool:
    """A GA 36 plate whose serial, if it is an ordinary plate's (province, authority
    letter, five of A-Z / 0-9), holds at most MAX_SERIAL_LETTERS letters: none of
    the 774 real ordinary plates of real/plates has more."""
    if not is_plate(text):
        return False
    ordinary = len(text) == 7 and text[0] in PROVINCES and all(c.isascii() and c.isalnum() for c in text[2:])
    return not ordinary or sum(c.isalpha() for c in text[2:]) <= MAX_SERIAL_LETTERS


def repair_to_plate(text: str, seq: np.ndarray, steps: list[int]):
    """`text` read from the CTC logits `seq` [T, C] (blank 0), each character
    peaking at `steps` (evaluate.char_peaks), put right by one substitution when
    it is not a plate (see the module docstring): (text, index of the replaced
    character or None, and its probability: its new confidence)."""
    if not text or plausible(text):
        return text, None, None
    if len(steps) != len(text):
        return text, None, None
    best = None
    for i, t in enumerate(steps):
        z = seq[t] - seq[t].max()
        p = np.exp(z) / np.exp(z).sum()
        for c in np.flatnonzero(p >= MIN_REPAIR_PROBABILITY):
            ch = ALPHABET[c - 1] if c > 0 else None
            if ch is None or ch == text[i] or (best and p[c] <= best[0]):
                continue
            cand = text[:i] + ch + text[i + 1:]
            if plausible(cand):
                best = (float(p[c]), cand, i)
    return (best[1], best[2], best[0]) if best else (text, None, None)
