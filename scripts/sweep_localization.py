"""Choose the localization chapter's box loss weight on validation scenes.

    python scripts/sweep_localization.py                   # quick profile: 4 weights, ~1 min on 2 cores
    python scripts/sweep_localization.py --profile full    # the GPU profile's recipe

Trains a class-specific Localizer (cvlib.recipes.localization.Recipe) at every box loss weight of
cvlib.recipes.localization.WEIGHTS on the training scenes, scores it on the validation scenes (the
test scenes are never rendered) and writes every run into
chapters/02-localization/localization_sweep.json (or --out), replacing the sweep of the same recipe.
A run holds its weight and seed; the validation scores of `evaluate`, to 5 significant digits
(accuracy, mean_iou, iou_50, correct; total_loss and class_loss with the run's weight, l2 without
it); its training total loss as `loss_curve` keeps it (the 20-step mean, subsampled: every 10th
point, ~50 numbers); and its training seconds. The chapter reads it with load_sweep / chosen.
Runs go to --workers processes of one thread each.
"""
from __future__ import annotations

import torch

from cvlib import runtime
from cvlib.recipes.localization import SWEEP, WEIGHTS, Recipe, evaluate, loss_curve, train_localizer
from cvlib.recipes.sweeps import run_sweep, sweep_arguments


def run(recipe: Recipe, weight: float, seed: int) -> dict:
    """Train on the training scenes, score on the validation scenes."""
    torch.set_num_threads(1)
    train, val = recipe.scenes("train"), recipe.scenes("validation")
    device = runtime.device()
    model, history = train_localizer(recipe, weight, train, device=device, progress=False, seed=seed)
    scores = {key: float(f"{value:.5g}") for key, value in evaluate(model, val, device).items()}
    return {"weight": weight, "seed": seed, **scores, "train_loss": loss_curve(history),
            "seconds": round(history.seconds, 1)}


def main(argv=None) -> int:
    args = sweep_arguments(__doc__, SWEEP, argv=argv)
    recipe = Recipe.for_profile(args.profile)
    run_sweep(run, [(recipe, weight, args.seed) for weight in WEIGHTS], recipe, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
