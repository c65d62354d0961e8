"""Choose how much the keypoint chapter's Keypoint R-CNN grows each box, on validation scenes.

    python scripts/sweep_keypoint_rcnn.py                   # quick profile: 5 box scales + 5 budgets + 2 seeds, ~12 min on 2 cores
    python scripts/sweep_keypoint_rcnn.py --profile full    # the GPU profile's recipe

Trains a Keypoint R-CNN (cvlib.recipes.keypoint_rcnn.Recipe, at its learning rate) for every box scale of
the keypoint branch (KeypointHeadConfig.box_scale) on the
training scenes, scores it on the validation scenes (keypoint AP by OKS, PCK@0.2 of the detected
people; the test scenes are never rendered) and writes every run into
chapters/05-instance/keypoint_rcnn_sweep.json (or --out), replacing the sweep of the same recipe.
Then, at the chosen scale, the same training with the other heatmap size (28 x 28, the transposed
conv's own, or torchvision's 56 x 56), with half the steps, with an earlier version's fewer
scenes and steps (SMALLER), and without the head's coordinate channels (an earlier version's
head): what the recipe's heatmap size, steps, scenes and coordinates buy.
Last, the recipe at the chosen scale from two more seeds ("seed_runs"): how far a seed moves the
validation scores, which the chapter prints beside its own.
The chapter reads it with load_sweep / chosen_scale / scale_runs. Runs go to --workers processes of
one thread each.
"""
from __future__ import annotations

from dataclasses import replace

import torch

from cvlib import runtime
from cvlib.keypoint_metrics import keypoint_ap, matched_people, misses_at_others
from cvlib.metrics import pck
from cvlib.models.detection import detect
from cvlib.recipes.keypoint_rcnn import SWEEP, Recipe, budget, chosen_scale, train_keypoint_rcnn
from cvlib.recipes.sweeps import run_sweep, store_sweep, sweep_arguments

SCALES = (1.0, 1.25, 1.5, 1.75, 2.0)
SIZES = (28, 56)                 # heatmap sizes: the transposed conv's own, and torchvision's (x 2)
SMALLER = dict(n_train=480, steps=800)   # the budget of an earlier version


def run(recipe: Recipe, box_scale: float, seed: int) -> dict:
    """Train on the training scenes, score on the validation scenes."""
    torch.set_num_threads(1)
    train, val = recipe.scenes("train"), recipe.scenes("validation")
    model, history = train_keypoint_rcnn(seed, train, recipe, recipe.lr(), box_scale, runtime.device(),
                                         progress=False)
    preds, targets = detect(model, val), [t for _, t in val]
    ap = keypoint_ap(preds, targets)
    pred, true, found = matched_people(preds, targets)
    misses = misses_at_others(pred, true, found, targets)
    return {"box_scale": box_scale, **budget(recipe), "lr": recipe.lr(), "seed": seed,
            "val_ap50": round(ap["map_50"], 4), "val_ap": round(ap["map"], 4),
            "val_pck": round(pck(pred[..., :2], true)[0], 4), "detected": f"{len(found)}/{ap['people']}",
            "val_joints": misses["joints"], "val_missed": misses["missed"],
            "val_missed_at_other_person": misses["at_other_person"], "seconds": round(history.seconds, 1)}


def main(argv=None) -> int:
    args = sweep_arguments(__doc__, SWEEP, workers=3, argv=argv)
    recipe = Recipe.for_profile(args.profile)
    runs = run_sweep(run, [(recipe, scale, args.seed) for scale in SCALES], recipe, args, store=False)
    scale = chosen_scale({"runs": runs}, recipe)
    other, half = next(size for size in SIZES if size != recipe.heatmap_size), recipe.steps // 2
    budgets = [replace(recipe, heatmap_size=size, steps=steps)
               for size, steps in ((other, recipe.steps), (recipe.heatmap_size, half), (other, half))]
    budgets += [replace(recipe, **SMALLER), replace(recipe, keypoint_coordinates=not recipe.keypoint_coordinates)]
    runs += run_sweep(run, [(r, scale, args.seed) for r in budgets], recipe, args, store=False)
    seeds = run_sweep(run, [(recipe, scale, args.seed + k) for k in (1, 2)], recipe, args, store=False)
    store_sweep(args.out, recipe, runs=runs, seed_runs=seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
