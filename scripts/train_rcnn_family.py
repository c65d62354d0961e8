"""Train the R-CNN family once and store its weights for the YOLO / SSD chapter's speed table.

    python scripts/train_rcnn_family.py        # ~6 min on 2 cores: chapters/03-detection/weights/*.pt

The sliding-window detector, Fast R-CNN and Faster R-CNN, each as its chapter trains it on the
same training scenes (cvlib.recipes.rcnn_family); R-CNN reuses Fast R-CNN's weights.
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
