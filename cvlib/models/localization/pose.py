"""Human pose as regression: one person per image, 14 joints, each an (x, y) output.

The same recipe as the localizer (localizer.py), with more points: the model
outputs 14 x 2 numbers, the (x, y) of every joint, and the loss is L2 over the 14 points,
counting only the joints marked visible (v = 2). Two heads compute the 28 numbers:

- "fc": the backbone's feature map is flattened, an FC layer reads it and an FC predictor
  outputs the coordinates (the lecture's recipe, as for the box);
- "soft-argmax": a small conv head makes one score map per joint; a softmax over the
  positions turns each map into a probability map, and its expected position is the
  joint's (x, y) (integral regression). Still a direct regression of coordinates with an L2
  loss, but the head keeps the image layout, so it learns far faster.

Coordinates: the model works in fractions of the image width / height; inputs and
outputs are pixels. Follows torchvision's contract (as its Keypoint R-CNN does), switching on
`self.training`: train mode `model(images, targets)` returns {"loss_keypoint": loss}; eval mode
`model(images)` returns one dict per image with keypoints [1, 14, 3] ((x, y, 1) in pixels),
boxes [1, 4] (the joints' extent, xyxy pixels), labels [1] and scores [1]. `pose_step` is
`cvlib.train.fit`'s step for people kept as tensors (images, keypoints).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ...checks import check_number, check_numbers
from ...data import CLASSES, JOINTS
from ...nn import PooledBackbone, channels_last
from .inputs import one_per_image, stack_images

HEADS = ("fc", "soft-argmax")


@dataclass
class PoseConfig:
    num_joints: int = len(JOINTS)                 # 14, in cvlib.data.JOINTS order
    head: str = "soft-argmax"                     # "fc" or "soft-argmax" (see the module docstring)
    widths: tuple[int, ...] = (16, 32, 64, 128)   # backbone stages (each halves H, W); soft-argmax drops the last
    pool: int = 4                                 # fc: the feature map is pooled to pool x pool and flattened
    hidden: int = 256                             # fc: width of the FC layer; soft-argmax: channels of the map head
    label: int = CLASSES.index("person")          # the label the predictions carry (cvlib.data.CLASSES)

    def __post_init__(self):
        check_number(self.num_joints, "num_joints", integer=True, low=1)
        check_numbers(self.widths, "widths", integer=True, low=1)
        check_number(self.pool, "pool", integer=True, low=1)
        check_number(self.hidden, "hidden", integer=True, low=1)
        check_number(self.label, "label (a class index, cvlib.data.CLASSES)", integer=True, low=1)
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")
        if self.head == "soft-argmax" and len(self.widths) < 2:
            raise ValueError(f"the soft-argmax head needs at least 2 backbone widths, got {self.widths}")


def soft_argmax(maps: Tensor) -> Tensor:
    """Expected position under a softmax over each map's positions.

    maps: float [B, K, h, w] scores -> float [B, K, 2], (x, y) as fractions of the map width /
    height, measured at cell centres: a map peaked on cell (i, j) gives ((j + 0.5) / w, (i + 0.5) / h).
    """
    b, k, h, w = maps.shape
    prob = maps.flatten(2).softmax(-1).view(b, k, h, w)
    xs = (torch.arange(w, device=maps.device, dtype=maps.dtype) + 0.5) / w
    ys = (torch.arange(h, device=maps.device, dtype=maps.dtype) + 0.5) / h
    return torch.stack([(prob.sum(2) * xs).sum(-1), (prob.sum(3) * ys).sum(-1)], -1)


def pose_loss(pred: Tensor, target: Tensor) -> Tensor:
    """L2 regression loss over the joints.

    pred:   float [B, K, 2], predicted (x, y)
    target: float [B, K, 3], true (x, y, v) in the same units; only joints with v = 2 (visible) count
    Returns the squared distance between predicted and true joint, averaged over the counted joints
    (0 if there are none, still connected to the graph).
    """
    if pred.ndim != 3 or pred.shape[-1] != 2 or target.shape != (*pred.shape[:2], 3):
        raise ValueError(f"pred must be [B, K, 2] and target [B, K, 3], got {tuple(pred.shape)} "
                         f"and {tuple(target.shape)}")
    visible = (target[..., 2] == 2).to(pred.dtype)                    # [B, K]
    squared = ((pred - target[..., :2]) ** 2).sum(-1)                 # [B, K]
    return (squared * visible).sum() / visible.sum().clamp(min=1)


class PoseRegressor(nn.Module):
    """PooledBackbone, then a head that outputs K x (x, y).

    fc:          pool, flatten -> FC, ReLU -> FC predictor of K * 2 numbers
    soft-argmax: 2x transposed conv, BN, ReLU -> 3x3 conv to K score maps -> soft_argmax
    """

    def __init__(self, cfg: PoseConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or PoseConfig()
        k = cfg.num_joints
        if cfg.head == "fc":
            self.backbone = PooledBackbone(cfg.widths)
            d = self.backbone.out_channels
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(cfg.pool), nn.Flatten(),
                                      nn.Linear(d * cfg.pool ** 2, cfg.hidden), nn.ReLU(inplace=True))
            self.predictor = nn.Linear(cfg.hidden, k * 2)
        else:
            self.backbone = PooledBackbone(cfg.widths[:-1])           # stride 2^(len - 1)
            d, c = self.backbone.out_channels, min(cfg.hidden, 64)
            self.head = nn.Sequential(nn.ConvTranspose2d(d, c, 4, stride=2, padding=1, bias=False),
                                      nn.BatchNorm2d(c), nn.ReLU(inplace=True))
            self.predictor = nn.Conv2d(c, k, 3, padding=1)
        channels_last(self)                                         # faster on a CPU (cvlib.nn)

    def score_maps(self, images: Tensor) -> Tensor:
        """soft-argmax head only: images [B, 3, H, W] -> joint score maps [B, K, H / s, W / s], s = 2^(len(widths) - 2)."""
        if self.cfg.head != "soft-argmax":
            raise ValueError("score maps exist only for the soft-argmax head")
        return self.predictor(self.head(self.backbone(images)))

    def predict(self, images: Tensor) -> Tensor:
        """images float [B, 3, H, W] -> joints [B, K, 2], (x, y) as fractions of the image width / height."""
        if self.cfg.head == "soft-argmax":
            return soft_argmax(self.score_maps(images))
        return self.predictor(self.head(self.backbone(images))).view(len(images), self.cfg.num_joints, 2)

    def forward(self, images, targets: list[dict] | None = None):
        """images: list of [3, H, W] (equal sizes) or a tensor [B, 3, H, W].

        train mode: targets = one dict per image with keypoints [1, K, 3] ((x, y, v), pixels)
            (required) -> {"loss_keypoint": loss}.
        eval mode: targets are not used -> one dict per image with keypoints [1, K, 3] (x, y, 1)
            in pixels, boxes [1, 4], labels [1], scores [1].
        """
        if self.training:
            return self.losses(images, targets)      # raises without targets, before BatchNorm sees a batch
        return self.detect(images)

    def losses(self, images, targets: list[dict]) -> dict[str, Tensor]:
        """{"loss_keypoint": pose_loss} of `images` against `targets` (as in forward), in the
        model's current mode."""
        images = stack_images(images, weights=next(self.parameters()))
        h, w = images.shape[-2:]
        k = self.cfg.num_joints
        keypoints, = one_per_image(targets, images, ("keypoints",), None, "a pose regressor", "person",
                                   "use Scenes(..., n_objects=(1, 1), classes=('person',))")
        if keypoints.shape[1:] != (k, 3):
            raise ValueError(f"targets' keypoints must be [1, {k}, 3] (x, y, v) per image, got "
                             f"[1, {', '.join(map(str, keypoints.shape[1:]))}]")
        keypoints = keypoints.to(images.device)                          # [B, K, 3] pixels
        scale = images.new_tensor([w, h])
        target = torch.cat([keypoints[..., :2] / scale, keypoints[..., 2:]], -1)
        return {"loss_keypoint": pose_loss(self.predict(images), target)}

    def detect(self, images) -> list[dict[str, Tensor]]:
        """images float [B, 3, H, W] (or a list of [3, H, W]) -> one dict per image: keypoints [1, K, 3]
        ((x, y, 1) pixels), boxes [1, 4] (the joints' extent, xyxy pixels), labels [1] (cfg.label),
        scores [1] (ones)."""
        images = stack_images(images, weights=next(self.parameters()))
        h, w = images.shape[-2:]
        xy = self.predict(images) * images.new_tensor([w, h])           # [B, K, 2] pixels
        kp = torch.cat([xy, torch.ones_like(xy[..., :1])], -1)
        boxes = torch.cat([xy.amin(1), xy.amax(1)], -1)                  # [B, 4] xyxy
        label = torch.tensor([self.cfg.label], device=images.device)
        return [{"keypoints": kp[i:i + 1], "boxes": boxes[i:i + 1], "labels": label,
                 "scores": images.new_ones(1)} for i in range(len(images))]


def pose_step(model: PoseRegressor, batch, device) -> dict[str, Tensor]:
    """`cvlib.train.fit`'s step for people kept as tensors (`train.shuffled_batches`):
    batch = (images [B, 3, H, W], keypoints [B, K, 3] (x, y, v) pixels) -> {"loss_keypoint": loss}
    of the model in train mode."""
    images, keypoints = (t.to(device) for t in batch)
    return model(images, [{"keypoints": k[None]} for k in keypoints])    # k[None]: [1, K, 3] per image
