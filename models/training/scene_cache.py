"""Writes synthetic scenes (or cargo crops) to pickle shards under data/, so that
training on 2 cores does not redraw every scene every epoch.

  python scene_cache.py --kind scenes --out data/scenes --shards 20 --per 400 --seed 1000
  python scene_cache.py --kind crops  --out data/crops  --shards 10 --per 1000 --seed 5000

Shard i uses seed `seed + i`, so any shard can be regenerated alone; shards that
already exist are skipped (resumable). Images are stored as JPEG q=95 bytes.
"""
from __future__ import annotations

import argparse
import os
import pickle
import random
import time

import cv2
import numpy as np

import scene_synth


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", choices=["scenes", "crops"], default="scenes")
    ap.add_argument("--out", default="data/scenes")
    ap.add_argument("--shards", type=int, default=20)
    ap.add_argument("--per", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--mode", choices=["mixed", "gantry", "closeup"], default="mixed", help="scene kind (scene_synth.scene)")
    ap.add_argument("--real-plates", default="", help="real/plates/train: pasted as some blue plates")
    a = ap.parse_args()
    if a.real_plates:
        print(f"{scene_synth.use_real_plates(a.real_plates)} real plate crops", flush=True)
    os.makedirs(a.out, exist_ok=True)
    for i in range(a.shards):
        path = os.path.join(a.out, f"shard_{a.seed + i:05d}.pkl")
        if os.path.exists(path):
            continue
        rng = random.Random(a.seed + i)
        t = time.time()
        items = []
        for _ in range(a.per):
            if a.kind == "scenes":
                img, lab = scene_synth.scene(rng, mode=a.mode)
            else:
                img, cov, mat = scene_synth.load_crop(rng)
                lab = {"cover": cov, "material": mat}
            ok, enc = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
            items.append((enc.tobytes(), lab))
        with open(path + ".tmp", "wb") as f:
            pickle.dump(items, f)
        os.replace(path + ".tmp", path)
        print(f"{path}: {a.per} in {time.time() - t:.0f}s", flush=True)


if __name__ == "__main__":
    main()
