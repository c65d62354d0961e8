"""Train the R-CNN family once and store its weights: the YOLO / SSD chapter's speed table and the
Faster R-CNN chapter's Fast R-CNN read them.

    OMP_NUM_THREADS=1 python scripts/train_rcnn_family.py    # ~15 min: chapters/03-detection/weights/*.pt

The sliding-window detector, R-CNN, Fast R-CNN and Faster R-CNN, each as its chapter trains it on
the same training scenes, then scored once on the test scenes (cvlib.recipes.rcnn_family). The
committed weights were made with one thread (a training's numbers depend on the thread count).
"""
from __future__ import annotations

import time

from cvlib import runtime
from cvlib.recipes.rcnn_family import WEIGHTS, train_family


def main() -> int:
    start = time.perf_counter()
    train_family(device=runtime.device())
    sizes = {p.name: p.stat().st_size for p in sorted(WEIGHTS.glob("*.pt"))}
    print(f"trained in {time.perf_counter() - start:.0f} s; {WEIGHTS}: {sizes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
