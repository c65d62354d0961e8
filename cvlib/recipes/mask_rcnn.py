"""The Mask R-CNN chapter's recipe: Faster R-CNN's, plus the mask branch; its trainings side by side.

    recipe = Recipe.for_profile(runtime.profile())
    cfg = recipe.config("roi_align")                 # a MaskRCNNConfig
    lr = recipe.lr("roi_align")                      # the Faster R-CNN sweep's best for that pooler
    models, histories = train_mask_rcnns(("roi_align", "roi_pool"), seed=0, train=train, recipe=recipe)
    models, histories = train_mask_rcnns(poolers, 0, train, recipe, also={"fcn": (train_fn, args, build)})

Mask R-CNN is Faster R-CNN plus a branch, and it starts from the Faster R-CNN chapter's trained
detector (`rcnn_family.start_from_faster_rcnn`: backbone, RPN, box head and class head, trained
on the same training scenes), then trains all of it, the new mask branch included, for `steps`
(half the detector's 600 on the quick profile). The scenes, batch and RPN are the Faster R-CNN
chapter's (`recipes.faster_rcnn.Recipe`), and so is each pooler's learning rate: the best of
`scripts/sweep_faster_rcnn.py` for that pooler on the validation scenes.
`also`: more trainings for the same pool of processes (the chapter's FCN).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .. import runtime
from ..models.detection.mask_head import MaskHeadConfig
from ..models.detection import detection_loader
from ..models.instance import MaskRCNN, MaskRCNNConfig
from ..train import History, fit
from .faster_rcnn import SPLIT_SEEDS, SWEEP, load_sweep
from .faster_rcnn import Recipe as FasterRCNNRecipe
from .parallel import train_models
from .rcnn_family import start_from_faster_rcnn

__all__ = ["KEYS", "Recipe", "SPLIT_SEEDS", "train_mask_rcnn", "train_mask_rcnns"]

KEYS = ("boxes", "labels", "masks")      # what Mask R-CNN trains on


@dataclass(frozen=True)
class Recipe:
    """Faster R-CNN's recipe (scenes, budget, RPN) and the mask head's width and depth."""
    detector: FasterRCNNRecipe = field(default_factory=FasterRCNNRecipe)
    mask_channels: int = 32
    mask_layers: int = 4
    steps: int = 300                  # training steps after the start from Faster R-CNN

    @staticmethod
    def for_profile(profile: str) -> "Recipe":
        detector = FasterRCNNRecipe.for_profile(profile)      # checks the profile's name
        return Recipe(detector) if profile == "quick" else Recipe(detector, mask_channels=64, steps=3000)

    def config(self, pooler: str) -> MaskRCNNConfig:
        """Faster R-CNN's config with `pooler` ("roi_align" or "roi_pool") for both branches, and the mask head."""
        return MaskRCNNConfig(faster_rcnn=self.detector.config(pooler),
                              mask=MaskHeadConfig(channels=self.mask_channels, layers=self.mask_layers))

    def lr(self, pooler: str) -> float:
        """The learning rate of highest validation mAP@0.5 for `pooler` in the Faster R-CNN sweep."""
        runs = [run for run in load_sweep(SWEEP, self.detector)["runs"] if run["pooler"] == pooler]
        if not runs:
            raise ValueError(f"the Faster R-CNN sweep has no run with pooler {pooler!r}")
        return float(max(runs, key=lambda run: run["val_map50"])["lr"])


def train_mask_rcnn(pooler: str, seed: int, train, recipe: Recipe, device: torch.device | str = "cpu",
                    progress: bool = True) -> tuple[MaskRCNN, History]:
    """A MaskRCNN with `pooler`: its mask branch initialised from `seed`, the rest the family's Faster
    R-CNN; trained on `train` ((image, target) pairs with masks) for the recipe's steps at its
    learning rate; returns (model in eval mode, history)."""
    runtime.seed(seed)
    model = MaskRCNN(recipe.config(pooler))
    start_from_faster_rcnn(model)
    model.to(device)
    loader = detection_loader(train, recipe.detector.batch_size, keys=KEYS)
    history = fit(model, loader, steps=recipe.steps, lr=recipe.lr(pooler),
                  desc=f"Mask R-CNN, {pooler}", progress=progress)
    return model, history


def train_mask_rcnns(poolers, seed: int, train, recipe: Recipe, device: torch.device | str = "cpu",
                     jobs: int | None = None, also: dict[str, tuple] | None = None
                     ) -> tuple[dict[str, nn.Module], dict[str, History]]:
    """train_mask_rcnn for every pooler, from the same seed, side by side (`parallel`: one process of one
    thread per training on a two-core CPU); returns ({pooler: model}, {pooler: history}).

    also: {name: (train_fn, args, build)}, more trainings for the same pool, queued after the Mask
    R-CNNs (on two cores one starts when the first Mask R-CNN is done): train_fn(*args, progress=...)
    -> (model, history), a module-level function; build() a fresh model of its configuration. Their
    models (in eval mode) and histories come back under their names."""
    items = [(image, {k: t[k] for k in KEYS}) for image, t in train]
    plans = {p: (train_mask_rcnn, (p, seed, items, recipe, device), lambda p=p: MaskRCNN(recipe.config(p)))
             for p in poolers}
    plans.update(also or {})
    tasks = {name: (fn, *args) for name, (fn, args, _) in plans.items()}
    return train_models(_call, tasks, lambda name: plans[name][2](), device, jobs, desc="trainings")


def _call(train_fn, *args, progress: bool = True):
    """train_fn(*args, progress=progress): the one module-level train_fn train_models gets for all tasks."""
    return train_fn(*args, progress=progress)
