"""The pose chapter's recipe (Part 2): one person per image, its 14 joints regressed by a PoseRegressor.

    recipe = Recipe.for_profile(runtime.profile())
    train, val, test = (recipe.people(s) for s in SPLIT_SEEDS)   # (images, keypoints, poses) each
    best_lr, head = chosen(load_sweep(recipe))           # validation choices (scripts/sweep_pose.py)
    model, history = train_pose(recipe, head, best_lr[head], train, device)
    joints = predict(model, test[0])                     # [N, 14, 2] pixels

Every split draws one stick-figure person per image (`Scenes(n, n_objects=(1, 1),
classes=("person",))`), filling most of the image's height, from its own seed. Both heads of
`PoseRegressor` ("fc" and "soft-argmax") train with the same backbone widths, batch and steps;
only the learning rate is each head's own. `scripts/sweep_pose.py` trains each head at every rate
of its grid (`LRS`) on the training people and scores it by PCK@0.2 on the validation people (the
test people are never rendered by it); `chosen` takes each head's best rate and the better head.
The chapter trains the two heads at their chosen rates and uses the test people once.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from .. import runtime
from ..data.captions import parse
from ..models.localization.pose import HEADS, PoseConfig, PoseRegressor, pose_step
from ..train import History, fit, shuffled_batches
from .splits import split_scenes
from .sweeps import find_sweep

__all__ = ["HEADS", "LRS", "Recipe", "SPLIT_SEEDS", "SWEEP", "chosen", "load_sweep", "predict", "train_pose"]

SWEEP = Path(__file__).resolve().parents[2] / "chapters" / "02-localization" / "pose_sweep.json"
SPLIT_SEEDS = {"train": 1, "validation": 4, "test": 2}     # the Scenes seed of each split
LRS = {"fc": (3e-4, 1e-3, 3e-3),                # a grid per head: the FC head trains best at lower rates
       "soft-argmax": (3e-3, 1e-2, 3e-2)}


@dataclass(frozen=True)
class Recipe:
    """People, budget and backbone of one profile (quick by default; seeds `SPLIT_SEEDS`)."""
    size: int = 64                                  # image side, pixels
    n_train: int = 2000
    n_val: int = 500
    n_test: int = 500
    steps: int = 250
    batch: int = 32
    widths: tuple[int, ...] = (16, 32, 64, 128)     # PoseConfig.widths: the backbone's stages
    person_scale: tuple[float, float] = (0.6, 0.8)  # the person's height, a fraction of the image's

    @staticmethod
    def for_profile(profile: str) -> "Recipe":
        if profile not in ("quick", "full"):
            raise ValueError(f"profile must be 'quick' or 'full', got {profile!r}")
        if profile == "quick":
            return Recipe()
        return Recipe(size=128, n_train=20000, steps=5000, batch=128, widths=(32, 64, 128, 256, 256))

    def config(self, head: str) -> PoseConfig:
        """The regressor with `head` ("fc" or "soft-argmax") on this recipe's backbone."""
        return PoseConfig(head=head, widths=self.widths)

    def people(self, split: str) -> tuple[Tensor, Tensor, list[str]]:
        """The people of "train", "validation" or "test": (images [N, 3, S, S], keypoints [N, 14, 3]
        (x, y, v) pixels, the pose of each, read from its caption: "standing", "kicking", ...)."""
        items = split_scenes(self, split, SPLIT_SEEDS, n_objects=(1, 1), classes=("person",),
                             person_scale=self.person_scale)
        images = torch.stack([image for image, _ in items])
        keypoints = torch.cat([t["keypoints"] for _, t in items])            # [N, 14, 3]
        poses = [parse(t["captions"][0])["pose"] for _, t in items]          # "person in red kicking ..."
        return images, keypoints, poses


def train_pose(recipe: Recipe, head: str, lr: float, train: tuple, device: torch.device | str = "cpu",
               progress: bool = True, seed: int = 0) -> tuple[PoseRegressor, History]:
    """A PoseRegressor with `head`, initialised from `seed` and trained on train = (images, keypoints,
    ...) for recipe.steps batches of recipe.batch people at `lr`; returns (model, history)."""
    runtime.seed(seed)
    model = PoseRegressor(recipe.config(head)).to(device)
    batches = shuffled_batches(train[0], train[1], batch_size=recipe.batch, seed=seed)
    history = fit(model, batches, steps=recipe.steps, step_fn=pose_step, lr=lr, desc=f"{head}, lr {lr:g}",
                  progress=progress)
    return model, history


@torch.no_grad()
def predict(model: PoseRegressor, images: Tensor) -> Tensor:
    """The joints of `images` [N, 3, H, W]: [N, 14, 2] (x, y) pixels, on the CPU (the model is put in
    eval mode and run on its own device)."""
    model.eval()
    out = model(images.to(next(model.parameters()).device))
    return torch.cat([o["keypoints"][..., :2] for o in out]).cpu()


def load_sweep(recipe: Recipe, path: str | Path = SWEEP) -> dict:
    """The learning-rate sweep of `recipe`: {"recipe", "runs": [{"head", "lr", "seed", "val_pck",
    "seconds"}]} (the quick profile's, with a warning, where `recipe` has none; `sweeps.find_sweep`)."""
    return find_sweep(path, recipe, Recipe(), "python scripts/sweep_pose.py")


def chosen(sweep: dict) -> tuple[dict[str, float], str]:
    """({head: its learning rate of highest validation PCK@0.2}, the head whose best run is highest);
    heads in the order of the sweep's runs, ties: the first."""
    best: dict[str, dict] = {}
    for run in sweep["runs"]:
        if run["head"] not in best or run["val_pck"] > best[run["head"]]["val_pck"]:
            best[run["head"]] = run
    if not best:
        raise ValueError("the sweep has no runs: run `python scripts/sweep_pose.py`")
    head = max(best, key=lambda h: best[h]["val_pck"])
    return {h: float(run["lr"]) for h, run in best.items()}, head
