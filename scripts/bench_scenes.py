"""Scenes per second: the renderer scene by scene, against a split read through the disk cache.

    python scripts/bench_scenes.py                 # 1000 scenes of 128 px
    python scripts/bench_scenes.py --n 300 --size 64 --out results/bench-scenes.json

Three ways to get the same split as tensors (images stacked, every target in memory):
  render      Scenes[i] for each i, as every chapter did before the cache
  first read  scenes[:] with an empty cache: rendered (in processes on 4 or more cores), stored
  cached read scenes[:] again: read back from the file
All three must have the same sha256 (cvlib.data.cache.digest) of every pixel and target. The cache goes to a temporary folder.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def timed(get):
    """(seconds, items): the time to get the items and stack their images (every pixel touched)."""
    start = time.perf_counter()
    items = get()
    torch.stack([image for image, _ in items])
    return time.perf_counter() - start, items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="scenes in the split")
    parser.add_argument("--size", type=int, default=128, help="pixels per side")
    parser.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        os.environ["CVLIB_CACHE"] = folder
        from cvlib.data import Scenes, cache
        from cvlib.data.scenes import render_workers

        scenes = Scenes(args.n, seed=1, size=args.size)
        seconds, items = {}, {}
        seconds["render"], items["render"] = timed(lambda: [scenes[i] for i in range(args.n)])
        seconds["first read"], items["first read"] = timed(lambda: scenes[:])
        seconds["cached read"], items["cached read"] = timed(lambda: scenes[:])
        digests = {name: cache.digest(found) for name, found in items.items()}
        if len(set(digests.values())) != 1:
            raise SystemExit(f"the cache changed the scenes: {digests}")

    figures = dict(n=args.n, size=args.size, cores=os.cpu_count(), render_workers=render_workers(args.n),
                   machine=platform.node(), sha256=digests["render"],
                   scenes_per_second={k: round(args.n / s, 1) for k, s in seconds.items()},
                   speedup={k: round(seconds["render"] / s, 2) for k, s in seconds.items() if k != "render"})
    for name, s in seconds.items():
        print(f"{name:12s} {s:7.2f} s   {args.n / s:9.1f} scenes/s   x{seconds['render'] / s:6.1f}")
    print("every scene identical to the renderer's: yes")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
