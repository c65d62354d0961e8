"""The R-CNN family trained once, for the lecture's speed table in the YOLO / SSD chapter.

    family = load_family(device)          # {"sliding window", "R-CNN", "Fast R-CNN", "Faster R-CNN"}
    boxes = propose(image)                # the Fast R-CNN chapters' selective search

Each detector as its chapter trains it, on the same 120 training scenes of 96 px (seed 1,
`faster_rcnn.Recipe`): Fast R-CNN with RoI pooling on selective-search proposals, 600 steps at
learning rate 1e-3; Faster R-CNN with the pooler and learning rate of its validation sweep; the
sliding-window detector with the Fast R-CNN chapter's windows for 96 px images, 600 steps of 8
images at 3e-3 (the sliding-window chapter's budget). R-CNN is Fast R-CNN's trained networks run
the R-CNN way (`rcnn_from_fast_rcnn`), as in the Faster R-CNN chapter. Retraining them would take
that chapter's minutes again, so `scripts/train_rcnn_family.py` trains them and stores their
weights (float16, about 2.5 MB) in chapters/03-detection/weights/, which `load_family` reads.
"""
from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .. import runtime
from ..data import Scenes
from ..models.detection import (FastRCNN, FastRCNNConfig, FasterRCNN, RoIHeadsConfig, SlidingWindowConfig,
                                SlidingWindowDetector, detection_loader, proposal_loader, rcnn_from_fast_rcnn)
from ..proposals import FAST, Strategy, selective_search
from ..train import fit, load, save
from .faster_rcnn import SPLIT_SEEDS, SWEEP, Recipe, chosen, load_sweep

WEIGHTS = Path(__file__).resolve().parents[2] / "chapters" / "03-detection" / "weights"
# the fast set of hierarchies plus a finer Felzenszwalb k, as the Fast R-CNN chapter proposes
STRATEGIES = FAST + tuple(Strategy(s.colour_space, 25.0, s.similarities) for s in FAST if s.k == 50.0)
WINDOWS = SlidingWindowConfig(sizes=(18, 26, 36, 51, 72), patch=20)     # window sides for 96 px images


def propose(image: Tensor, cache: bool = True) -> Tensor:
    """Selective search proposals of one image [3, H, W]: [N, 4] xyxy pixels, best first."""
    return selective_search(image, strategies=STRATEGIES, cache=cache)


def _builders(recipe: Recipe) -> tuple[dict, float]:
    """Constructors of the three trained detectors, and Faster R-CNN's learning rate (its sweep's choice)."""
    best = chosen(load_sweep(SWEEP, recipe))
    return {"sliding window": lambda: SlidingWindowDetector(WINDOWS),
            "Fast R-CNN": lambda: FastRCNN(FastRCNNConfig(roi_heads=RoIHeadsConfig(pooler="roi_pool"))),
            "Faster R-CNN": lambda: FasterRCNN(recipe.config(best["pooler"]))}, best["lr"]


def _file(name: str) -> Path:
    return WEIGHTS / (name.lower().replace(" ", "_").replace("-", "") + ".pt")


def train_family(recipe: Recipe | None = None, device: torch.device | str = "cpu") -> dict[str, nn.Module]:
    """Train the three detectors on the training scenes of `recipe` (seed 0 each) and save their weights."""
    recipe = recipe or Recipe()
    train_set = Scenes(recipe.n_train, seed=SPLIT_SEEDS["train"], size=recipe.size)
    train = [train_set[i] for i in range(len(train_set))]
    build, faster_lr = _builders(recipe)
    proposals = [propose(image) for image, _ in tqdm(train, desc="selective search")]
    plans = {"sliding window": (detection_loader(train, 8), 3e-3),
             "Fast R-CNN": (proposal_loader(train, proposals, recipe.batch_size), 1e-3),
             "Faster R-CNN": (detection_loader(train, recipe.batch_size), faster_lr)}
    models = {}
    for name, (loader, lr) in plans.items():
        runtime.seed(0)
        models[name] = build[name]().to(device)
        fit(models[name], loader, steps=recipe.steps, lr=lr, desc=name)
        save(copy.deepcopy(models[name]).half(), _file(name), trained_on=f"{recipe.n_train} scenes, seed 1",
             steps=recipe.steps, lr=lr)
    return models


def load_family(device: torch.device | str = "cpu", recipe: Recipe | None = None) -> dict[str, nn.Module]:
    """The four detectors of the R-CNN family in eval mode, from the weights train_family saved."""
    build, _ = _builders(recipe or Recipe())
    models = {}
    for name, make in build.items():
        models[name] = make()
        if not _file(name).is_file():
            raise FileNotFoundError(f"no weights at {_file(name)}: run `python scripts/train_rcnn_family.py`")
        load(models[name], _file(name))                  # float16 on disk, float32 in the model
        models[name].to(device).eval()
    models["R-CNN"] = rcnn_from_fast_rcnn(models["Fast R-CNN"]).eval()
    order = ("sliding window", "R-CNN", "Fast R-CNN", "Faster R-CNN")
    return {name: models[name] for name in order}
