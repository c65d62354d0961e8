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

import torch

from cvlib import runtime
from cvlib.data import Scenes
from cvlib.metrics import detection_map
from cvlib.models.detection import FasterRCNN, detect, detection_loader
from cvlib.recipes.faster_rcnn import SPLIT_SEEDS, SWEEP, Recipe
from cvlib.recipes.sweeps import run_sweep, sweep_arguments
from cvlib.train import fit

POOLERS = ("roi_pool", "roi_align")
LRS = (1e-3, 2e-3)


def run(recipe: Recipe, pooler: str, lr: float, seed: int) -> dict:
    """Train on the training scenes, score on the validation scenes."""
    torch.set_num_threads(1)
    train_set = Scenes(recipe.n_train, seed=SPLIT_SEEDS["train"], size=recipe.size)
    val_set = Scenes(recipe.n_val, seed=SPLIT_SEEDS["validation"], size=recipe.size)
    train, val = train_set[:], val_set[:]      # rendered once per machine (cvlib.data.cache)
    device = runtime.device()
    runtime.seed(seed)
    model = FasterRCNN(recipe.config(pooler)).to(device)
    history = fit(model, detection_loader(train, recipe.batch_size), steps=recipe.steps, lr=lr, progress=False)
    result = detection_map(detect(model, val), [t for _, t in val])
    return {"pooler": pooler, "lr": lr, "seed": seed, "val_map50": round(result["map_50"], 4),
            "val_map": round(result["map"], 4), "seconds": round(history.seconds, 1)}


def main(argv=None) -> int:
    args = sweep_arguments(__doc__, SWEEP, argv=argv)
    recipe = Recipe.for_profile(args.profile)
    run_sweep(run, [(recipe, pooler, lr, args.seed) for pooler in POOLERS for lr in LRS], recipe, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
