"""The mask branch of Mask R-CNN: a small FCN on every RoI, one M x M mask per class.

Shape shorthand: R RoIs (the sampled positives in training, the detections at test), C feature
channels, D the head's width, K classes (background included), P = pool_size (14) and
M = 2 P = mask_size (28). Boxes are xyxy in image pixels (pixel edges, as Scenes gives them).

    branch = MaskBranch(RoIPooler("roi_align", 14, stride), C, K, MaskHeadConfig())
    logits = branch(features, boxes)                                   # [R, K, M, M]
    loss = branch.loss(logits, boxes, labels, objects, gt_masks)       # training
    detections = branch.predict(features, detections, image_sizes)     # test: adds masks

1. pool: RoIAlign (or RoIPool: the RoI heads' switch) of each RoI to [R, C, P, P];
2. head (features to features): `layers` 3x3 convs + ReLU, D wide: [R, D, P, P];
3. predictor: a 2x2 transposed conv of stride 2 (+ ReLU) to [R, D, M, M], then a 1x1 conv to one
   mask logit map per class: [R, K, M, M];
4. training: the target of each positive RoI is its object's ground-truth mask cut to the RoI and
   resampled to M x M by RoIAlign (`mask_targets`); per-pixel binary cross-entropy on the map of
   the object's true class only (the other K - 1 maps get no gradient: the classes do not compete
   for a pixel, the box branch has already classified the RoI) (`mask_loss`);
5. test: the map of each detection's predicted class, through a sigmoid, resized to the box and
   pasted into an image-sized canvas (`paste_masks`): masks [D, 1, H, W] in 0..1.

Two pixel conventions (`MaskHeadConfig.aligned`):
- aligned=True (detectron2's): a box's edges are pixel edges; the M x M grid covers the box
  exactly, target and paste alike, so a mask cut out and pasted back lands where it was;
- aligned=False (torchvision's, tested equal to `project_masks_on_boxes`, `maskrcnn_loss` and
  `paste_masks_in_image`): the targets are read half a pixel to the right and down (RoIAlign
  with aligned=False), and the paste snaps the box to whole pixels, one pixel wider and taller.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import roi_align


@dataclass
class MaskHeadConfig:
    """The mask branch's sizes and pixel convention (its pooler kind is the RoI heads')."""
    pool_size: int = 14                # RoIAlign to pool_size x pool_size; masks are 2 x that
    channels: int = 64                 # width D of the head's convs
    layers: int = 4                    # 3x3 convs in the head
    aligned: bool = True               # pixel-edge boxes (True) or torchvision's convention (False)

    def __post_init__(self):
        for name, least in (("pool_size", 1), ("channels", 1), ("layers", 0)):
            value = getattr(self, name)
            if not isinstance(value, int) or value < least:
                raise ValueError(f"MaskHeadConfig.{name} must be an int >= {least}, got {value!r}")

    @property
    def mask_size(self) -> int:
        return 2 * self.pool_size


def conv_stack(in_channels: int, channels: int, layers: int) -> nn.Sequential:
    """`layers` 3x3 convs (padding 1) + ReLU, `channels` wide: [R, in, P, P] -> [R, channels, P, P]
    (the mask and keypoint heads; with 0 layers the identity)."""
    convs = []
    for i in range(layers):
        conv = nn.Conv2d(in_channels if i == 0 else channels, channels, 3, padding=1)
        nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(conv.bias)
        convs += [conv, nn.ReLU(inplace=True)]
    return nn.Sequential(*convs)


class MaskPredictor(nn.Module):
    """Features to mask logits: [R, D, P, P] -> 2x2 transposed conv, stride 2, ReLU -> [R, D, 2P, 2P]
    -> 1x1 conv -> [R, K, 2P, 2P], one map per class."""

    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.upsample = nn.ConvTranspose2d(in_channels, in_channels, 2, stride=2)
        self.logits = nn.Conv2d(in_channels, num_classes, 1)
        for layer in (self.upsample, self.logits):
            nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(layer.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.logits(F.relu(self.upsample(x), inplace=True))   # in place, as torchvision


def mask_targets(gt_masks: Tensor, boxes: Tensor, objects: Tensor, size: int, aligned: bool = True) -> Tensor:
    """The mask target of each RoI of one image: its object's mask cut to the RoI, size x size.

    gt_masks [G, H, W] (0/1, any dtype), boxes [R, 4] xyxy pixels, objects int64 [R] (the index of
    each RoI's object in gt_masks). Returns float [R, size, size] in 0..1 (RoIAlign's bilinear
    averages: soft at the mask's edge).
    """
    rois = torch.cat([objects.to(boxes)[:, None], boxes], dim=1)        # [R, 5]: (object, box)
    return roi_align(gt_masks[:, None].to(boxes), rois, (size, size), 1.0, aligned=aligned)[:, 0]


def mask_loss(mask_logits: Tensor, labels: Tensor, targets: Tensor) -> Tensor:
    """Binary cross-entropy per pixel on the true class's map: mask_logits [R, K, M, M], labels
    int64 [R] (1 .. K - 1), targets [R, M, M] in 0..1. Averaged over the R M^2 pixels; 0 (with a
    gradient) when there is no RoI."""
    if targets.numel() == 0:
        return mask_logits.sum() * 0
    return F.binary_cross_entropy_with_logits(mask_logits[torch.arange(len(labels)), labels], targets)


def paste_masks(masks: Tensor, boxes: Tensor, image_size: tuple[int, int], aligned: bool = True) -> Tensor:
    """Masks of one image's detections into image-sized canvases.

    masks [D, 1, M, M] (probabilities), boxes [D, 4] xyxy pixels, image_size (H, W).
    Returns [D, 1, H, W]: each mask resized bilinearly onto its box, 0 outside it.
    aligned=True: pixel (y, x), centre (x + 0.5, y + 0.5), reads the mask at that point's place in
    the box (grid_sample; the M x M cells tile the box exactly).
    aligned=False: torchvision's `paste_masks_in_image` (the mask padded by one cell, the box
    widened to match and snapped to whole pixels, x2 and y2 included).
    """
    h, w = image_size
    if len(masks) == 0:
        return masks.new_zeros(0, 1, h, w)
    if not aligned:
        return torch.stack([_paste_legacy(m[0], b, h, w) for m, b in zip(masks, boxes)])[:, None]
    x1, y1, x2, y2 = boxes.to(masks.dtype).unbind(dim=1)                # [D] each
    xs = torch.arange(w, device=masks.device, dtype=masks.dtype) + 0.5  # pixel centres
    ys = torch.arange(h, device=masks.device, dtype=masks.dtype) + 0.5
    gx = (xs[None] - x1[:, None]) / (x2 - x1)[:, None] * 2 - 1         # [D, W] in -1..1 inside the box
    gy = (ys[None] - y1[:, None]) / (y2 - y1)[:, None] * 2 - 1         # [D, H]
    grid = torch.stack([gx[:, None, :].expand(-1, h, -1), gy[:, :, None].expand(-1, -1, w)], dim=3)
    return F.grid_sample(masks, grid, align_corners=False)              # [D, 1, H, W], zeros outside


def _paste_legacy(mask: Tensor, box: Tensor, h: int, w: int) -> Tensor:
    """torchvision's paste of one mask [M, M] at box [4]: [H, W]."""
    m = mask.shape[-1]
    mask = F.pad(mask, (1, 1, 1, 1))                                    # one empty cell around
    scale = (m + 2) / m
    centre, half = (box[:2] + box[2:]) / 2, (box[2:] - box[:2]) / 2 * scale
    x1, y1, x2, y2 = torch.cat([centre - half, centre + half]).to(torch.int64).tolist()
    bw, bh = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
    resized = F.interpolate(mask[None, None], size=(bh, bw), mode="bilinear", align_corners=False)[0, 0]
    canvas = mask.new_zeros(h, w)
    xa, xb, ya, yb = max(x1, 0), min(x2 + 1, w), max(y1, 0), min(y2 + 1, h)
    canvas[ya:yb, xa:xb] = resized[ya - y1:yb - y1, xa - x1:xb - x1]
    return canvas


