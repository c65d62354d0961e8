"""The keypoint chapter's recipe: Keypoint R-CNN and Part 2's pose regressor on the same people.

    recipe = Recipe.for_profile(runtime.profile())
    train = recipe.scenes("train")                      # scenes with several people and shapes
    lr, scale = recipe.lr(), chosen_scale(load_sweep(recipe), recipe)  # validation choices
    models, histories = train_side_by_side(recipe, lr, scale, train, device)   # both models
    crops, boxes = person_crops(image, boxes, recipe.crop)              # what the regressor sees
    keypoints = uncrop(crop_keypoints, boxes, recipe.crop)              # back to image pixels

Keypoint R-CNN is the Mask R-CNN chapter's recipe (`recipes.mask_rcnn`: the Faster R-CNN chapter's
scene size, anchors, RPN and batch, RoIAlign, the head's width, and the learning rate the Faster
R-CNN sweep chose for RoIAlign on its validation scenes) with the keypoint branch in place of the
mask branch. It starts, as Mask R-CNN does, from the Faster R-CNN chapter's trained detector
(`rcnn_family.start_from_faster_rcnn`), then trains all of it for `steps`. How much the branch
grows each box before pooling it (`KeypointHeadConfig.box_scale`) is chosen on this chapter's
validation scenes by `scripts/sweep_keypoint_rcnn.py` (`SWEEP`), which also trains, at that
scale, torchvision's larger heatmap (56 x 56), half the steps, the fewer scenes and steps of an
earlier version of this chapter (480 training scenes, 800 steps) and the branch without its
coordinate channels (`KeypointHeadConfig.coordinates`, which torchvision's has not), to show what
the recipe's 28 x 28 maps, its steps, its scenes and the coordinates buy. The
regressor is Part 2's soft-argmax `PoseRegressor` with that chapter's widths and batch, for a fixed
400 steps at learning rate 2e-3 (set by hand, as the branch's budget is), trained on square crops
around the training people (each crop jittered a little, as a detector's box is off a little) and
run on crops of the detected boxes: both models then see the same people and differ in how they turn
features into joints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor
from torchvision.ops import roi_align

from .. import runtime
from ..data import Scenes
from ..data.scenes import SHAPES
from ..models.detection.keypoint_head import KeypointHeadConfig
from ..models.instance import KeypointRCNN, KeypointRCNNConfig, instance_loader
from ..models.localization.pose import PoseConfig, PoseRegressor, pose_step
from ..train import History, fit, shuffled_batches
from .faster_rcnn import SPLIT_SEEDS
from .faster_rcnn import Recipe as FasterRCNNRecipe
from .mask_rcnn import Recipe as MaskRCNNRecipe
from .parallel import train_models
from .pose import Recipe as PoseRecipe
from .rcnn_family import start_from_faster_rcnn
from .sweeps import find_sweep

__all__ = ["Recipe", "SPLIT_SEEDS", "SWEEP", "budget", "chosen_scale", "load_sweep", "person_crops",
           "scale_runs", "train_keypoint_rcnn", "train_regressor", "train_side_by_side", "uncrop"]

SWEEP = Path(__file__).resolve().parents[2] / "chapters" / "05-instance" / "keypoint_rcnn_sweep.json"
KEYS = ("boxes", "labels", "keypoints")


@dataclass(frozen=True)
class Recipe:
    """Scenes, Keypoint R-CNN's budget and head, and the regressor's crops and budget (quick profile)."""
    detector: FasterRCNNRecipe = field(default_factory=FasterRCNNRecipe)   # size, anchors, RPN, batch
    keypoint_channels: int = 32       # the Mask R-CNN recipe's mask head: width and depth
    keypoint_layers: int = 4
    heatmap_size: int = 28            # the transposed conv's own; torchvision resizes it x 2 (56)
    keypoint_coordinates: bool = True   # the head sees where in the RoI each cell is (CoordConv)
    n_train: int = 800
    n_val: int = 120                  # ~180 people: 40 scenes (47) were too few to choose by
    n_test: int = 50
    n_objects: tuple[int, int] = (3, 5)
    person_share: int = 3             # the person is drawn person_share times as often as each shape
    steps: int = 900                  # after the start from Faster R-CNN
    crop: int = 64                    # the regressor's input side: Part 2's image size
    crop_margin: float = 1.3          # crop side = margin x the box's longer side
    crop_jitter: float = 0.1          # training crops: box edges moved by up to this x the side
    crop_copies: int = 8              # jittered crops per training person
    pose_steps: int = 400             # fixed by hand; the batch is Part 2's
    pose_batch: int = 32
    pose_lr: float = 2e-3

    @staticmethod
    def for_profile(profile: str) -> "Recipe":
        detector = FasterRCNNRecipe.for_profile(profile)      # checks the profile's name
        if profile == "quick":
            return Recipe()
        head = MaskRCNNRecipe.for_profile(profile)
        return Recipe(detector, head.mask_channels, head.mask_layers, n_train=1500, n_val=200, n_test=400,
                      steps=4000, pose_steps=5000, pose_batch=128)

    def scenes(self, split: str) -> list[tuple[Tensor, dict]]:
        """The (image, target) pairs of 'train', 'validation' or 'test' (seeds `SPLIT_SEEDS`)."""
        n = {"train": self.n_train, "validation": self.n_val, "test": self.n_test}[split]
        classes = ("person",) * self.person_share + tuple(c for c in SHAPES if c != "person")
        data = Scenes(n, seed=SPLIT_SEEDS[split], size=self.detector.size, n_objects=self.n_objects,
                      classes=classes)
        return data[:]

    def config(self, box_scale: float = 1.0) -> KeypointRCNNConfig:
        """The Faster R-CNN chapter's detector with RoIAlign, and the keypoint branch (the mask head's
        width and depth) growing each box by box_scale."""
        keypoint = KeypointHeadConfig(channels=self.keypoint_channels, layers=self.keypoint_layers,
                                      heatmap_size=self.heatmap_size, box_scale=box_scale,
                                      coordinates=self.keypoint_coordinates)
        return KeypointRCNNConfig(faster_rcnn=self.detector.config("roi_align"), keypoint=keypoint)

    def lr(self) -> float:
        """The Mask R-CNN recipe's learning rate for RoIAlign (the Faster R-CNN sweep's choice)."""
        return MaskRCNNRecipe(self.detector).lr("roi_align")

    def pose_config(self) -> PoseConfig:
        """Part 2's soft-argmax regressor at its quick widths (the pose chapter's recipe)."""
        return PoseRecipe().config("soft-argmax")


def load_sweep(recipe: Recipe, path: str | Path = SWEEP) -> dict:
    """The box-scale sweep of `recipe`: {"recipe", "runs": [{"box_scale", "seed", "val_ap50", "val_ap",
    "val_pck", ...}], "seed_runs": [the recipe at the chosen scale from two more seeds]}."""
    return find_sweep(path, recipe, Recipe(), "python scripts/sweep_keypoint_rcnn.py")


def budget(recipe: Recipe) -> dict:
    """The settings of `recipe` that every sweep run records besides its box scale: {"heatmap_size",
    "steps", "keypoint_channels", "keypoint_coordinates", "n_train"}; the sweep's runs of another
    budget differ in some of them."""
    keys = ("heatmap_size", "steps", "keypoint_channels", "keypoint_coordinates", "n_train")
    return {key: getattr(recipe, key) for key in keys}


def scale_runs(sweep: dict, recipe: Recipe) -> list[dict]:
    """The sweep's runs at the recipe's budget (one per box scale)."""
    return [run for run in sweep["runs"] if {key: run[key] for key in budget(recipe)} == budget(recipe)]


def chosen_scale(sweep: dict, recipe: Recipe) -> float:
    """The box scale of highest validation keypoint AP (OKS 0.5:0.95; ties: the first) at the
    recipe's heatmap size and steps."""
    return float(max(scale_runs(sweep, recipe), key=lambda run: run["val_ap"])["box_scale"])


