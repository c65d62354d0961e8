"""Choose the pose chapter's learning rate of each head, and the head, on validation people.

    python scripts/sweep_pose.py                   # quick profile: 2 heads x 3 learning rates, ~1 min on 2 cores
    python scripts/sweep_pose.py --profile full    # the GPU profile's recipe

Trains a PoseRegressor (cvlib.recipes.pose.Recipe) with each head at every learning rate of its grid
(cvlib.recipes.pose.LRS) on the training people, scores it by PCK@0.2 on the validation people (the
test people are never rendered) and writes every run into chapters/02-localization/pose_sweep.json
(or --out), replacing the sweep of the same recipe. The chapter reads it with load_sweep / chosen.
Runs go to --workers processes of one thread each.
"""
from __future__ import annotations

import torch

from cvlib import runtime
from cvlib.metrics import pck
from cvlib.recipes.pose import HEADS, LRS, SWEEP, Recipe, predict, train_pose
from cvlib.recipes.sweeps import run_sweep, sweep_arguments


def run(recipe: Recipe, head: str, lr: float, seed: int) -> dict:
    """Train on the training people, score on the validation people."""
    torch.set_num_threads(1)
    train, val = recipe.people("train"), recipe.people("validation")
    model, history = train_pose(recipe, head, lr, train, runtime.device(), progress=False, seed=seed)
    return {"head": head, "lr": lr, "seed": seed, "val_pck": round(pck(predict(model, val[0]), val[1])[0], 4),
            "seconds": round(history.seconds, 1)}


def main(argv=None) -> int:
    args = sweep_arguments(__doc__, SWEEP, argv=argv)
    recipe = Recipe.for_profile(args.profile)
    run_sweep(run, [(recipe, head, lr, args.seed) for head in HEADS for lr in LRS[head]], recipe, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
