"""How much the seed moves the detection sliding-window chapter's test mAP, after everything is fixed.

    python scripts/sliding_window_seeds.py                  # quick profile: seeds 1 and 2, ~1.5 min on 2 cores
    python scripts/sliding_window_seeds.py --profile full   # the GPU profile's recipe

Trains the chapter's detector (cvlib.recipes.sliding_window.train_detector) from seeds 1 and 2 and
scores each on the chapter's test scenes (mAP@0.5, detections above score 0.05 as the chapter
ranks them). It chooses nothing: the chapter's detector is the seed-0 one, and its settings are
fixed by hand. Writes chapters/03-detection/sliding_window_seeds.json (or --out), replacing the
entry of the same recipe.
"""
from __future__ import annotations

import torch

from cvlib import runtime
from cvlib.metrics import detection_map
from cvlib.recipes.sliding_window import SEEDS_FILE, Recipe, train_detector
from cvlib.recipes.sweeps import run_sweep, store_sweep, sweep_arguments

SEEDS = (1, 2)


def run(recipe: Recipe, seed: int) -> dict:
    """Train from `seed`; its test mAP@0.5."""
    torch.set_num_threads(1)
    model, _ = train_detector(recipe, seed, recipe.scenes("train"), device=runtime.device(), progress=False)
    test = recipe.scenes("test")
    model.eval()
    with torch.no_grad():
        preds = [model([image.to(runtime.device())])[0] for image, _ in test]
    return {"seed": seed, "test_map50": round(detection_map(preds, [t for _, t in test])["map_50"], 4)}


def main(argv=None) -> int:
    args = sweep_arguments(__doc__, SEEDS_FILE, argv=argv)
    recipe = Recipe.for_profile(args.profile)
    runs = run_sweep(run, [(recipe, seed) for seed in SEEDS], recipe, args, store=False)
    store_sweep(args.out, recipe, test_map50={str(r["seed"]): r["test_map50"] for r in runs})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
