"""Write the [plate_detector] and [cargo_classifier] tables of models/onnx/manifest.toml.

Read-modify-write: every other table (the colleague's [plate_reader] ...) is kept
byte-identical; only our two tables (and their sub-tables) are replaced, appended at
the end. A copy of our tables is kept in detector_manifest.toml (tracked), so that
`python detector_manifest.py --restore` puts them back if another exporter rewrote
the whole manifest.

  python detector_manifest.py --det-eval runs/det/eval.json --det-export runs/det/export.json \
      --cargo-export runs/cargo/export.json --cargo-train runs/cargo/train_metrics.json
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import tomllib

import detector_eval

HERE = os.path.dirname(os.path.abspath(__file__))
ONNX_DIR = os.path.join(HERE, "..", "onnx")
MANIFEST = os.path.join(ONNX_DIR, "manifest.toml")
COPY = os.path.join(HERE, "detector_manifest.toml")
OURS = ("plate_detector", "cargo_classifier")
MARKER = "# [plate_detector] and [cargo_classifier]: written by models/training/detector_manifest.py (keeps the other tables as they are).\n"
NOTE = "# Their metrics are the Python reference's (detector_eval.py: onnxruntime, OpenCV crops); `make eval` measures the Rust pipeline.\n"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _val(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_val(x) for x in v) + "]"
    raise TypeError(v)


def to_toml(doc, prefix=""):
    lines, subs = [], []
    for k, v in doc.items():
        (subs if isinstance(v, dict) else lines).append((k, v))
    out = f"\n[{prefix}]\n" if prefix else ""
    out += "".join(f"{k} = {_val(v)}\n" for k, v in lines)
    for k, v in subs:
        out += to_toml(v, f"{prefix}.{k}" if prefix else k)
    return out


def drop_tables(text: str, names, markers=()) -> str:
    """`text` without the tables `names` (header line to the next header of another
    table, or to another writer's comment naming its table, "# [plate_layout]: ...")
    and without the comment lines `markers`."""
    out, skip = [], False
    for line in text.splitlines(keepends=True):
        m = re.match(r"^\s*\[\s*([A-Za-z0-9_]+)", line) or re.match(r"^#\s*\[([A-Za-z0-9_]+)\]", line)
        if m and not line.lstrip().startswith("[["):
            skip = m.group(1) in names
        if not skip and line not in markers:
            out.append(line)
    return "".join(out)


def merge_tables(text: str, ours: str, names, markers=()) -> str:
    """Drop the tables `names` from `text` (drop_tables) and append `ours`."""
    base = drop_tables(text, names, markers).rstrip("\n") + "\n"
    return base + ("\n" + ours if base.strip() and not ours.startswith("\n") else ours)


def write_table(manifest: str, name: str, table: dict, header: str):
    """Replace the table `name` (and its `header` comment line) of `manifest` with
    `table`, keeping every other table as it is; written atomically."""
    old = open(manifest, encoding="utf-8").read() if os.path.exists(manifest) else ""
    new = merge_tables(old, header + to_toml({name: table}).lstrip("\n"), (name,), (header,))
    with open(manifest + ".tmp", "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(manifest + ".tmp", manifest)


def merge(text: str, ours: str) -> str:
    """Our two tables replaced in `text`."""
    return merge_tables(text, ours, OURS, (MARKER, NOTE))


def write(ours_text: str):
    old = open(MANIFEST, encoding="utf-8").read() if os.path.exists(MANIFEST) else ""
    new = merge(old, ours_text)
    doc = tomllib.loads(new)
    for k in OURS:
        if k in tomllib.loads(ours_text):
            assert k in doc
    # the foreign tables are unchanged
    od = tomllib.loads(old) if old else {}
    for k in od:
        if k not in OURS:
            assert od[k] == doc[k], k
    with open(MANIFEST + ".tmp", "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(MANIFEST + ".tmp", MANIFEST)
    print(f"wrote {MANIFEST}")


def r3(x):
    return None if x is None else round(float(x), 3)


def det_table(ev, ex, thr, rthr, nms_iou, rnms, seed, trained_on):
    path = os.path.join(ONNX_DIR, "plate_detector.onnx")
    t = {
        "file": "plate_detector.onnx",
        "sha256": sha256(path),
        "input": [384, 640],
        "input_name": "image",
        "input_shape": [1, 3, 384, 640],
        "input_channels": "RGB",
        "input_range": [0.0, 1.0],
        "input_resize": "letterbox: s = min(640 / frame_w, 384 / frame_h); resize the frame to (round(frame_w * s), round(frame_h * s)) with a bilinear (triangle) filter; paste at the top-left (x = 0, y = 0) of a 640x384 canvas filled with the pad value; normalisation inside the network",
        "letterbox_pad": 114,
        "letterbox_pad_f32": 114.0 / 255.0,
        "letterbox_anchor": "top-left",
        "unletterbox": "frame_xy = input_xy / s, then clamp to the frame",
        "outputs": ["plate", "region"],
        "plate_shape": [1, 14, 48, 80],
        "plate_stride": 8,
        "plate_channels": ["obj", "double", "dx", "dy", "log_w", "log_h", "tl_x", "tl_y", "tr_x", "tr_y", "br_x", "br_y", "bl_x", "bl_y"],
        "region_shape": [1, 10, 24, 40],
        "region_stride": 16,
        "region_classes": ["vehicle", "load"],
        "region_channels": ["vehicle_obj", "load_obj", "vehicle_dx", "vehicle_dy", "vehicle_log_w", "vehicle_log_h", "load_dx", "load_dy", "load_log_w", "load_log_h"],
        "decode": "cell (row j, col i), stride S: score = sigmoid(obj); keep cells whose obj logit is >= each of its 8 neighbours and score >= threshold; cx = (i + 0.5 + dx) * S, cy = (j + 0.5 + dy) * S, w = exp(log_w) * S, h = exp(log_h) * S; corner k = ((i + 0.5 + c_kx) * S, (j + 0.5 + c_ky) * S); double row when sigmoid(double) >= 0.5; then greedy NMS per class",
        "corner_order": ["TL", "TR", "BR", "BL"],
        "reader_crop": "perspective-rectify the corner quad to max edge width x max edge height, plus margins (fraction of that width, of that height) on each side, border replicated; then the plate reader contract",
        "reader_crop_margin": list(detector_eval.READER_CROP_MARGIN),
        "plate_layouts": ["single", "double"],
        "score_threshold": thr,
        "nms_iou": nms_iou,
        "region_score_threshold": rthr,
        "region_nms_iou": rnms,
        "architecture": f"CenterNet-style anchor-free, depthwise-separable backbone + top-down FPN, plate head at stride 8, vehicle/load head at stride 16; {ex['params']} params, {ex['macs'] / 1e6:.0f} M MACs per frame",
        "trained_on": trained_on,
        "seed": seed,
    }
    m = {}
    fd = ev.get("frames_dev")
    if fd:
        m.update({"real_frames_dev_n_frames": fd["n_frames"], "real_frames_dev_n_plates": fd["n_plates"],
                  "real_frames_dev_recall": r3(fd["recall"]), "real_frames_dev_precision": r3(fd["precision"]),
                  "real_frames_dev_end_to_end_exact": r3(fd["end_to_end_exact"]), "real_frames_dev_n_readable": fd["n_readable"],
                  "real_frames_dev_corner_err_rel_width": r3(fd.get("corner_err_rel_width"))})
        if "confirmed_precision" in fd:  # boxes the reader confirms (detector_eval.confirms_plate)
            m.update({"real_frames_dev_confirmed_recall": r3(fd["confirmed_recall"]),
                      "real_frames_dev_confirmed_precision": r3(fd["confirmed_precision"])})
    cp = ev.get("checkpoint")
    if cp:
        m.update({"real_checkpoint_n": cp["n"], "real_checkpoint_frames_with_plate_box": cp["plate_found"],
                  "real_checkpoint_plates_read": cp["plates_read"], "real_checkpoint_plates_readable": cp["plates_readable"],
                  "real_checkpoint_cover_correct": cp["cover_correct"]})
    sy = ev.get("synthetic")
    if sy:
        m.update({"synthetic_holdout_scenes": sy["n_scenes"], "synthetic_plate_recall": r3(sy["recall"]), "synthetic_plate_precision": r3(sy["precision"]),
                  "synthetic_double_row_acc": r3(sy["double_acc"]), "synthetic_corner_err_rel_width": r3(sy["corner_err_rel_width"]),
                  "synthetic_load_recall": r3(sy["load_recall"]), "synthetic_load_precision": r3(sy["load_precision"])})
    if "ms_detector_ort_1thread" in ev:
        m["onnxruntime_ms_1thread"] = r3(ev["ms_detector_ort_1thread"])
    t["tiling"] = dict(detector_eval.TILING)
    t["recrop"] = dict(detector_eval.RECROP)
    t["metrics"] = {k: v for k, v in m.items() if v is not None}
    return t


def cargo_table(ev, ex, tm, seed, trained_on):
    path = os.path.join(ONNX_DIR, "cargo_classifier.onnx")
    t = {
        "file": "cargo_classifier.onnx",
        "sha256": sha256(path),
        "input": [96, 96],
        "input_name": "image",
        "input_shape": [1, 3, 96, 96],
        "input_channels": "RGB",
        "input_range": [0.0, 1.0],
        "input_resize": "crop the load box (plate_detector region class 'load', frame pixels, rounded, no margin) from the full-resolution frame; resize to 96x96 with a bilinear (triangle) filter, no letterbox; normalisation inside the network",
        "outputs": ["cover", "material"],
        "cover_shape": [1, 5],
        "material_shape": [1, 4],
        "covers": ["empty", "open", "partial", "tarped", "enclosed"],
        "materials": ["coal", "briquette", "other_bulk", "none"],
        "output_kind": "raw logits (softmax for confidences)",
        "architecture": f"plain 3x3 conv stack, global average + max pooling, two linear heads; {ex['params']} params, {ex['macs'] / 1e6:.1f} M MACs per crop",
        "trained_on": trained_on,
        "seed": seed,
    }
    m = {}
    if tm:
        m.update({"synthetic_holdout_n": tm["synthetic_holdout_n"], "synthetic_cover_acc_pct": tm["synthetic_cover_acc_pct"],
                  "synthetic_material_acc_pct": tm["synthetic_material_acc_pct"]})
    cp = (ev or {}).get("checkpoint")
    if cp:
        m["real_checkpoint_cover_correct"] = cp["cover_correct"]
        m["real_checkpoint_cover_correct_on_hand_drawn_load_boxes"] = cp.get("cover_correct_hand_box")
        m["real_checkpoint_n"] = cp["n"]
    if ev and "ms_cargo_ort_1thread" in ev:
        m["onnxruntime_ms_1thread"] = r3(ev["ms_cargo_ort_1thread"])
    t["metrics"] = {k: v for k, v in m.items() if v is not None}
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--det-eval", default="runs/det/eval.json")
    ap.add_argument("--det-export", default="runs/det/export.json")
    ap.add_argument("--cargo-export", default="runs/cargo/export.json")
    ap.add_argument("--cargo-train", default="runs/cargo/train_metrics.json")
    ap.add_argument("--plate-thr", type=float, default=0.3)
    ap.add_argument("--region-thr", type=float, default=0.3)
    ap.add_argument("--nms", type=float, default=0.45)
    ap.add_argument("--region-nms", type=float, default=0.5)
    ap.add_argument("--det-trained-on", default="")
    ap.add_argument("--cargo-trained-on", default="")
    ap.add_argument("--restore", action="store_true", help="re-merge detector_manifest.toml only")
    a = ap.parse_args()
    if a.restore:
        ours = open(COPY, encoding="utf-8").read()
        for k in OURS:  # refuse a stale copy
            t = tomllib.loads(ours).get(k)
            if t:
                assert sha256(os.path.join(ONNX_DIR, t["file"])) == t["sha256"], f"{k}: sha256 of {t['file']} does not match the copy"
        write(ours)
        return
    ld = lambda p: json.load(open(p)) if p and os.path.exists(p) else {}
    ev, dx, cx, ct = ld(a.det_eval), ld(a.det_export), ld(a.cargo_export), ld(a.cargo_train)
    doc = {}
    doc["plate_detector"] = det_table(ev, dx, a.plate_thr, a.region_thr, a.nms, a.region_nms, dx.get("seed"),
                                      a.det_trained_on or f"synthetic checkpoint / street scenes (scene_synth.py, cached by scene_cache.py), {dx.get('step')} steps; never the real frames")
    doc["cargo_classifier"] = cargo_table(ev, cx, ct, cx.get("seed"),
                                          a.cargo_trained_on or f"synthetic load-region crops (scene_synth.load_crop), {ct.get('train_crops')} crops, {ct.get('steps')} steps x {ct.get('batch')}; never the real frames")
    ours = "\n" + MARKER + NOTE + to_toml(doc)
    tomllib.loads(ours)
    with open(COPY, "w", encoding="utf-8") as f:
        f.write(ours)
    write(ours)


if __name__ == "__main__":
    main()
