"""How much the initial seed moves the upsampling chapter's test mIoU, after every choice is made.

    python scripts/upsampling_seeds.py                  # quick profile: 4 methods x 2 seeds, ~3.5 min on 2 cores
    python scripts/upsampling_seeds.py --profile full   # the GPU profile's recipe

The upsampling chapter trains each method once, from seed 0, at the learning rate the sweep
(`scripts/sweep_fcn_lr.py`) chose on validation scenes, and reports its test mIoU. This script
trains each method again at that same learning rate from the sweep's other seeds, and scores them
on the test scenes, so that the chapter can show the spread a seed makes beside its own seed-0
run. It chooses nothing: the learning rates are the sweep's, read from it, and the chapter's
comparison stays the seed-0 one. Writes chapters/01-semantic/upsampling_seeds.json (or --out),
replacing the entry of the same recipe: {"recipe", "lrs": {method: lr}, "test_miou": {method:
{seed: mIoU}}}.
"""
from __future__ import annotations

from pathlib import Path

import torch

from cvlib import runtime
from cvlib.models.segmentation.fcn import UPSAMPLING
from cvlib.models.segmentation.semantic import evaluate
from cvlib.recipes.fcn import SEEDS_FILE, Recipe, chosen_lr, load_sweep, train_fcn
from cvlib.recipes.sweeps import run_sweep, store_sweep, sweep_arguments

SWEEP = Path(__file__).resolve().parent.parent / "chapters" / "01-semantic" / "lr_sweep.json"


def run(recipe: Recipe, method: str, lr: float, seed: int) -> dict:
    """Train `method` at `lr` from `seed`; its test mIoU."""
    torch.set_num_threads(1)
    model, _ = train_fcn(method, lr, seed, recipe.scenes("train"), recipe, device=runtime.device(),
                         progress=False)
    test_miou = evaluate(model, recipe.scenes("test"))["miou"]
    return {"method": method, "lr": lr, "seed": seed, "test_miou": round(test_miou, 4)}


def main(argv=None) -> int:
    args = sweep_arguments(__doc__, SEEDS_FILE, argv=argv)
    recipe = Recipe.for_profile(args.profile)
    sweep = load_sweep(SWEEP, recipe)
    lrs = {m: chosen_lr(sweep, m) for m in UPSAMPLING}
    seeds = [s for s in sweep["seeds"] if s != 0]            # seed 0: the chapter's own run
    runs = run_sweep(run, [(recipe, m, lrs[m], s) for m in UPSAMPLING for s in seeds], recipe, args, store=False)
    test_miou = {m: {str(r["seed"]): r["test_miou"] for r in runs if r["method"] == m} for m in UPSAMPLING}
    store_sweep(args.out, recipe, lrs=lrs, test_miou=test_miou)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
