"""Choose the dense-captioning chapter's learning rate and beam on validation scenes.

    python scripts/sweep_densecap.py                   # quick profile: 4 learning rates x beams 1, 3, ~4 min on 2 cores
    python scripts/sweep_densecap.py --profile full    # the GPU profile's recipe

Trains a DenseCap (cvlib.recipes.densecap.Recipe) for every learning rate on the training scenes,
decodes the validation scenes greedily and with a beam of 3, and writes every run's validation
scores into chapters/04-captioning/densecap_sweep.json (or --out), replacing the sweep of the same
recipe. The test scenes are never rendered. The chapter reads it with load_sweep / chosen. Runs go
to --workers processes of one thread each.
"""
from __future__ import annotations

import torch

from cvlib import runtime
from cvlib.metrics import detection_map
from cvlib.models.captioning import describe
from cvlib.models.captioning.metrics import caption_accuracy, dense_captioning_map
from cvlib.recipes.densecap import SWEEP, Recipe, train_densecap
from cvlib.recipes.sweeps import run_sweep, sweep_arguments

LRS = (5e-4, 1e-3, 2e-3, 4e-3)
BEAMS = (1, 3)


def box_map50(preds: list[dict], targets: list[dict]) -> float:
    """Class-agnostic box mAP@0.5 (every box of class 1)."""
    one = lambda d: {**d, "labels": torch.ones(len(d["boxes"]), dtype=torch.int64)}
    return detection_map([one(p) for p in preds], [one({"boxes": t["boxes"]}) for t in targets])["map_50"]


def scores(model, data) -> dict:
    """Validation scores of a trained DenseCap with its current beam."""
    preds, targets = describe(model, data), [t for _, t in data]
    acc = caption_accuracy(preds, targets)
    return {"val_map": round(dense_captioning_map(preds, targets)["map"], 4),
            "val_box_map50": round(box_map50(preds, targets), 4), "val_exact_match": round(acc["exact_match"], 4)}


def run(recipe: Recipe, lr: float, seed: int) -> list[dict]:
    """Train on the training scenes, score every beam on the validation scenes."""
    torch.set_num_threads(1)
    train, val = recipe.scenes("train"), recipe.scenes("validation")
    model, history = train_densecap(recipe, train, recipe.vocabulary(train), lr=lr, seed=seed,
                                    device=runtime.device(), progress=False)
    runs = []
    for beam in BEAMS:
        model.roi_heads.caption_branch.cfg.beam = beam
        runs.append({"lr": lr, "beam": beam, "seed": seed, **scores(model, val), "seconds": round(history.seconds, 1)})
    return runs


def main(argv=None) -> int:
    args = sweep_arguments(__doc__, SWEEP, argv=argv)
    recipe = Recipe.for_profile(args.profile)
    run_sweep(run, [(recipe, lr, args.seed) for lr in LRS], recipe, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
