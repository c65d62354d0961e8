"""The detection sliding-window chapter's recipe: its scenes, its detector's training, and the spread
another seed gives.

    recipe = Recipe.for_profile(runtime.profile())
    train, test = recipe.scenes("train"), recipe.scenes("test")        # (image, target) pairs
    val = recipe.scenes("validation")    # where the chapter looks at the windows' coverage
    model, history = train_detector(recipe, seed=0, train=train, device=device)
    others = seed_runs(recipe)      # test mAP@0.5 from seeds 1 and 2 (scripts/sliding_window_seeds.py)

The chapter trains `SlidingWindowDetector(recipe.config())` from seed 0 and reports its test mAP
once. `scripts/sliding_window_seeds.py` trains the same detector from seeds 1 and 2 and scores them
on the same test scenes, after everything in the chapter is fixed (it chooses nothing), so that the
chapter can show how far one seed's mAP is from another's.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from .. import runtime
from ..data import Scenes
from ..models.detection import SlidingWindowConfig, SlidingWindowDetector
from ..train import History, fit
from .splits import split_scenes
from .sweeps import find_sweep

SEEDS_FILE = Path(__file__).resolve().parents[2] / "chapters" / "03-detection" / "sliding_window_seeds.json"
SPLIT_SEEDS = {"train": 1, "validation": 3, "test": 2}     # the Scenes seed of each split


@dataclass(frozen=True)
class Recipe:
    """Scenes and budget of the chapter's detector (quick profile by default)."""
    size: int = 64                # scene side, pixels
    n_train: int = 600
    n_val: int = 100
    n_test: int = 100
    steps: int = 600
    batch: int = 8
    lr: float = 3e-3

    @staticmethod
    def for_profile(profile: str) -> "Recipe":
        if profile not in ("quick", "full"):
            raise ValueError(f"profile must be 'quick' or 'full', got {profile!r}")
        if profile == "quick":
            return Recipe()
        return Recipe(size=128, n_train=4000, n_val=500, n_test=500, steps=3000)

    def config(self) -> SlidingWindowConfig:
        """The detector's windows and patch: the defaults on 64 px scenes, larger ones on 128 px."""
        return SlidingWindowConfig() if self.size == 64 else SlidingWindowConfig(sizes=(24, 34, 48, 68), patch=24)

    def scenes(self, split: str) -> list:
        """The (image, target) pairs of "train", "validation" or "test", each split from its own seed."""
        return split_scenes(self, split, SPLIT_SEEDS)


def train_detector(recipe: Recipe, seed: int, train: list, device: torch.device | str = "cpu",
                   progress: bool = True) -> tuple[SlidingWindowDetector, History]:
    """SlidingWindowDetector(recipe.config()) initialised from `seed`, trained on `train` ((image,
    target) pairs) for recipe.steps shuffled batches; returns (model, history)."""
    runtime.seed(seed)
    model = SlidingWindowDetector(recipe.config()).to(device)
    loader = DataLoader(train, batch_size=recipe.batch, shuffle=True, collate_fn=Scenes.collate)
    return model, fit(model, loader, steps=recipe.steps, lr=recipe.lr, progress=progress)


def seed_runs(recipe: Recipe, path: str | Path = SEEDS_FILE) -> dict:
    """The detector's test mAP@0.5 from other seeds: {"recipe", "test_map50": {seed: mAP}}."""
    return find_sweep(path, recipe, Recipe(), "python scripts/sliding_window_seeds.py")
