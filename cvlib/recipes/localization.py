"""The localization chapter's recipe (Part 2): one object per scene, a class and a box by a Localizer.

    recipe = Recipe.for_profile(runtime.profile())
    train, val, test = (recipe.scenes(s) for s in SPLIT_SEEDS)   # (images, labels, boxes) each
    best = chosen(load_sweep(recipe))            # the box loss's weight (scripts/sweep_localization.py)
    model, history = train_localizer(recipe, best, train, device=device)
    scores = evaluate(model, val, device)        # accuracy, mean IoU, ... and the held-out losses

Every split draws one large object per scene (`Scenes(n, n_objects=(1, 1), shape_scale=(0.3, 0.6))`)
from its own seed. Every Localizer trains with the same backbone widths, batch, steps, learning rate
and seed; only the weight of the box loss (`WEIGHTS`) changes, and with it the loss itself, so
models are compared by accuracy and IoU, never by their loss. `scripts/sweep_localization.py` trains
one class-specific model per weight on the training scenes and scores it on the validation scenes
(the test scenes are never rendered by it); `chosen` takes the weight of highest accuracy + mean IoU.
The chapter trains the chosen weight again (and the class-agnostic model at it) and uses the test
scenes once.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .. import runtime
from ..metrics import localization_metrics
from ..models.localization.localizer import Localizer, LocalizerConfig, localizer_step
from ..train import History, fit, shuffled_batches
from .splits import split_scenes
from .sweeps import find_sweep

__all__ = ["CURVE", "Recipe", "SPLIT_SEEDS", "SWEEP", "WEIGHTS", "chosen", "evaluate", "load_sweep",
           "loss_curve", "train_localizer"]

SWEEP = Path(__file__).resolve().parents[2] / "chapters" / "02-localization" / "localization_sweep.json"
SPLIT_SEEDS = {"train": 1, "validation": 2, "test": 3}     # the Scenes seed of each split
WEIGHTS = (1, 10, 30, 100)                                 # the box loss's weights the sweep tries
CURVE = (20, 10)      # loss_curve: a mean over 20 steps, every 10th of them kept


@dataclass(frozen=True)
class Recipe:
    """Scenes, budget and backbone of one profile (quick by default; seeds `SPLIT_SEEDS`)."""
    size: int = 64                                  # scene side, pixels
    n_train: int = 2000
    n_val: int = 500
    n_test: int = 500
    steps: int = 500
    batch: int = 32
    lr: float = 2e-3
    widths: tuple[int, ...] = (8, 16, 32, 64)       # LocalizerConfig.widths: the backbone's stages
    shape_scale: tuple[float, float] = (0.3, 0.6)   # the object's size, a fraction of the scene's

    @staticmethod
    def for_profile(profile: str) -> "Recipe":
        if profile not in ("quick", "full"):
            raise ValueError(f"profile must be 'quick' or 'full', got {profile!r}")
        if profile == "quick":
            return Recipe()
        return Recipe(size=128, n_train=20000, steps=4000, batch=128, widths=(32, 64, 128, 256, 256))

    def scenes(self, split: str) -> tuple[Tensor, Tensor, Tensor]:
        """The scenes of "train", "validation" or "test": (images [N, 3, S, S], labels [N], boxes [N, 4]
        xyxy pixels), the single object of each scene."""
        items = split_scenes(self, split, SPLIT_SEEDS, n_objects=(1, 1), shape_scale=self.shape_scale)
        return (torch.stack([image for image, _ in items]),
                torch.cat([t["labels"] for _, t in items]),
                torch.cat([t["boxes"] for _, t in items]))


def train_localizer(recipe: Recipe, weight: float, train: tuple, class_specific: bool = True,
                    device: torch.device | str = "cpu", progress: bool = True,
                    seed: int = 0) -> tuple[Localizer, History]:
    """A Localizer with box loss weight `weight` (one box per category, or one for all), initialised
    from `seed` and trained on train = (images, labels, boxes) for recipe.steps batches of
    recipe.batch scenes at recipe.lr; returns (model, history)."""
    runtime.seed(seed)
    cfg = LocalizerConfig(widths=recipe.widths, box_weight=weight, class_specific=class_specific)
    model = Localizer(cfg).to(device)
    batches = shuffled_batches(*train, batch_size=recipe.batch, seed=seed)
    desc = f"weight {weight}" + ("" if class_specific else " agnostic")
    history = fit(model, batches, steps=recipe.steps, step_fn=localizer_step, lr=recipe.lr, desc=desc,
                  progress=progress)
    return model, history


@torch.no_grad()
def evaluate(model: Localizer, data: tuple, device: torch.device | str | None = None) -> dict[str, float]:
    """Scores of `model` on data = (images, labels, boxes) (run on `device`, default the model's):
    localization_metrics' accuracy, mean_iou, iou_50 and correct, and the losses with the model's
    own weight, total_loss and class_loss, and l2, the box loss without its weight. The model is put
    in eval mode: the losses use BatchNorm's running statistics, as the predictions do."""
    device = device if device is not None else next(model.parameters()).device
    model.eval()
    images, labels, boxes = (t.to(device) for t in data)
    out = model(images)
    pred_boxes = torch.cat([o["boxes"] for o in out])
    pred_labels = torch.cat([o["labels"] for o in out])
    result = localization_metrics(pred_boxes, pred_labels, boxes, labels)
    targets = [{"boxes": b[None], "labels": l[None]} for b, l in zip(boxes, labels)]
    losses = model.losses(images, targets)
    result.update(total_loss=float(sum(losses.values())), class_loss=float(losses["loss_classifier"]),
                  l2=float(losses["loss_box_reg"]) / model.cfg.box_weight)
    return result


def loss_curve(history: History, key: str = "total") -> list[float]:
    """The training loss `key` of `history`, a mean over CURVE[0] = 20 steps ("valid": full windows
    only), every CURVE[1] = 10th point kept (point k averages steps 10k+1 .. 10k+20), rounded to 5
    significant digits: what the sweep stores of each run's training."""
    window, every = CURVE
    smooth = np.convolve(history.losses[key], np.ones(window) / window, mode="valid")[::every]
    return [float(f"{v:.5g}") for v in smooth]


def load_sweep(recipe: Recipe, path: str | Path = SWEEP) -> dict:
    """The box loss's weight sweep of `recipe`: {"recipe", "runs": [{"weight", "seed", evaluate's
    validation scores, "train_loss" (loss_curve), "seconds"}]} (the quick profile's, with a warning,
    where `recipe` has none; `sweeps.find_sweep`)."""
    return find_sweep(path, recipe, Recipe(), "python scripts/sweep_localization.py")


def chosen(sweep: dict) -> float:
    """The weight of the sweep's run of highest validation accuracy + mean IoU (ties: the first)."""
    if not sweep["runs"]:
        raise ValueError("the sweep has no runs: run `python scripts/sweep_localization.py`")
    return max(sweep["runs"], key=lambda run: run["accuracy"] + run["mean_iou"])["weight"]
