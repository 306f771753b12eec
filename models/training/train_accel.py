"""Train the plate reader on an accelerator, for a budget of time or of rendered batches.

train.py is sized for two CPU cores, where rendering and the network share the
same cores. With a GPU the network is nearly free and rendering is the limit, so
this loop (same Stream, same losses as train.py) keeps the renderer busy on every
core and reuses what it made:

- `--workers` processes render and augment batches (train.py's Stream);
- each fresh batch is trained on together with `--replay` batches drawn from a
  buffer of recent ones on the device, each given a fresh small affine and
  exposure jitter there, so a rendered plate is seen a few times, never twice
  the same;
- the learning rate follows a one-cycle curve over the budget (wall-clock time,
  or a number of fresh batches, whichever runs out first), so the run ends on a
  low rate whenever it stops;
- `last.pt` is written every `--save-every` seconds and at the end, with the
  synthetic hold-out score of train.py (so `export.py --ckpt` takes it as is).

  python train_accel.py --init runs/s5ft/last.pt --minutes 8.2 --fresh 8103 --workers 14 --out runs/accel \\
      --real-train /work/shared/data/real/plates/train

Never give it real/plates/dev.
"""
from __future__ import annotations

import argparse
import collections
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

from evaluate import load_labels_dir, read, score, synthetic_holdout
from model import PlateReader
from train import Stream, torch_runner, train_step


class Budget:
    """Where the run is, 0..1: the larger of the share of wall-clock time and the
    share of fresh batches used. On a GPU the clock usually ends the run; giving the
    batch count of a finished run (its train_summary.json) replays the same amount
    of data on any machine, at any speed."""

    def __init__(self, seconds: float, fresh: int):
        self.seconds, self.fresh, self.t0, self.done = seconds, fresh, time.time(), 0

    def frac(self) -> float:
        f = (time.time() - self.t0) / self.seconds
        if self.fresh > 0:
            f = max(f, self.done / self.fresh)
        return min(1.0, f)


class OneCycle:
    """One-cycle learning rate over a Budget; `step()` as train_step calls it."""

    def __init__(self, opt, max_lr, budget: Budget, warmup=0.06, start_div=10.0, end_div=300.0):
        self.opt, self.max_lr, self.budget = opt, max_lr, budget
        self.warmup, self.start_div, self.end_div = warmup, start_div, end_div
        self.step()

    def lr(self):
        f = self.budget.frac()
        if f < self.warmup:
            lo = self.max_lr / self.start_div
            return lo + (self.max_lr - lo) * f / self.warmup
        c = (f - self.warmup) / (1 - self.warmup)
        lo = self.max_lr / self.end_div
        return lo + (self.max_lr - lo) * 0.5 * (1 + math.cos(math.pi * c))

    def step(self):
        lr = self.lr()
        for g in self.opt.param_groups:
            g["lr"] = lr

    def get_last_lr(self):
        return [self.opt.param_groups[0]["lr"]]


