"""The YOLO / SSD chapter's recipe, and the choices made for it on validation scenes.

    recipe = Recipe.for_profile(runtime.profile())
    sweep = load_sweep(SWEEP, recipe)                       # written by scripts/sweep_one_stage.py
    yolo_run = chosen(sweep, "yolo", recipe.n_train)        # {"model", "lr", "cell", "val_map50", ...}
    ssd_run = chosen(sweep, "ssd", recipe.n_train)
    models, histories = train_side_by_side({"yolo": (recipe.config(yolo_run), yolo_run["lr"]),
                                            "ssd": (recipe.config(ssd_run), ssd_run["lr"])}, 0, train, recipe)

The Faster R-CNN chapter's scenes (96 px; seeds 1 train, 3 validation, 2 test) and batches, with
more training scenes and steps: on the R-CNN family's 120 scenes a one-stage detector learns its
training scenes far better than the validation scenes (the sweep measures both, and the chapter
prints them). The sweep trains every model at every choice on the training scenes and scores it on
the validation scenes; the test scenes are never rendered by it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from .. import runtime
from ..models.detection import SSD, YOLO, SSDConfig, YOLOConfig, detection_loader
from ..train import History, fit
from .faster_rcnn import SPLIT_SEEDS
from .parallel import train_models
from .sweeps import find_sweep

SWEEP = Path(__file__).resolve().parents[2] / "chapters" / "03-detection" / "yolo_ssd_sweep.json"
MODELS = ("yolo", "ssd")
__all__ = ["MODELS", "Recipe", "SPLIT_SEEDS", "SWEEP", "build", "chosen", "load_sweep", "train_one",
           "train_side_by_side"]


@dataclass(frozen=True)
class Recipe:
    """Scenes and budget of the chapter (quick profile by default)."""
    size: int = 96                    # scene side, pixels
    n_train: int = 360
    n_val: int = 40
    steps: int = 900
    batch_size: int = 4

    @staticmethod
    def for_profile(profile: str) -> "Recipe":
        if profile not in ("quick", "full"):
            raise ValueError(f"profile must be 'quick' or 'full', got {profile!r}")
        return Recipe() if profile == "quick" else Recipe(n_train=3000, n_val=200, steps=6000)

    def config(self, run: dict) -> YOLOConfig | SSDConfig:
        """The model config of a sweep run ({"model": "yolo" or "ssd", and YOLO's "cell"})."""
        if run.get("model") not in MODELS:
            raise ValueError(f"run['model'] must be one of {tuple(MODELS)}, got {run.get('model')!r}")
        return YOLOConfig(cell=run["cell"]) if run["model"] == "yolo" else SSDConfig()


def build(cfg: YOLOConfig | SSDConfig) -> YOLO | SSD:
    """The model of a config: YOLO(cfg) or SSD(cfg)."""
    if not isinstance(cfg, (YOLOConfig, SSDConfig)):
        raise TypeError(f"cfg must be a YOLOConfig or an SSDConfig, got {type(cfg).__name__}")
    return YOLO(cfg) if isinstance(cfg, YOLOConfig) else SSD(cfg)


def train_one(cfg: YOLOConfig | SSDConfig, lr: float, seed: int, train: list, recipe: Recipe,
              device: torch.device | str = "cpu", progress: bool = True):
    """The model of `cfg` (YOLO or SSD), initialised from `seed`, trained on `train` ((image, target)
    pairs); returns (model in eval mode, history)."""
    runtime.seed(seed)
    model = build(cfg).to(device)
    history = fit(model, detection_loader(train, recipe.batch_size), steps=recipe.steps, lr=lr,
                  desc=f"{type(model).__name__}, lr {lr:g}", progress=progress)
    return model.eval(), history


def train_side_by_side(runs: dict[str, tuple], seed: int, train: list, recipe: Recipe,
                       device: torch.device | str = "cpu") -> tuple[dict, dict[str, History]]:
    """train_one for each {name: (cfg, lr)}, side by side on a CPU (`parallel.train_models`);
    returns ({name: model}, {name: history})."""
    tasks = {name: (cfg, lr, seed, train, recipe, str(device)) for name, (cfg, lr) in runs.items()}
    return train_models(train_one, tasks, lambda name: build(runs[name][0]), device)


def load_sweep(path: str | Path, recipe: Recipe) -> dict:
    """The sweep of `recipe` in `path`: {"recipe", "runs": [{"model", "lr", "cell", "n_train", "seed",
    "val_map50", "val_map", "train_map50"}]} (the quick profile's, with a warning, where `recipe` has
    none; `sweeps.find_sweep`)."""
    return find_sweep(path, recipe, Recipe(), "python scripts/sweep_one_stage.py")


def chosen(sweep: dict, model: str, n_train: int) -> dict:
    """The run of `model` ("yolo" or "ssd") on `n_train` training scenes of highest validation mAP@0.5
    (ties: the first)."""
    runs = [run for run in sweep["runs"] if run["model"] == model and run["n_train"] == n_train]
    if not runs:
        raise ValueError(f"the sweep has no run of {model!r} on {n_train} training scenes")
    return max(runs, key=lambda run: run["val_map50"])
