"""The dense-captioning chapter's recipe, its training, and the sweep that chose its settings.

    recipe = Recipe.for_profile(runtime.profile())
    train, val, test = recipe.scenes("train"), recipe.scenes("validation"), recipe.scenes("test")
    vocab = recipe.vocabulary(train)                 # the words of the training captions
    model, history = train_densecap(recipe, train, vocab, lr=1e-3, seed=0)
    best = chosen(load_sweep(SWEEP, recipe))         # {"lr", "beam", "word_weight", "val_map", ...}

DenseCap starts from the Faster R-CNN chapter's trained detector (`rcnn_family.start_from_faster_rcnn`:
its backbone, RPN and box head; the class head becomes a fresh object / background head) and keeps
the backbone's weights fixed (its batch-norm statistics still follow the training scenes): the RPN,
the box branch and the new caption branch train. The scene
size and RPN are the Faster R-CNN chapter's (`recipes.faster_rcnn.Recipe`), with more training
scenes (a caption says more than a class: more examples of each attribute).
`scripts/sweep_densecap.py` trains one DenseCap per learning rate, then, at the best of them, one
per weight of the auxiliary word head (`CaptionHeadConfig.word_weight`: not in the DenseCap paper),
decodes the validation scenes greedily and with a beam, and stores the validation scores; the test
scenes are never rendered by it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from .. import runtime
from ..data import Scenes
from ..models.captioning import CaptionHeadConfig, DenseCap, DenseCapConfig, Vocabulary
from ..models.detection import FasterRCNNConfig, RoIHeadsConfig, RPNConfig, detection_loader
from ..train import History, fit
from .rcnn_family import start_from_faster_rcnn
from .splits import split_scenes
from .sweeps import find_sweep

SWEEP = Path(__file__).resolve().parents[2] / "chapters" / "04-captioning" / "densecap_sweep.json"
SPLIT_SEEDS = {"train": 41, "validation": 43, "test": 42}


@dataclass(frozen=True)
class Recipe:
    """Scenes, budget, RPN and caption-branch sizes of the chapter (quick profile by default)."""
    size: int = 96                    # scene side, pixels
    n_train: int = 400
    n_val: int = 200                  # ~90 people: the pose of 24 (60 scenes) was too few to choose by
    n_test: int = 100
    steps: int = 1200
    batch_size: int = 4
    anchor_sizes: tuple[float, ...] = (12, 24, 48)
    pre_nms_top_n: int = 600
    post_nms_top_n: int = 300
    detections_per_img: int = 20      # captioned boxes per image at test time
    width: int = 192                  # the caption branch's region code and LSTM width

    @staticmethod
    def for_profile(profile: str) -> "Recipe":
        if profile not in ("quick", "full"):
            raise ValueError(f"profile must be 'quick' or 'full', got {profile!r}")
        return Recipe() if profile == "quick" else Recipe(n_train=3000, n_val=200, n_test=500, steps=4000)

    def scenes(self, split: str) -> list:
        """The (image, target) pairs of a split: "train", "validation" or "test"."""
        return split_scenes(self, split, SPLIT_SEEDS)

    @staticmethod
    def vocabulary(train) -> Vocabulary:
        """Every word of the training scenes' captions."""
        return Vocabulary.from_captions(c for _, t in train for c in t["captions"])

    def config(self, beam: int = 1, word_weight: float = 0.0) -> DenseCapConfig:
        rpn = RPNConfig(sizes=self.anchor_sizes, pre_nms_top_n_train=self.pre_nms_top_n,
                        post_nms_top_n_train=self.post_nms_top_n, pre_nms_top_n_test=self.pre_nms_top_n,
                        post_nms_top_n_test=self.post_nms_top_n)
        roi = RoIHeadsConfig(pooler="roi_align", detections_per_img=self.detections_per_img)
        return DenseCapConfig(detector=FasterRCNNConfig(num_classes=2, rpn=rpn, roi_heads=roi),
                              caption=CaptionHeadConfig(width=self.width, beam=beam, word_weight=word_weight))


def caption_loader(data, batch_size: int):
    """Shuffled batches (images, targets) with boxes and captions (labels dropped: DenseCap is
    class-agnostic). No left-right flips: a mirror would need "left" and "right" swapped too."""
    items = [(image, {"boxes": t["boxes"], "captions": t["captions"]}) for image, t in data]
    return torch.utils.data.DataLoader(items, batch_size=batch_size, shuffle=True, collate_fn=Scenes.collate)


def train_densecap(recipe: Recipe, train, vocab: Vocabulary, lr: float, seed: int = 0, beam: int = 1,
                   word_weight: float = 0.0, device: torch.device | str = "cpu",
                   progress: bool = True) -> tuple[DenseCap, History]:
    """A DenseCap: the family's Faster R-CNN's backbone (fixed), RPN and box head, the rest
    initialised from `seed`; trained on `train` for the recipe's steps at `lr` (with the auxiliary
    word head at `word_weight` > 0); returns (model in eval mode, decoding with `beam`, history)."""
    runtime.seed(seed)
    model = DenseCap(vocab, recipe.config(beam, word_weight))
    start_from_faster_rcnn(model, predictor=False)
    model.backbone.requires_grad_(False)
    model.to(device)
    history = fit(model, caption_loader(train, recipe.batch_size), steps=recipe.steps, lr=lr,
                  desc="DenseCap", progress=progress)
    return model.eval(), history


def load_sweep(path: str | Path, recipe: Recipe) -> dict:
    """The sweep of `recipe` in `path` (`sweeps.find_sweep`): {"recipe", "runs": [{"lr", "beam",
    "word_weight", "val_map", "val_box_map50", "val_exact_match", ...}]}."""
    return find_sweep(path, recipe, Recipe(), "python scripts/sweep_densecap.py")


def chosen(sweep: dict) -> dict:
    """The run of highest validation dense-captioning mAP (ties: the first)."""
    return max(sweep["runs"], key=lambda run: run["val_map"])
