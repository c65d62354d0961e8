"""The R-CNN family trained once: the YOLO / SSD chapter's speed table, and the Faster R-CNN
chapter's Fast R-CNN to compare with.

    models, map50 = load_family(device)   # {"sliding window", "R-CNN", "Fast R-CNN", "Faster R-CNN"}
    boxes = propose(image)                # the R-CNN chapters' selective search
    meta = start_from_faster_rcnn(model)  # Mask R-CNN, Keypoint R-CNN, DenseCap: Part 3b's detector

Each detector as its chapter trains it, on the same 120 training scenes of 96 px (seed 1,
`faster_rcnn.Recipe`), 600 steps from seed 0: R-CNN on warped selective-search proposals (2 images
of 32 crops a step, lr 1e-3); Fast R-CNN with RoI pooling on the same proposals (4 images, lr
1e-3); Faster R-CNN with the pooler and learning rate of its validation sweep; the sliding-window
detector with the Fast R-CNN chapter's windows for 96 px images (8 images, lr 3e-3, the
sliding-window chapter's budget). Each is then scored once on the chapters' 50 test scenes (seed
2): the held-out mAP@0.5 is stored with its weights. Training and scoring them would take those
chapters' minutes again, so `scripts/train_rcnn_family.py` does it once and stores the weights
(float16, about 3 MB) in chapters/03-detection/weights/, which `load_family` reads.

Part 4 and Part 5 add a branch to this Faster R-CNN: `start_from_faster_rcnn` copies its backbone,
RPN and box head (and its class head, where the classes are the same) into a model with a new
branch, which then trains for fewer steps than from scratch.
"""
from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import Tensor, nn

from .. import runtime
from ..data import Scenes
from ..metrics import detection_map
from ..models.detection import (RCNN, FastRCNN, FastRCNNConfig, FasterRCNN, RCNNConfig, RoIHeadsConfig,
                                SlidingWindowConfig, SlidingWindowDetector, detect, detection_loader,
                                proposal_loader)
from ..progress import progress_bar
from ..proposals import FAST, Strategy, selective_search
from ..train import fit, load, save
from .faster_rcnn import SPLIT_SEEDS, SWEEP, Recipe, chosen, load_sweep

WEIGHTS = Path(__file__).resolve().parents[2] / "chapters" / "03-detection" / "weights"
# the fast set of hierarchies plus a finer Felzenszwalb k, as the Fast R-CNN chapter proposes
STRATEGIES = FAST + tuple(Strategy(s.colour_space, 25.0, s.similarities) for s in FAST if s.k == 50.0)
WINDOWS = SlidingWindowConfig(sizes=(18, 26, 36, 51, 72), patch=20)     # window sides for 96 px images
NEEDS_PROPOSALS = ("R-CNN", "Fast R-CNN")
N_TEST = 50


def propose(image: Tensor, cache: bool = True) -> Tensor:
    """Selective search proposals of one image [3, H, W]: [N, 4] xyxy pixels, best first."""
    return selective_search(image, strategies=STRATEGIES, cache=cache)


def _builders(recipe: Recipe) -> tuple[dict, float]:
    """Constructors of the three trained detectors, and Faster R-CNN's learning rate (its sweep's choice)."""
    best = chosen(load_sweep(SWEEP, recipe))
    return {"sliding window": lambda: SlidingWindowDetector(WINDOWS),
            "R-CNN": lambda: RCNN(RCNNConfig(roi_heads=RoIHeadsConfig(rois_per_image=32))),
            "Fast R-CNN": lambda: FastRCNN(FastRCNNConfig(roi_heads=RoIHeadsConfig(pooler="roi_pool"))),
            "Faster R-CNN": lambda: FasterRCNN(recipe.config(best["pooler"]))}, best["lr"]


def _file(name: str) -> Path:
    return WEIGHTS / (name.lower().replace(" ", "_").replace("-", "") + ".pt")


