"""Choose the Faster R-CNN chapter's RoI pooler and learning rate on validation scenes.

    python scripts/sweep_faster_rcnn.py                   # quick profile: 2 poolers x 2 lrs, ~10 min on 2 cores
    python scripts/sweep_faster_rcnn.py --profile full    # the GPU profile's recipe

Trains a Faster R-CNN (cvlib.recipes.faster_rcnn.Recipe) for every pooler and learning rate on the
training scenes, scores it on the validation scenes (the test scenes are never rendered) and writes
every run's validation mAP into chapters/03-detection/faster_rcnn_sweep.json (or --out), replacing
the sweep of the same recipe. The chapter reads it with load_sweep / chosen. Runs go to --workers
processes of one thread each.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from cvlib import runtime
from cvlib.data import Scenes
from cvlib.metrics import detection_map
from cvlib.models.detection import FasterRCNN, detect, detection_loader
from cvlib.recipes.faster_rcnn import SPLIT_SEEDS, SWEEP, Recipe
from cvlib.recipes.sweeps import store_sweep
from cvlib.train import fit

POOLERS = ("roi_pool", "roi_align")
LRS = (1e-3, 2e-3)

def run(recipe: Recipe, pooler: str, lr: float, seed: int) -> dict:
    """Train on the training scenes, score on the validation scenes."""
    torch.set_num_threads(1)
    train_set = Scenes(recipe.n_train, seed=SPLIT_SEEDS["train"], size=recipe.size)
    val_set = Scenes(recipe.n_val, seed=SPLIT_SEEDS["validation"], size=recipe.size)
    train, val = [train_set[i] for i in range(len(train_set))], [val_set[i] for i in range(len(val_set))]
    device = runtime.device()
    runtime.seed(seed)
    model = FasterRCNN(recipe.config(pooler)).to(device)
    history = fit(model, detection_loader(train, recipe.batch_size), steps=recipe.steps, lr=lr, progress=False)
    result = detection_map(detect(model, val), [t for _, t in val])
    return {"pooler": pooler, "lr": lr, "seed": seed, "val_map50": round(result["map_50"], 4),
            "val_map": round(result["map"], 4), "seconds": round(history.seconds, 1)}

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=("quick", "full"), default="quick")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=SWEEP)
    args = parser.parse_args(argv)
    recipe = Recipe.for_profile(args.profile)
    start = time.perf_counter()
    grid = [(pooler, lr) for pooler in POOLERS for lr in LRS]
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        runs = list(pool.map(run, *zip(*[(recipe, p, lr, args.seed) for p, lr in grid])))
    for r in runs:
        print(json.dumps(r), flush=True)
    store_sweep(args.out, recipe, runs=runs)
    print(f"{len(runs)} runs in {time.perf_counter() - start:.0f} s; written to {args.out}")
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
