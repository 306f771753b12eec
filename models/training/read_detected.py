"""The reading of a detected plate: the Python reference of models::read_detected
(read_detected_plate).

The detector's quad is read at the reader's crop margin, then with its ends
refined (plate_ends.refine) when they move, then, unless the better reading is a
GA 36 plate number whose weakest character reaches RECROP["below"], that
reading's quad again at each of RECROP["margins"]: the reading of a small plate
moves with its framing. A later reading replaces the kept one when it confirms a plate and ranks above it
(a plate number first, then the weakest character); a further margin's reading
must also be a plate number.
"""
from __future__ import annotations

import numpy as np

import plate_ends
import plate_grammar


def rank(read) -> tuple:
    """A reading (text, colour, layout, char_confidences) as models::read_detected
    ranks it: a GA 36 plate number first, then its weakest character."""
    return (plate_grammar.is_plate(read[0]), min(read[3]) if read[3] else 0.0)


def read_detected(read_plate, confirms_plate, img: np.ndarray, d: dict, margin, recrop=None):
    """read_plate(img, d, margin) -> reading or None. Returns (reading, corners,
    refined, margin) of the reading kept."""
    kept = (read_plate(img, d, margin), d["corners"], False, margin)

    def consider(kept, quad, refined, m, plate_number):
        r = read_plate(img, dict(d, corners=quad), m)
        if r is None:
            return kept
        if kept[0] is None or (confirms_plate(r) and (rank(r)[0] or not plate_number) and rank(r) > rank(kept[0])):
            return (r, quad, refined, m)
        return kept

    corners = plate_ends.refine(img, d["corners"])
    if corners is not None:
        kept = consider(kept, corners, True, margin, False)
    if recrop is None:
        return kept
    quad, refined = kept[1], kept[2]
    for m in recrop["margins"]:
        if kept[0] is not None and rank(kept[0]) >= (True, recrop["below"]):
            break
        kept = consider(kept, quad, refined, tuple(m), True)
    return kept