def train_family(recipe: Recipe | None = None, device: torch.device | str = "cpu") -> dict[str, nn.Module]:
    """Train the four detectors on the training scenes of `recipe` (seed 0 each), score each on the test
    scenes, and save their weights with that score."""
    recipe = recipe or Recipe()
    scenes = {split: Scenes(n, seed=SPLIT_SEEDS[split], size=recipe.size)
              for split, n in (("train", recipe.n_train), ("test", N_TEST))}
    train, test = (s[:] for s in scenes.values())
    build, faster_lr = _builders(recipe)
    proposals = {split: [propose(image) for image, _ in progress_bar(items, desc=f"selective search ({split})")]
                 for split, items in (("train", train), ("test", test))}
    plans = {"sliding window": (detection_loader(train, 8), 3e-3),
             "R-CNN": (proposal_loader(train, proposals["train"], 2), 1e-3),
             "Fast R-CNN": (proposal_loader(train, proposals["train"], recipe.batch_size), 1e-3),
             "Faster R-CNN": (detection_loader(train, recipe.batch_size), faster_lr)}
    models = {}
    for name, (loader, lr) in plans.items():
        runtime.seed(0)
        models[name] = build[name]().to(device)
        fit(models[name], loader, steps=recipe.steps, lr=lr, desc=name)
        found = detect(models[name], test, proposals["test"] if name in NEEDS_PROPOSALS else None)
        map50 = detection_map(found, [t for _, t in test])["map_50"]
        save(copy.deepcopy(models[name]).half(), _file(name), trained_on=f"{recipe.n_train} scenes, seed 1",
             steps=recipe.steps, lr=lr, test_map50=round(map50, 4), test_scenes=f"{N_TEST} scenes, seed 2")
        print(f"{name}: held-out mAP@0.5 {map50:.3f}")
    return models


def load_family(device: torch.device | str = "cpu", recipe: Recipe | None = None
                ) -> tuple[dict[str, nn.Module], dict[str, float]]:
    """The four detectors of the R-CNN family in eval mode, from the weights train_family saved, and
    the held-out mAP@0.5 of each (measured by train_family on the 50 test scenes)."""
    build, _ = _builders(recipe or Recipe())
    models, map50 = {}, {}
    for name, make in build.items():
        models[name] = make()
        map50[name] = _load_trained(name, models[name])["test_map50"]
        models[name].to(device).eval()
    return models, map50


def _load_trained(name: str, model: nn.Module) -> dict:
    """The weights train_family saved for `name` into `model` (float16 on disk, float32 in the
    model); returns their meta. FileNotFoundError naming the script that makes them."""
    if not _file(name).is_file():
        raise FileNotFoundError(f"no weights at {_file(name)}: run `python scripts/train_rcnn_family.py`")
    return load(model, _file(name))


PARTS = ("backbone.", "proposal_generator.", "roi_heads.box_head.")   # what every two-stage model shares


def start_from_faster_rcnn(model: nn.Module, predictor: bool = True) -> dict:
    """Copy the family's Faster R-CNN into `model` (a two-stage detector with a new branch): its
    backbone, RPN and box head, and with predictor=True its class and box head (same classes). The
    rest of `model` (the new branch) keeps its initial weights. Returns the checkpoint's meta (what
    it was trained on, its held-out mAP@0.5). ValueError naming the parts that do not fit."""
    build, _ = _builders(Recipe())
    faster = build["Faster R-CNN"]()
    meta = _load_trained("Faster R-CNN", faster)
    parts = PARTS + ("roi_heads.predictor.",) * predictor
    source = {k: v for k, v in faster.state_dict().items() if k.startswith(parts)}
    own = model.state_dict()
    wrong = [f"{k} {tuple(v.shape)}" + (f" (model: {tuple(own[k].shape)})" if k in own else " (not in model)")
             for k, v in source.items() if k not in own or own[k].shape != v.shape]
    if wrong:
        raise ValueError(f"the Faster R-CNN does not fit this {type(model).__name__}: {wrong[:4]}")
    model.load_state_dict(source, strict=False)
    return meta