class MaskBranch(nn.Module):
    """pooler -> head (conv_stack) -> MaskPredictor, with its targets, loss and paste; see the module
    docstring. `pooler(features, boxes)` gives [R, C, P, P]; its output_size must be cfg.pool_size."""

    def __init__(self, pooler: nn.Module, in_channels: int, num_classes: int, cfg: MaskHeadConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or MaskHeadConfig()
        if getattr(pooler, "output_size", cfg.pool_size) != cfg.pool_size:
            raise ValueError(f"the mask pooler gives {pooler.output_size} x {pooler.output_size} features "
                             f"but MaskHeadConfig.pool_size is {cfg.pool_size}")
        self.pooler = pooler
        self.head = conv_stack(in_channels, cfg.channels, cfg.layers)
        self.predictor = MaskPredictor(cfg.channels if cfg.layers else in_channels, num_classes)

    def forward(self, features: Tensor, boxes: list[Tensor]) -> Tensor:
        """features [B, C, h, w], boxes: one [R_i, 4] per image -> mask logits [R, K, M, M]."""
        return self.predictor(self.head(self.pooler(features, boxes)))

    def loss(self, features: Tensor, boxes: list[Tensor], labels: Tensor, objects: list[Tensor],
             gt_masks: list[Tensor]) -> Tensor:
        """loss_mask of the positive RoIs: boxes and objects (index into the image's gt_masks
        [G_i, H, W]) one [R_i, 4] and [R_i] per image, labels int64 [R], their objects' classes."""
        logits = self(features, boxes)
        size = self.cfg.mask_size
        targets = [mask_targets(m, b, o, size, self.cfg.aligned) for m, b, o in zip(gt_masks, boxes, objects)]
        return mask_loss(logits, labels, torch.cat(targets))

    def predict(self, features: Tensor, detections: list[dict], image_sizes: list[tuple[int, int]]) -> list[dict]:
        """Adds masks [D_i, 1, H_i, W_i] (probabilities of the predicted class) to each image's
        detections (dicts with boxes [D_i, 4] and labels [D_i])."""
        boxes = [d["boxes"] for d in detections]
        logits = self(features, boxes)                                     # [D, K, M, M]
        labels = torch.cat([d["labels"] for d in detections])
        probs = logits[torch.arange(len(labels)), labels][:, None].sigmoid()   # [D, 1, M, M]
        for d, p, b, size in zip(detections, probs.split([len(b) for b in boxes]), boxes, image_sizes):
            d["masks"] = paste_masks(p, b, size, self.cfg.aligned)
        return detections
