"""Human pose as regression: one person per image, 14 joints, each an (x, y) output.

The same recipe as the localizer (cvlib.models.localizer), with more points: the CNN
backbone's feature map is flattened, an FC layer reads it and a predictor outputs
14 x 2 numbers, the (x, y) of every joint. The loss is L2 over the 14 points,
counting only the joints marked visible (v = 2).

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


@dataclass
class PoseConfig:
    num_joints: int = len(JOINTS)                 # 14, in cvlib.data.JOINTS order
    widths: tuple[int, ...] = (16, 32, 64, 128)   # channels of the backbone stages (each halves H, W)
    pool: int = 4                                 # the feature map is pooled to pool x pool and flattened
    hidden: int = 256                             # width of the FC layer
    label: int = CLASSES.index("person")          # the label the predictions carry

    def __post_init__(self):
        if self.num_joints < 1:
            raise ValueError(f"num_joints must be positive, got {self.num_joints}")


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
    """Backbone -> pool, flatten -> FC, ReLU -> predictor of K x (x, y)."""

    def __init__(self, config: PoseConfig | None = None):
        super().__init__()
        self.config = cfg = config or PoseConfig()
        self.backbone = Backbone(cfg.widths)
        d = self.backbone.out_channels
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(cfg.pool), nn.Flatten(),
                                  nn.Linear(d * cfg.pool ** 2, cfg.hidden), nn.ReLU(inplace=True))
        self.predictor = nn.Linear(cfg.hidden, cfg.num_joints * 2)

    def predict(self, images: Tensor) -> Tensor:
        """images float [B, 3, H, W] -> joints [B, K, 2], (x, y) as fractions of the image width / height."""
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
