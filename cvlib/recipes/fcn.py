"""How Part 1 trains its down/up FCNs, and the learning rate chosen for them on validation scenes.

    recipe = Recipe.for_profile(runtime.profile())
    train, val, test = recipe.data()                          # three seeds: fit, choose, report
    sweep = load_sweep("lr_sweep.json", recipe)                # written by scripts/sweep_fcn_lr.py
    model, history = train_fcn("transpose", chosen_lr(sweep, "transpose"), seed=0, train=train, recipe=recipe)
    models, histories = train_fcns({m: chosen_lr(sweep, m) for m in UPSAMPLING}, 0, train, recipe)  # side by side

The FCN and upsampling chapters train the same DownUpFCN on the same data, with the same
steps, batch and width; only the upsampling method changes. The learning rate is chosen,
not guessed: `scripts/sweep_fcn_lr.py` trains every method at several learning rates and
several initial seeds, scores each model on the *validation* scenes, and writes the table to
`chapters/01-semantic/lr_sweep.json`. `chosen_lr` takes, per method, the learning rate
with the best mean validation mIoU. The FCN chapter's full-resolution network (`train_full_res`, on
the down/up network's training compute) gets its own rate from `scripts/sweep_full_res_lr.py`.
The test scenes play no part in any choice; `scripts/upsampling_seeds.py` scores the sweep's other
seeds on them after the choice, for the spread the upsampling chapter shows (`seed_runs`).
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .. import runtime
from ..cost import count_macs
from ..models.segmentation.fcn import DownUpFCN, FCNConfig, FullResFCN
from ..models.segmentation.semantic import SemanticData, class_weights, segmentation_step
from ..train import History, fit
from ..viz import Table
from .parallel import train_models
from .sweeps import find_sweep

SPLIT_SEEDS = {"train": 1, "val": 3, "test": 2}   # the Scenes seed of each split
FULL_RES_SWEEP = Path(__file__).resolve().parents[2] / "chapters" / "01-semantic" / "full_res_sweep.json"
SEEDS_FILE = Path(__file__).resolve().parents[2] / "chapters" / "01-semantic" / "upsampling_seeds.json"


@dataclass(frozen=True)
class Recipe:
    """Data, budget and model size of one profile (seeds: 1 train, 3 validation, 2 test)."""
    size: int = 48
    n_train: int = 1500
    n_val: int = 200
    n_test: int = 200
    steps: int = 900
    batch: int = 16
    width: int = 8
    convs: int = 2        # 3 x 3 convolutions per stage (FCNConfig.convs)

    @classmethod
    def for_profile(cls, profile: str) -> "Recipe":
        if profile == "quick":
            return cls()
        if profile == "full":
            return cls(size=128, n_train=8000, n_val=500, n_test=500, steps=4000, batch=32, width=16)
        raise ValueError(f"profile must be 'quick' or 'full', got {profile!r}")

    def scenes(self, split: str) -> SemanticData:
        """The scenes of one split, "train", "val" or "test", each from its own seed."""
        if split not in SPLIT_SEEDS:
            raise ValueError(f"split must be one of {tuple(SPLIT_SEEDS)}, got {split!r}")
        return SemanticData.from_scenes(getattr(self, f"n_{split}"), seed=SPLIT_SEEDS[split], size=self.size)

    def data(self) -> tuple[SemanticData, SemanticData, SemanticData]:
        """(train, validation, test) scenes."""
        return self.scenes("train"), self.scenes("val"), self.scenes("test")

    def fcn_config(self, upsample: str = "transpose") -> FCNConfig:
        """The down/up FCN of this recipe (skip connections on), upsampling by `upsample`."""
        return FCNConfig(width=self.width, convs=self.convs, upsample=upsample, skip=True)


def train_fcn(method: str, lr: float, seed: int, train: SemanticData, recipe: Recipe,
              device: torch.device | str = "cpu", progress: bool = True) -> tuple[DownUpFCN, History]:
    """A DownUpFCN with `method` upsampling and skip connections, initialised from `seed` and
    trained on `train` with the class-weighted loss; returns (model, history)."""
    return _train(lambda: DownUpFCN(recipe.fcn_config(method)), recipe.steps, lr, seed, train, recipe, device,
                  f"{method}, lr {lr:g}", progress)


def _train(build, steps: int, lr: float, seed: int, train: SemanticData, recipe: Recipe, device, desc: str,
           progress: bool):
    """build() from `seed`, trained on `train` for `steps` batches of recipe.batch scenes with the
    class-weighted loss; (model, history)."""
    runtime.seed(seed)
    model = build().to(device)
    step = functools.partial(segmentation_step, weight=class_weights(train))
    history = fit(model, train.loader(recipe.batch), steps=steps, step_fn=step, lr=lr, desc=desc,
                  progress=progress)
    return model, history


def full_res_steps(recipe: Recipe) -> int:
    """The steps that give FullResFCN the training compute of recipe.steps of the down/up FCN: fewer, in
    the ratio of their multiply-accumulates per image."""
    config, image = recipe.fcn_config("transpose"), torch.zeros(1, 3, recipe.size, recipe.size)
    return round(recipe.steps * count_macs(DownUpFCN(config), image) / count_macs(FullResFCN(config), image))


def train_full_res(lr: float, seed: int, train: SemanticData, recipe: Recipe, device: torch.device | str = "cpu",
                   progress: bool = True, steps: int | None = None) -> tuple[FullResFCN, History]:
    """The FCN chapter's full-resolution network (the down/up FCN's conv blocks, no pooling), initialised
    from `seed` and trained as train_fcn trains, for `steps` (default `full_res_steps(recipe)`: the
    down/up FCN's compute); returns (model, history)."""
    steps = full_res_steps(recipe) if steps is None else steps
    return _train(lambda: FullResFCN(recipe.fcn_config("transpose")), steps, lr, seed, train,
                  recipe, device, f"full resolution, lr {lr:g}", progress)


def train_fcns(lrs: dict[str, float], seed: int, train: SemanticData, recipe: Recipe,
               device: torch.device | str = "cpu", jobs: int | None = None
               ) -> tuple[dict[str, DownUpFCN], dict[str, History]]:
    """train_fcn for every method of `lrs` ({method: learning rate}), from the same `seed`;
    returns ({method: model}, {method: history}) in the order of `lrs`.

    The trainings are independent: on a CPU they run side by side in `jobs` processes
    (`parallel.train_models`: default one per core, each with its share of the cores as torch
    threads), which is faster than one training at a time with every core; on a GPU one after
    the other. Each training is exactly train_fcn's with that many threads.
    """
    tasks = {m: (m, lr, seed, train, recipe, str(device)) for m, lr in lrs.items()}
    return train_models(train_fcn, tasks, lambda m: DownUpFCN(recipe.fcn_config(m)), device, jobs,
                        desc="FCN trainings")


# ---------------------------------------------------------------- the sweep's results

def load_sweep(path: str | Path, recipe: Recipe) -> dict:
    """The sweep of `recipe`: {"recipe", "lrs", "seeds", "val_miou": {method: {lr: [mIoU per seed]}}}
    (the quick profile's, with a warning, where `recipe` has none; `sweeps.find_sweep`)."""
    return find_sweep(path, recipe, Recipe(), "python scripts/sweep_fcn_lr.py")


def chosen_lr(sweep: dict, method: str) -> float:
    """The learning rate with the best mean validation mIoU over the seeds, for `method`."""
    runs = sweep["val_miou"][method]
    return float(max(runs, key=lambda lr: sum(runs[lr]) / len(runs[lr])))


def sweep_run(sweep: dict, recipe: Recipe, method: str, seed: int = 0) -> float | None:
    """The validation mIoU of the sweep's run of `method` from `seed` at its chosen learning
    rate; None when the sweep is of another recipe (a fallback) or has no run from `seed`."""
    if sweep["recipe"] != asdict(recipe) or seed not in sweep["seeds"]:
        return None
    return sweep["val_miou"][method][str(chosen_lr(sweep, method))][sweep["seeds"].index(seed)]


def load_full_res_sweep(recipe: Recipe, path: str | Path = FULL_RES_SWEEP) -> dict:
    """The full-resolution network's learning-rate sweep (`scripts/sweep_full_res_lr.py`):
    {"recipe", "steps", "runs": [{"lr", "seed", "val_miou", "seconds"}]}."""
    return find_sweep(path, recipe, Recipe(), "python scripts/sweep_full_res_lr.py")


def chosen_full_res_lr(sweep: dict) -> float:
    """The learning rate of highest validation mIoU (ties: the first)."""
    return float(max(sweep["runs"], key=lambda run: run["val_miou"])["lr"])


def seed_runs(recipe: Recipe, path: str | Path = SEEDS_FILE) -> dict:
    """The test mIoU of every method from the sweep's other seeds, at its chosen learning rate
    (`scripts/upsampling_seeds.py`): {"recipe", "lrs": {method: lr}, "test_miou": {method: {seed: mIoU}}}."""
    return find_sweep(path, recipe, Recipe(), "python scripts/upsampling_seeds.py")


def sweep_table(sweep: dict) -> Table:
    """Validation mIoU, mean and spread (min to max) over the seeds, one row per method, one column per lr."""
    rows = []
    for method, runs in sweep["val_miou"].items():
        cells = [f"{sum(v) / len(v):.3f} ({min(v):.2f} to {max(v):.2f})" for v in runs.values()]
        rows.append([method, *cells, f"{chosen_lr(sweep, method):g}"])
    return Table(rows, ["upsampling", *[f"lr {float(lr):g}" for lr in sweep["lrs"]], "chosen lr"])
