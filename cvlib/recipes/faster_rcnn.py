"""The Faster R-CNN chapter's recipe and the sweep that chose its pooler and learning rate.

    recipe = Recipe.for_profile(runtime.profile())
    cfg = recipe.config(pooler="roi_align")             # a FasterRCNNConfig
    sweep = load_sweep(SWEEP, recipe)                    # written by scripts/sweep_faster_rcnn.py
    best = chosen(sweep)                                 # {"pooler", "lr", "val_map50", ...}

The sweep trains one Faster R-CNN per (pooler, learning rate) on the training scenes and scores it
on the validation scenes (seed 3); the test scenes are never rendered by it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..models.detection import FasterRCNNConfig, RoIHeadsConfig, RPNConfig
from .sweeps import find_sweep

SWEEP = Path(__file__).resolve().parents[2] / "chapters" / "03-detection" / "faster_rcnn_sweep.json"
SPLIT_SEEDS = {"train": 1, "validation": 3, "test": 2}      # the Fast R-CNN chapter's train and test seeds


@dataclass(frozen=True)
class Recipe:
    """Scenes, budget and RPN settings of the chapter (quick profile by default)."""
    size: int = 96                    # scene side, pixels
    n_train: int = 120
    n_val: int = 40
    steps: int = 600
    batch_size: int = 4
    anchor_sizes: tuple[float, ...] = (12, 24, 48)    # the objects' sides are about 15 to 47 px
    pre_nms_top_n: int = 600          # RPN proposals before NMS (train and test)
    post_nms_top_n: int = 300         # ... and after

    @staticmethod
    def for_profile(profile: str) -> "Recipe":
        if profile not in ("quick", "full"):
            raise ValueError(f"profile must be 'quick' or 'full', got {profile!r}")
        return Recipe() if profile == "quick" else Recipe(n_train=1500, n_val=200, steps=6000)

    def config(self, pooler: str) -> FasterRCNNConfig:
        rpn = RPNConfig(sizes=self.anchor_sizes, pre_nms_top_n_train=self.pre_nms_top_n,
                        post_nms_top_n_train=self.post_nms_top_n, pre_nms_top_n_test=self.pre_nms_top_n,
                        post_nms_top_n_test=self.post_nms_top_n)
        return FasterRCNNConfig(rpn=rpn, roi_heads=RoIHeadsConfig(pooler=pooler))


def load_sweep(path: str | Path, recipe: Recipe) -> dict:
    """The sweep of `recipe` in `path`: {"recipe", "runs": [{"pooler", "lr", "seed", "val_map50", "val_map"}]}
    (the quick profile's, with a warning, where `recipe` has none; `sweeps.find_sweep`)."""
    return find_sweep(path, recipe, Recipe(), "python scripts/sweep_faster_rcnn.py")


def chosen(sweep: dict) -> dict:
    """The run of highest validation mAP@0.5 (ties: the first)."""
    return max(sweep["runs"], key=lambda run: run["val_map50"])
