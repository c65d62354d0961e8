"""Choose the learning rate of the FCN chapter's full-resolution network on validation scenes.

    python scripts/sweep_full_res_lr.py                  # quick profile: 5 learning rates, ~1.5 min on 2 cores
    python scripts/sweep_full_res_lr.py --profile full   # the GPU profile's recipe

The FCN chapter compares the down/up FCN with a network of the same conv blocks at full resolution,
on the same training compute (`recipes.fcn.full_res_steps`: fewer steps, as each costs more). The
down/up network's learning rate comes from `scripts/sweep_fcn_lr.py`; this script gives the
full-resolution network its own: it trains it (`recipes.fcn.train_full_res`, seed 0) at every rate
of `LRS` on the training scenes and scores it on the validation scenes (the test scenes are never
rendered). Writes chapters/01-semantic/full_res_sweep.json (or --out), replacing the sweep of the
same recipe; the chapter reads it with load_full_res_sweep / chosen_full_res_lr.
"""
from __future__ import annotations

import torch

from cvlib import runtime
from cvlib.models.segmentation.semantic import evaluate
from cvlib.recipes.fcn import FULL_RES_SWEEP, Recipe, full_res_steps, train_full_res
from cvlib.recipes.sweeps import run_sweep, store_sweep, sweep_arguments

LRS = (2e-3, 4e-3, 8e-3, 1.6e-2, 3.2e-2)


def run(recipe: Recipe, lr: float, seed: int) -> dict:
    """Train at `lr` from `seed`; its validation mIoU."""
    torch.set_num_threads(1)
    model, history = train_full_res(lr, seed, recipe.scenes("train"), recipe, device=runtime.device(),
                                    progress=False)
    return {"lr": lr, "seed": seed, "val_miou": round(evaluate(model, recipe.scenes("val"))["miou"], 4),
            "seconds": round(history.seconds, 1)}


def main(argv=None) -> int:
    args = sweep_arguments(__doc__, FULL_RES_SWEEP, argv=argv)
    recipe = Recipe.for_profile(args.profile)
    runs = run_sweep(run, [(recipe, lr, args.seed) for lr in LRS], recipe, args, store=False)
    store_sweep(args.out, recipe, steps=full_res_steps(recipe), runs=runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