# ---------------------------------------------------------------- the regressor's crops

def square_boxes(boxes: Tensor, margin: float) -> Tensor:
    """[N, 4] xyxy -> [N, 4] squares of side margin x the longer side, on the same centres."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]).max(dim=1, keepdim=True).values * margin / 2
    return torch.cat([centre - half, centre + half], dim=1)


def person_crops(image: Tensor, boxes: Tensor, size: int, margin: float = 1.3) -> tuple[Tensor, Tensor]:
    """Square crops around `boxes`: image [3, H, W], boxes [N, 4] xyxy pixels -> (crops [N, 3, size,
    size], by RoIAlign of the image, zeros outside it; the squares [N, 4] they were cut from)."""
    squares = square_boxes(boxes.float(), margin)
    crops = roi_align(image[None], [squares], output_size=size, spatial_scale=1.0, sampling_ratio=2,
                      aligned=True)
    return crops, squares


def to_crop(keypoints: Tensor, squares: Tensor, size: int) -> Tensor:
    """keypoints [N, K, 3] in image pixels -> crop pixels of the squares [N, 4] at `size`."""
    scale = size / (squares[:, 2] - squares[:, 0])                      # [N]
    xy = (keypoints[..., :2] - squares[:, None, :2]) * scale[:, None, None]
    return torch.cat([xy, keypoints[..., 2:]], dim=-1)


def uncrop(keypoints: Tensor, squares: Tensor, size: int) -> Tensor:
    """keypoints [N, K, 2 or 3] in crop pixels -> image pixels (the inverse of `to_crop`)."""
    scale = (squares[:, 2] - squares[:, 0]) / size
    xy = keypoints[..., :2] * scale[:, None, None] + squares[:, None, :2]
    return torch.cat([xy, keypoints[..., 2:]], dim=-1)


def training_crops(data, recipe: Recipe, seed: int = 0) -> tuple[Tensor, Tensor]:
    """recipe.crop_copies jittered crops of every person of `data` ((image, target) pairs):
    (images [N, 3, S, S], keypoints [N, K, 3] in crop pixels). Every labelled joint gets v = 2: the
    regressor's loss (Part 2's, over v = 2) then counts hidden joints too, as Keypoint R-CNN's does."""
    gen = torch.Generator().manual_seed(seed)
    images, keypoints = [], []
    for image, target in data:
        people = target["labels"] == recipe.config().keypoint.label
        boxes, kps = target["boxes"][people], target["keypoints"][people]
        if not len(boxes):
            continue
        boxes = boxes.repeat_interleave(recipe.crop_copies, 0)
        kps = kps.repeat_interleave(recipe.crop_copies, 0).clone()
        kps[..., 2] = torch.where(kps[..., 2] > 0, 2.0, 0.0)    # hidden joints count too, as for Keypoint R-CNN
        side = (boxes[:, 2:] - boxes[:, :2]).repeat(1, 2)                  # [N, 4]
        boxes = boxes + (torch.rand(boxes.shape, generator=gen) * 2 - 1) * recipe.crop_jitter * side
        crops, squares = person_crops(image, boxes, recipe.crop, recipe.crop_margin)
        images.append(crops)
        keypoints.append(to_crop(kps, squares, recipe.crop))
    return torch.cat(images), torch.cat(keypoints)


