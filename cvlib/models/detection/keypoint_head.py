"""The keypoint branch (pose with Mask R-CNN): one heatmap per joint on every person RoI.

Shape shorthand: R RoIs (the sampled person positives in training, the person detections at
test), C feature channels, D the head's width, J joints (14 for the Scenes person: `JOINTS`),
P = pool_size (14), S = heatmap_size (28). Boxes are xyxy in image pixels; keypoints are
[.., J, 3] rows (x, y, visibility) in image pixels, visibility 2 visible, 1 occluded, 0 none.

    branch = KeypointBranch(RoIPooler("roi_align", 14, stride), C, KeypointHeadConfig())
    logits = branch(features, boxes)                                  # [R, J, S, S]
    loss = branch.loss(logits, boxes, objects, gt_keypoints)          # training
    detections = branch.predict(features, detections)                  # test: adds keypoints

1. pool each RoI to [R, C, P, P] (with `coordinates`, two channels more: each cell's x and y in
   the RoI, `with_coordinates`); head: `layers` 3x3 convs + ReLU, D wide;
2. predictor: a 4x4 transposed conv of stride 2 to J maps of 2P x 2P, resized bilinearly to S x S
   where S != 2P: logits [R, J, S, S];
3. training: each labelled joint (visibility > 0) of the RoI's person that falls inside the RoI
   becomes one pixel of an S x S grid over the RoI (`keypoints_to_heatmap`): a one-hot target; the
   loss is a cross-entropy over the S^2 pixels of that joint's map (a softmax over positions: the
   joint is at exactly one place), averaged over the labelled joints (`keypoint_loss`);
4. test: each map resized to the box's size in pixels (bicubic), its argmax mapped back to image
   coordinates (`heatmaps_to_keypoints`): keypoints [D, J, 3] with visibility 1, and the
   map's value there as each joint's score.

With `box_scale` > 1 (torchvision has none: 1, the default) each RoI is grown about its centre before
all of this, in training and at test alike: a joint just outside a detected box, such as the end of
a thin outstretched limb that the box missed, can still be found.

With `coordinates` (torchvision has none) the head knows where in the RoI each cell lies. Without
them, a fully convolutional head is blind to place away from the RoI's border: four 3x3 convs see
9 x 9 of the 14 x 14 cells, so a wrist of another person inside the RoI looks exactly like the
RoI's own person's wrist (CoordConv: Liu et al., 2018).

All three functions are tested equal to torchvision's `keypoints_to_heatmap`,
`keypointrcnn_loss` and `heatmaps_to_keypoints`. The branch runs on the RoIs of one class
(`KeypointHeadConfig.label`, the person): other detections get all-zero keypoints, as Scenes
gives its non-person objects.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...data.person import JOINTS
from ...data.scenes import CLASSES
from .mask_head import conv_stack


@dataclass
class KeypointHeadConfig:
    """The keypoint branch's sizes and the class it runs on (its pooler kind is the RoI heads')."""
    num_keypoints: int = len(JOINTS)           # J heatmaps per RoI
    pool_size: int = 14                        # RoIAlign to pool_size x pool_size
    channels: int = 64                         # width D of the head's convs
    layers: int = 4                            # 3x3 convs in the head
    heatmap_size: int = 28                     # S; the transposed conv gives 2 * pool_size
    box_scale: float = 1.0                     # each RoI grown by this factor about its centre first
    coordinates: bool = False                  # 2 more input channels: each cell's x, y in the RoI
    label: int | None = CLASSES.index("person")   # the class it trains and runs on; None: every object

    def __post_init__(self):
        for name, least in (("num_keypoints", 1), ("pool_size", 1), ("channels", 1), ("layers", 0),
                            ("heatmap_size", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or value < least:
                raise ValueError(f"KeypointHeadConfig.{name} must be an int >= {least}, got {value!r}")
        if not isinstance(self.box_scale, (int, float)) or not 1.0 <= self.box_scale <= 4.0:
            raise ValueError(f"KeypointHeadConfig.box_scale must be a number in 1..4, got {self.box_scale!r}")
        if self.label is not None and self.label < 1:
            raise ValueError(f"KeypointHeadConfig.label is an object class (>= 1) or None, got {self.label}")


class KeypointPredictor(nn.Module):
    """Features to heatmap logits: [R, D, P, P] -> 4x4 transposed conv, stride 2 -> [R, J, 2P, 2P]
    -> bilinear resize -> [R, J, S, S]."""

    def __init__(self, in_channels: int, num_keypoints: int, heatmap_size: int):
        super().__init__()
        self.upsample = nn.ConvTranspose2d(in_channels, num_keypoints, 4, stride=2, padding=1)
        nn.init.kaiming_normal_(self.upsample.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(self.upsample.bias)
        self.heatmap_size = heatmap_size

    def forward(self, x: Tensor) -> Tensor:
        x = self.upsample(x)
        if x.shape[-1] != self.heatmap_size:
            x = F.interpolate(x, size=(self.heatmap_size,) * 2, mode="bilinear", align_corners=False)
        return x


def scale_boxes(boxes: Tensor, scale: float) -> Tensor:
    """[R, 4] xyxy pixels -> [R, 4] boxes `scale` times as wide and as tall, on the same centres."""
    if scale == 1.0:
        return boxes
    centre, half = (boxes[:, :2] + boxes[:, 2:]) / 2, (boxes[:, 2:] - boxes[:, :2]) * (scale / 2)
    return torch.cat([centre - half, centre + half], dim=1)


def keypoints_to_heatmap(keypoints: Tensor, rois: Tensor, size: int) -> tuple[Tensor, Tensor]:
    """Each joint's target pixel on a size x size grid over its RoI.

    keypoints [R, J, 3] (x, y, visibility; image pixels), rois [R, 4] xyxy pixels. Returns
    (targets int64 [R, J]: the pixel's index y * size + x, 0 where not valid; valid int64 [R, J]:
    1 for a labelled joint, visibility > 0, inside the RoI). A joint on the RoI's right or bottom
    edge goes to the last column or row.
    """
    x1, y1, x2, y2 = (c[:, None] for c in rois.unbind(dim=1))       # [R, 1] each
    x, y = keypoints[..., 0], keypoints[..., 1]                        # [R, J]
    col = ((x - x1) * (size / (x2 - x1))).floor().long()
    row = ((y - y1) * (size / (y2 - y1))).floor().long()
    col[x == x2], row[y == y2] = size - 1, size - 1
    inside = (col >= 0) & (row >= 0) & (col < size) & (row < size)
    valid = (inside & (keypoints[..., 2] > 0)).long()
    return (row * size + col) * valid, valid


def keypoint_loss(keypoint_logits: Tensor, targets: Tensor, valid: Tensor) -> Tensor:
    """Cross-entropy over each labelled joint's S^2 pixels: keypoint_logits [R, J, S, S], targets and
    valid int64 [R, J] (`keypoints_to_heatmap`). Averaged over the valid joints; 0 (with a
    gradient) when there is none."""
    valid = torch.nonzero(valid.flatten()).flatten()
    if len(valid) == 0:
        return keypoint_logits.sum() * 0
    r, j, s, _ = keypoint_logits.shape
    return F.cross_entropy(keypoint_logits.reshape(r * j, s * s)[valid], targets.flatten()[valid])


def heatmaps_to_keypoints(maps: Tensor, rois: Tensor) -> tuple[Tensor, Tensor]:
    """Joint positions from heatmaps: maps [R, J, S, S] (logits), rois [R, 4] xyxy pixels.

    Each RoI's maps are resized (bicubic) to ceil(width) x ceil(height) of its box, so that a map
    pixel is about one image pixel; the argmax pixel's centre is mapped back into the box.
    Returns (keypoints [R, J, 3]: x, y in image pixels, visibility 1; scores [R, J]: the resized
    map's value at the argmax).
    """
    r, j = maps.shape[:2]
    keypoints = maps.new_zeros(r, j, 3)
    scores = maps.new_zeros(r, j)
    widths = (rois[:, 2] - rois[:, 0]).clamp(min=1)
    heights = (rois[:, 3] - rois[:, 1]).clamp(min=1)
    for i in range(r):
        w, h = int(widths[i].ceil()), int(heights[i].ceil())
        resized = F.interpolate(maps[i][:, None], size=(h, w), mode="bicubic", align_corners=False)[:, 0]
        best = resized.reshape(j, -1).argmax(dim=1)                      # [J]: flat index y * w + x
        col, row = best % w, best // w
        keypoints[i, :, 0] = (col.float() + 0.5) * (widths[i] / w) + rois[i, 0]
        keypoints[i, :, 1] = (row.float() + 0.5) * (heights[i] / h) + rois[i, 1]
        keypoints[i, :, 2] = 1
        scores[i] = resized[torch.arange(j), row, col]
    return keypoints, scores


def with_coordinates(pooled: Tensor) -> Tensor:
    """[R, C, P, P] -> [R, C + 2, P, P]: two channels more, each cell's x and y in the RoI, from -1
    (left, top) to 1 (right, bottom), the same for every RoI (CoordConv)."""
    r, _, p, _ = pooled.shape
    ramp = torch.linspace(-1, 1, p, device=pooled.device, dtype=pooled.dtype)
    y, x = torch.meshgrid(ramp, ramp, indexing="ij")
    return torch.cat([pooled, torch.stack([x, y]).expand(r, 2, p, p)], dim=1)


class KeypointBranch(nn.Module):
    """pooler -> head (conv_stack) -> KeypointPredictor, with its targets, loss and decoding; see the
    module docstring. `pooler(features, boxes)` gives [R, C, P, P] with P = cfg.pool_size."""

    def __init__(self, pooler: nn.Module, in_channels: int, cfg: KeypointHeadConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or KeypointHeadConfig()
        if getattr(pooler, "output_size", cfg.pool_size) != cfg.pool_size:
            raise ValueError(f"the keypoint pooler gives {pooler.output_size} x {pooler.output_size} features "
                             f"but KeypointHeadConfig.pool_size is {cfg.pool_size}")
        self.pooler = pooler
        in_channels += 2 * cfg.coordinates
        self.head = conv_stack(in_channels, cfg.channels, cfg.layers)
        self.predictor = KeypointPredictor(cfg.channels if cfg.layers else in_channels, cfg.num_keypoints,
                                           cfg.heatmap_size)

    def forward(self, features: Tensor, boxes: list[Tensor]) -> Tensor:
        """features [B, C, h, w], boxes: one [R_i, 4] per image -> heatmap logits [R, J, S, S]."""
        pooled = self.pooler(features, boxes)                               # [R, C, P, P]
        if self.cfg.coordinates:
            pooled = with_coordinates(pooled)                               # [R, C + 2, P, P]
        return self.predictor(self.head(pooled))

    def loss(self, features: Tensor, boxes: list[Tensor], objects: list[Tensor],
             gt_keypoints: list[Tensor]) -> Tensor:
        """loss_keypoint of the person RoIs: boxes and objects (index into the image's gt_keypoints
        [G_i, J, 3]), one [R_i, 4] and [R_i] per image."""
        boxes = [scale_boxes(b, self.cfg.box_scale) for b in boxes]
        logits = self(features, boxes)
        size = self.cfg.heatmap_size
        pairs = [keypoints_to_heatmap(kp[o], b, size) for kp, b, o in zip(gt_keypoints, boxes, objects)]
        return keypoint_loss(logits, torch.cat([t for t, _ in pairs]), torch.cat([v for _, v in pairs]))

    def predict(self, features: Tensor, detections: list[dict]) -> list[dict]:
        """Adds keypoints [D_i, J, 3] and keypoints_scores [D_i, J] to each image's detections (dicts
        with boxes [D_i, 4], labels [D_i]); zeros for detections of other classes than cfg.label."""
        chosen = [torch.ones_like(d["labels"], dtype=torch.bool) if self.cfg.label is None
                  else d["labels"] == self.cfg.label for d in detections]
        boxes = [scale_boxes(d["boxes"][c], self.cfg.box_scale) for d, c in zip(detections, chosen)]
        logits = self(features, boxes)                                     # [R, J, S, S]
        for d, c, b, maps in zip(detections, chosen, boxes, logits.split([len(b) for b in boxes])):
            keypoints, scores = heatmaps_to_keypoints(maps, b)
            d["keypoints"] = d["boxes"].new_zeros(len(c), self.cfg.num_keypoints, 3)
            d["keypoints_scores"] = d["boxes"].new_zeros(len(c), self.cfg.num_keypoints)
            d["keypoints"][c], d["keypoints_scores"][c] = keypoints, scores
        return detections
