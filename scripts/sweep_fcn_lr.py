"""Choose the learning rate of Part 1's down/up FCNs on validation scenes.

    python scripts/sweep_fcn_lr.py                    # quick profile: 4 methods x 3 lrs x 3 seeds, ~17 min on 2 cores
    python scripts/sweep_fcn_lr.py --profile full     # the GPU profile's recipe
    python scripts/sweep_fcn_lr.py --set steps=450 --out /tmp/sweep.json   # try another recipe

Trains a DownUpFCN for every upsampling method, learning rate and initial seed with the
recipe of cvlib.recipes.fcn, scores it on the validation scenes (seed 3; the test
scenes are never rendered) and writes the validation mIoU of every run into
chapters/01-semantic/lr_sweep.json (or --out), replacing the sweep of the same recipe.
The chapters read it with load_sweep / chosen_lr.

The scenes are rendered once, in parallel, and handed to the training processes through
files in a temporary folder. Each process trains on runtime.device(): on a GPU, several
processes share it.
"""
from __future__ import annotations

import argparse
import functools
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields, replace
from pathlib import Path

import torch

from cvlib import runtime
from cvlib.models.segmentation.fcn import UPSAMPLING
from cvlib.models.segmentation.semantic import SemanticData, evaluate
from cvlib.recipes.fcn import SPLIT_SEEDS, Recipe, train_fcn
from cvlib.recipes.sweeps import store_sweep

OUT = Path(__file__).resolve().parent.parent / "chapters" / "01-semantic" / "lr_sweep.json"
LRS = (2e-3, 4e-3, 8e-3)
SEEDS = (0, 1, 2)


def render_chunk(n: int, seed: int, size: int, start: int, stop: int) -> SemanticData:
    """Scenes start..stop-1 of SemanticData.from_scenes(n, seed, size)."""
    return SemanticData.from_scenes(n, seed, size, indices=range(start, stop))


def render(recipe: Recipe, split: str, pool: ProcessPoolExecutor, chunk: int = 100) -> SemanticData:
    """recipe.scenes(split), rendered by the pool's processes in chunks of `chunk` scenes."""
    n = getattr(recipe, f"n_{split}")
    parts = list(pool.map(render_chunk, *zip(*[(n, SPLIT_SEEDS[split], recipe.size, a, min(a + chunk, n))
                                               for a in range(0, n, chunk)])))
    return SemanticData(torch.cat([p.images for p in parts]), torch.cat([p.labels for p in parts]))


@functools.lru_cache(maxsize=None)
def load(path: str) -> SemanticData:
    """Loaded once per training process."""
    return SemanticData(**torch.load(path))


def run(recipe: Recipe, folder: str, method: str, lr: float, seed: int) -> float:
    """Validation mIoU of one training."""
    model, _ = train_fcn(method, lr, seed, load(f"{folder}/train.pt"), recipe, device=runtime.device(),
                         progress=False)
    return evaluate(model, load(f"{folder}/val.pt"))["miou"]


def parse_set(items: list[str]) -> dict:
    """["steps=450", "size=48"] -> {"steps": 450, "size": 48}: overrides of Recipe's fields (all ints)."""
    names = {f.name for f in fields(Recipe)}
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in names or not value.isdigit():
            raise SystemExit(f"--set takes FIELD=INT with FIELD one of {sorted(names)}, got {item!r}")
        out[key] = int(value)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="quick", choices=("quick", "full"))
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=INT",
                        help="change one field of the profile's Recipe (repeatable)")
    parser.add_argument("--seeds", type=int, nargs="+", default=SEEDS, help="initial seeds of each setting")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="parallel trainings (one per CPU core)")
    parser.add_argument("--out", type=Path, default=OUT, help="the JSON file to update")
    args = parser.parse_args()
    recipe = replace(Recipe.for_profile(args.profile), **parse_set(args.set))
    print(recipe, flush=True)
    jobs = [(m, lr, s) for m in UPSAMPLING for lr in LRS for s in args.seeds]
    start = time.perf_counter()
    val_miou = {m: {str(lr): [] for lr in LRS} for m in UPSAMPLING}
    # spawn: fresh processes, safe after torch has started its threads, and each may open the GPU;
    # one torch thread each (SWEEP_THREADS), as the processes share the cores
    threads = int(os.environ.get("SWEEP_THREADS", "1"))
    with tempfile.TemporaryDirectory() as folder, \
            ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn"),
                                initializer=torch.set_num_threads, initargs=(threads,)) as pool:
        for split in ("train", "val"):      # never "test"
            data = render(recipe, split, pool)
            torch.save({"images": data.images, "labels": data.labels}, f"{folder}/{split}.pt")
        print(f"rendered {recipe.n_train} training and {recipe.n_val} validation scenes "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
        scores = pool.map(run, *zip(*[(recipe, folder, m, lr, s) for m, lr, s in jobs]))
        for (m, lr, s), score in zip(jobs, scores):
            val_miou[m][str(lr)].append(round(score, 4))
            print(f"{m:13s} lr {lr:g} seed {s}: validation mIoU {score:.3f}  ({time.perf_counter() - start:.0f} s)",
                  flush=True)
    store_sweep(args.out, recipe, lrs=list(LRS), seeds=list(args.seeds), val_miou=val_miou)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
