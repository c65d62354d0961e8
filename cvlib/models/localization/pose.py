"""Human pose as regression: one person per image, 14 joints, each an (x, y) output.

The same recipe as the localizer (cvlib.models.localizer), with more points: the model
outputs 14 x 2 numbers, the (x, y) of every joint, and the loss is L2 over the 14 points,
counting only the joints marked visible (v = 2). Two heads compute the 28 numbers:

- "fc": the backbone's feature map is flattened, an FC layer reads it and an FC predictor
  outputs the coordinates (the lecture's recipe, as for the box);
- "soft-argmax": a small conv head makes one score map per joint; a softmax over the
  positions turns each map into a probability map, and its expected position is the
  joint's (x, y) (integral regression). Still a direct regression of coordinates with an L2
  loss, but the head keeps the image layout, so it learns far faster.

Coordinates: the model works in fractions of the image width / height; inputs and
outputs are pixels. Follows torchvision's contract (as its Keypoint R-CNN does): train mode
`model(images, targets)` returns {"keypoints": loss}; eval mode `model(images)` returns one
dict per image with keypoints [1, 14, 3] ((x, y, 1) in pixels), boxes [1, 4] (the joints'
extent, xyxy pixels), labels [1] and scores [1].
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..data.person import JOINTS
from ..data.scenes import CLASSES
from .localizer import Backbone, _stack


HEADS = ("fc", "soft-argmax")


@dataclass
class PoseConfig:
    num_joints: int = len(JOINTS)                 # 14, in cvlib.data.JOINTS order
    head: str = "soft-argmax"                     # "fc" or "soft-argmax" (see the module docstring)
    widths: tuple[int, ...] = (16, 32, 64, 128)   # backbone stages (each halves H, W); soft-argmax drops the last
    pool: int = 4                                 # fc: the feature map is pooled to pool x pool and flattened
    hidden: int = 256                             # fc: width of the FC layer; soft-argmax: channels of the map head
    label: int = CLASSES.index("person")          # the label the predictions carry

    def __post_init__(self):
        if self.num_joints < 1:
            raise ValueError(f"num_joints must be positive, got {self.num_joints}")
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
    """Backbone, then a head that outputs K x (x, y).

    fc:          pool, flatten -> FC, ReLU -> FC predictor of K * 2 numbers
    soft-argmax: 2x transposed conv, BN, ReLU -> 3x3 conv to K score maps -> soft_argmax
    """

    def __init__(self, config: PoseConfig | None = None):
        super().__init__()
        self.config = cfg = config or PoseConfig()
        k = cfg.num_joints
        if cfg.head == "fc":
            self.backbone = Backbone(cfg.widths)
            d = self.backbone.out_channels
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(cfg.pool), nn.Flatten(),
                                      nn.Linear(d * cfg.pool ** 2, cfg.hidden), nn.ReLU(inplace=True))
            self.predictor = nn.Linear(cfg.hidden, k * 2)
        else:
            self.backbone = Backbone(cfg.widths[:-1])                 # stride 2^(len - 1)
            d, c = self.backbone.out_channels, min(cfg.hidden, 64)
            self.head = nn.Sequential(nn.ConvTranspose2d(d, c, 4, stride=2, padding=1, bias=False),
                                      nn.BatchNorm2d(c), nn.ReLU(inplace=True))
            self.predictor = nn.Conv2d(c, k, 3, padding=1)

    def score_maps(self, images: Tensor) -> Tensor:
        """soft-argmax head only: images [B, 3, H, W] -> joint score maps [B, K, H / s, W / s], s = 2^(len(widths) - 2)."""
        if self.config.head != "soft-argmax":
            raise ValueError("score maps exist only for the soft-argmax head")
        return self.predictor(self.head(self.backbone(images)))

    def predict(self, images: Tensor) -> Tensor:
        """images float [B, 3, H, W] -> joints [B, K, 2], (x, y) as fractions of the image width / height."""
        if self.config.head == "soft-argmax":
            return soft_argmax(self.score_maps(images))
        return self.predictor(self.head(self.backbone(images))).view(len(images), self.config.num_joints, 2)

    def forward(self, images, targets: list[dict] | None = None):
        """images: list of [3, H, W] (equal sizes) or a tensor [B, 3, H, W].

        train: targets = one dict per image with keypoints [1, K, 3] ((x, y, v), pixels) -> {"keypoints": loss}.
        eval: list of dicts with keypoints [1, K, 3] (x, y, 1) in pixels, boxes [1, 4], labels [1], scores [1].
        """
        images = _stack(images)
        h, w = images.shape[-2:]
        scale = images.new_tensor([w, h])
        joints = self.predict(images)                                    # [B, K, 2] fractions
        if targets is not None:
            if len(targets) != len(images):
                raise ValueError(f"{len(targets)} targets for {len(images)} images")
            kps = []
            for t in targets:
                kp = t["keypoints"]
                if kp.shape != (1, self.config.num_joints, 3):
                    raise ValueError(f"a pose regressor needs one person per image, keypoints [1, "
                                     f"{self.config.num_joints}, 3]; got {tuple(kp.shape)}: use "
                                     "Scenes(..., n_objects=(1, 1), classes=('person',))")
                kps.append(kp[0])
            kps = torch.stack(kps).to(images.device)
            target = torch.cat([kps[..., :2] / scale, kps[..., 2:]], -1)
            return {"keypoints": pose_loss(joints, target)}
        xy = joints * scale                                              # [B, K, 2] pixels
        kp = torch.cat([xy, torch.ones_like(xy[..., :1])], -1)
        boxes = torch.cat([xy.amin(1), xy.amax(1)], -1)                  # [B, 4] xyxy
        label = torch.tensor([self.config.label], device=images.device)
        return [{"keypoints": kp[i:i + 1], "boxes": boxes[i:i + 1], "labels": label,
                 "scores": images.new_ones(1)} for i in range(len(images))]