def jitter(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Small random affine (scale, shift, rotation) and exposure change per image."""
    n = x.shape[0]
    if n == 0:
        return x
    dev = x.device

    def u(lo, hi):
        return torch.rand(n, device=dev, generator=g) * (hi - lo) + lo

    s, a = u(0.94, 1.06), u(-0.03, 0.03)
    theta = torch.zeros(n, 2, 3, device=dev)
    theta[:, 0, 0] = s * torch.cos(a)
    theta[:, 0, 1] = -s * torch.sin(a) * 0.25  # 32x128: keep the rotation in pixels
    theta[:, 1, 0] = s * torch.sin(a) * 4.0
    theta[:, 1, 1] = s * torch.cos(a)
    theta[:, 0, 2] = u(-0.04, 0.04)
    theta[:, 1, 2] = u(-0.08, 0.08)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    y = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    gain = u(0.8, 1.2).view(n, 1, 1, 1)
    bias = u(-0.06, 0.06).view(n, 1, 1, 1)
    return (y * gain + bias).clamp_(0.0, 1.0)


class ByteStream(Stream):
    """train.py's Stream with images as uint8: a quarter of the bytes through the
    workers' shared memory (often small in containers) and the host-device copy."""

    def __iter__(self):
        for xt, xp, *rest in super().__iter__():
            yield (xt.mul(255).round_().to(torch.uint8), xp.mul(255).round_().to(torch.uint8), *rest)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="runs/accel")
    ap.add_argument("--init", default="", help="start from these weights")
    ap.add_argument("--minutes", type=float, default=7.5, help="training wall-clock budget")
    ap.add_argument("--fresh", type=int, default=0, help="also stop after this many fresh batches (0: no limit)")
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    ap.add_argument("--replay", type=int, default=2, help="buffered batches trained with each fresh one")
    ap.add_argument("--buffer", type=int, default=600, help="recent batches kept on the device")
    ap.add_argument("--real-train", default="", help="real/plates/train folder to mix in (never dev)")
    ap.add_argument("--real-frac", type=float, default=0.12)
    ap.add_argument("--holdout", type=int, default=2000)
    ap.add_argument("--save-every", type=float, default=60.0, help="seconds between checkpoints")
    a = ap.parse_args()
    assert "/dev" not in a.real_train.rstrip("/")[-4:], "never train on real/plates/dev"

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    torch.backends.cudnn.benchmark = True
    os.makedirs(a.out, exist_ok=True)
    model = PlateReader()
    if a.init:
        missing = model.load_state_dict(torch.load(a.init, map_location="cpu")["model"], strict=False)
        print("init from", a.init, missing, flush=True)
    model.to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    real = load_labels_dir(a.real_train) if a.real_train else []
    print(f"device {dev} ({torch.cuda.get_device_name(0) if dev.type == 'cuda' else 'cpu'}); "
          f"{a.workers} render workers; real train crops {len(real)}; budget {a.minutes * 60:.0f}s"
          + (f" or {a.fresh} fresh batches" if a.fresh else ""), flush=True)

    ds = ByteStream(a.seed, 0, real, a.real_frac, a.batch, steps=10 ** 9)
    dl = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=a.workers, prefetch_factor=3,
                                     pin_memory=dev.type == "cuda",
                                     worker_init_fn=lambda _: torch.set_num_threads(1))
    gen = torch.Generator(device=dev)
    gen.manual_seed(a.seed)
    pick = random.Random(a.seed)
    buf = collections.deque(maxlen=a.buffer)

    def save(tag, extra=None):
        st = {"model": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "epoch": 0,
              "seed": a.seed, "args": vars(a), "steps": steps, "fresh": fresh}
        st.update(extra or {})
        tmp = os.path.join(a.out, tag + ".tmp")
        torch.save(st, tmp)
        os.replace(tmp, os.path.join(a.out, tag + ".pt"))

    budget = Budget(a.minutes * 60.0, a.fresh)
    sched = OneCycle(opt, a.lr, budget)
    t0 = last_save = last_print = time.time()
    steps = fresh = 0
    lc = lh = 0.0
    n_avg = 0
    model.train()
    for b in dl:
        xt, xp, *rest = (t.to(dev, non_blocking=True) for t in b)
        b = (xt.float().div_(255.0), xp.float().div_(255.0), *rest)
        buf.append(b)
        fresh += 1
        budget.done = fresh
        for r in range(1 + a.replay):
            xt, xp, *rest = b if r == 0 else buf[pick.randrange(len(buf))]
            c, h = train_step(model, (jitter(xt, gen), jitter(xp, gen), *rest), opt, sched)
            steps += 1
            lc, lh, n_avg = lc + c, lh + h, n_avg + 1
        now = time.time()
        if now - last_print > 20:
            print(f"{now - t0:5.0f}s fresh {fresh} steps {steps} ({steps / (now - t0):.1f}/s) ctc {lc / n_avg:.3f} "
                  f"heads {lh / n_avg:.3f} lr {sched.get_last_lr()[0]:.2e}", flush=True)
            lc = lh = 0.0
            n_avg = 0
            last_print = now
        if now - last_save > a.save_every:
            save("last")
            last_save = now
        if budget.frac() >= 1.0:
            break
    del dl
    model.eval()
    hold = synthetic_holdout(a.holdout)
    sc = score(hold, read(torch_runner(model, dev), [it["img"] for it in hold]))
    per = " ".join(f"{k.split(':')[1]}={100 * v['acc']:.1f}" for k, v in sc.items() if k.startswith(("color:", "layout:")))
    print(f"DONE {time.time() - t0:.0f}s fresh batches {fresh} steps {steps} holdout exact {100 * sc['all']['acc']:.2f}% | {per}",
          flush=True)
    save("last", {"holdout": sc, "best": sc["all"]["acc"]})
    with open(os.path.join(a.out, "train_summary.json"), "w") as f:
        json.dump({"holdout_exact": sc["all"]["acc"], "steps": steps, "fresh_batches": fresh,
                   "seconds": time.time() - t0, "args": vars(a)}, f, indent=1)


if __name__ == "__main__":
    main()