# ---------------------------------------------------------------- training

def train_keypoint_rcnn(seed: int, train, recipe: Recipe, lr: float, box_scale: float = 1.0,
                        device: torch.device | str = "cpu", progress: bool = True) -> tuple[KeypointRCNN, History]:
    """A KeypointRCNN (recipe.config(box_scale)): its keypoint branch from `seed`, the rest the family's
    Faster R-CNN; trained on `train` for recipe.steps at `lr`."""
    runtime.seed(seed)
    model = KeypointRCNN(recipe.config(box_scale))
    start_from_faster_rcnn(model)
    model.to(device)
    items = [(image, {k: t[k] for k in KEYS}) for image, t in train]
    history = fit(model, instance_loader(items, recipe.detector.batch_size, keys=KEYS), steps=recipe.steps,
                  lr=lr, desc="Keypoint R-CNN", progress=progress)
    return model, history


def train_regressor(seed: int, crops: tuple[Tensor, Tensor], recipe: Recipe, device: torch.device | str = "cpu",
                    progress: bool = True) -> tuple[PoseRegressor, History]:
    """Part 2's PoseRegressor from `seed`, trained on crops = (images, keypoints in crop pixels)."""
    runtime.seed(seed)
    model = PoseRegressor(recipe.pose_config()).to(device)
    history = fit(model, shuffled_batches(*crops, batch_size=recipe.pose_batch, seed=seed),
                  steps=recipe.pose_steps, step_fn=pose_step, lr=recipe.pose_lr, desc="pose regressor",
                  progress=progress)
    return model, history


def _train(kind: str, *args, progress: bool = True):
    return (train_keypoint_rcnn if kind == "keypoint_rcnn" else train_regressor)(*args, progress=progress)


def train_side_by_side(recipe: Recipe, lr: float, box_scale: float, train, device: torch.device | str = "cpu",
                       seed: int = 0, jobs: int | None = None) -> tuple[dict, dict[str, History]]:
    """Keypoint R-CNN (at `lr`, growing boxes by `box_scale`) and the regressor (on `training_crops` of the same scenes), side by side
    (`parallel.train_models`: one process of one thread each on a CPU); returns ({"keypoint_rcnn",
    "regressor"}: models in eval mode, the same keys: histories)."""
    items = [(image, {k: t[k] for k in KEYS}) for image, t in train]
    tasks = {"keypoint_rcnn": ("keypoint_rcnn", seed, items, recipe, lr, box_scale, device),
             "regressor": ("regressor", seed, training_crops(items, recipe, seed), recipe, device)}

    def build(kind):
        return KeypointRCNN(recipe.config(box_scale)) if kind == "keypoint_rcnn" else PoseRegressor(recipe.pose_config())

    return train_models(_train, tasks, build, device, jobs, desc="Keypoint R-CNN and regressor")
