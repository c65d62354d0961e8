"""Choose the YOLO / SSD chapter's learning rates (and YOLO's grid cell) on validation scenes.

    python scripts/sweep_one_stage.py                   # quick profile: 7 trainings, ~15 min on 2 free cores
    python scripts/sweep_one_stage.py --profile full    # the GPU profile's recipe

Trains YOLO and SSD at each choice of GRID (cvlib.recipes.one_stage.Recipe) on the training
scenes and scores each on the validation scenes (the test scenes are never rendered) and on the
first 40 training scenes; then trains the best of each again on the R-CNN family's 120 training
scenes only (what more scenes buy). Writes every run into chapters/03-detection/yolo_ssd_sweep.json
(or --out), replacing the sweep of the same recipe. The chapter reads it with load_sweep / chosen.
Runs go to --workers processes of one thread each.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import torch

from cvlib import runtime
from cvlib.data import Scenes
from cvlib.metrics import detection_map
from cvlib.models.detection import detect
from cvlib.recipes.one_stage import SPLIT_SEEDS, SWEEP, Recipe, chosen, train_one
from cvlib.recipes.parallel import side_by_side
from cvlib.recipes.sweeps import store_sweep

# YOLO's grid cell (8 px: 12 x 12 cells on 96 px scenes; 16 px: 6 x 6) and learning rate; SSD's learning rate
GRID = [{"model": "yolo", "cell": 8, "lr": 3e-3}, {"model": "yolo", "cell": 16, "lr": 3e-3},
        {"model": "yolo", "cell": 8, "lr": 1e-3}, {"model": "ssd", "cell": None, "lr": 3e-3},
        {"model": "ssd", "cell": None, "lr": 1e-3}]


FEW = 120                # the R-CNN family's training scenes


def run(recipe: Recipe, choice: dict, seed: int, threads: int | None) -> dict:
    """Train on choice["n_train"] training scenes, score on the validation scenes and on 40 training scenes."""
    if threads is not None:
        torch.set_num_threads(threads)
    recipe = replace(recipe, n_train=choice["n_train"])
    train_set = Scenes(recipe.n_train, seed=SPLIT_SEEDS["train"], size=recipe.size)
    val_set = Scenes(recipe.n_val, seed=SPLIT_SEEDS["validation"], size=recipe.size)
    train, val = train_set[:], val_set[:]      # rendered once per machine (cvlib.data.cache)
    model, history = train_one(recipe.config(choice), choice["lr"], seed, train, recipe, runtime.device(),
                               progress=False)
    result = detection_map(detect(model, val), [t for _, t in val])
    seen = detection_map(detect(model, train[:40]), [t for _, t in train[:40]])
    return {**choice, "seed": seed, "val_map50": round(result["map_50"], 4), "val_map": round(result["map"], 4),
            "train_map50": round(seen["map_50"], 4), "seconds": round(history.seconds, 1)}


def sweep(recipe: Recipe, grid: list[dict], args) -> list[dict]:
    """run() of every choice of `grid`, side by side in --workers processes."""
    tasks = {json.dumps(choice): (recipe, choice, args.seed) for choice in grid}
    return list(side_by_side(run, tasks, runtime.device(), args.workers, desc="sweep").values())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=("quick", "full"), default="quick")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    parser.add_argument("--out", type=Path, default=SWEEP)
    args = parser.parse_args(argv)
    recipe = Recipe.for_profile(args.profile)
    start = time.perf_counter()
    grid = [{**choice, "n_train": recipe.n_train} for choice in GRID]
    runs = sweep(recipe, grid, args)
    few = [{**chosen({"runs": runs}, model, recipe.n_train), "n_train": FEW} for model in ("yolo", "ssd")]
    runs += sweep(recipe, [{k: c[k] for k in grid[0]} for c in few], args)
    for r in runs:
        print(json.dumps(r), flush=True)
    store_sweep(args.out, recipe, runs=runs)
    print(f"{len(runs)} runs in {time.perf_counter() - start:.0f} s; written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
