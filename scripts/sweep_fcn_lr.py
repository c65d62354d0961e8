"""Choose the learning rate of Part 1's down/up FCNs on validation scenes.

    python scripts/sweep_fcn_lr.py                    # quick profile: 4 methods x 3 lrs x 3 seeds, ~25 min on 2 cores
    python scripts/sweep_fcn_lr.py --profile full     # the GPU profile's recipe

Trains a DownUpFCN for every upsampling method, learning rate and initial seed with the
recipe of cvlib.models.fcn_recipe, scores it on the validation scenes (seed 3; the test
scenes are never loaded) and writes the validation mIoU of every run into
chapters/01-semantic/lr_sweep.json, replacing the sweep of the same recipe. The chapters
read it with load_sweep / chosen_lr.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import torch

from cvlib import runtime
from cvlib.models.fcn import UPSAMPLING
from cvlib.models.fcn_recipe import Recipe, train_fcn
from cvlib.models.segmentation import evaluate

OUT = Path(__file__).resolve().parent.parent / "chapters" / "01-semantic" / "lr_sweep.json"
LRS = (2e-3, 4e-3, 8e-3)
SEEDS = (0, 1, 2)


@functools.lru_cache(maxsize=None)
def scenes(profile: str, split: str):
    """Rendered once per worker process."""
    return Recipe.for_profile(profile).scenes(split)


def run(args) -> float:
    profile, method, lr, seed = args
    torch.set_num_threads(int(os.environ.get("SWEEP_THREADS", "1")))
    model, _ = train_fcn(method, lr, seed, scenes(profile, "train"), Recipe.for_profile(profile),
                         device=runtime.device(), progress=False)
    return evaluate(model, scenes(profile, "val"))["miou"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="quick", choices=("quick", "full"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="parallel trainings (one per CPU core)")
    args = parser.parse_args()
    recipe = Recipe.for_profile(args.profile)
    jobs = [(args.profile, m, lr, s) for m in UPSAMPLING for lr in LRS for s in SEEDS]
    start = time.perf_counter()
    val_miou = {m: {str(lr): [] for lr in LRS} for m in UPSAMPLING}
    with ProcessPoolExecutor(args.jobs) as pool:
        for (_, m, lr, s), score in zip(jobs, pool.map(run, jobs)):
            val_miou[m][str(lr)].append(round(score, 4))
            print(f"{m:13s} lr {lr:g} seed {s}: validation mIoU {score:.3f}  ({time.perf_counter() - start:.0f} s)",
                  flush=True)
    sweeps = [s for s in (json.loads(OUT.read_text()) if OUT.is_file() else []) if s["recipe"] != asdict(recipe)]
    sweeps.append({"recipe": asdict(recipe), "lrs": list(LRS), "seeds": list(SEEDS), "val_miou": val_miou})
    OUT.write_text(json.dumps(sweeps, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
