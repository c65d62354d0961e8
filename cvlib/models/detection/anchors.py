"""Anchors: the reference boxes of a region proposal network, k at every feature-map cell
(and SSD's default boxes, at the end).

At each cell of a feature map of stride s (one cell = s x s image pixels) sit k = len(sizes)
x len(ratios) anchors: boxes of area size^2 and height / width = ratio, centred on the cell's
top-left pixel corner, as torchvision places them. They are sliding windows of k shapes,
stepped by s pixels; the RPN scores each one and predicts 4 offsets that correct it.

    generator = AnchorGenerator(sizes=(16, 32, 64), ratios=(0.5, 1.0, 2.0))
    anchors = generator.grid_anchors((24, 24), stride=(4, 4))   # [24 * 24 * 9, 4] xyxy pixels

Order of the anchors: row-major over the cells (y, then x), and within a cell ratio-major
(ratio, then size), which is torchvision's order, so that an anchor's index matches the
RPN head's output channel. Tested equal to torchvision's AnchorGenerator.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class AnchorGenerator(nn.Module):
    """Anchors of `sizes` (sqrt of the area, pixels) x `ratios` (height / width) on one feature map."""

    def __init__(self, sizes: tuple[float, ...] = (16, 32, 64), ratios: tuple[float, ...] = (0.5, 1.0, 2.0)):
        super().__init__()
        if not sizes or not ratios or min(sizes) <= 0 or min(ratios) <= 0:
            raise ValueError(f"anchor sizes and ratios must be non-empty and positive, got {sizes}, {ratios}")
        self.sizes, self.ratios = tuple(sizes), tuple(ratios)

    @property
    def num_anchors(self) -> int:
        """k: anchors per feature-map cell."""
        return len(self.sizes) * len(self.ratios)

    def cell_anchors(self, dtype=torch.float32, device=None) -> Tensor:
        """The k anchors of the cell at the origin: [k, 4] xyxy, centred on (0, 0), rounded to pixels."""
        sizes = torch.tensor(self.sizes, dtype=dtype, device=device)
        ratios = torch.tensor(self.ratios, dtype=dtype, device=device)
        h = (ratios.sqrt()[:, None] * sizes[None, :]).flatten()        # [k]: ratio-major
        w = ((1 / ratios.sqrt())[:, None] * sizes[None, :]).flatten()  # h / w = ratio, h * w = size^2
        return (torch.stack([-w, -h, w, h], dim=1) / 2).round()

    def grid_anchors(self, grid: tuple[int, int], stride: tuple[int, int], dtype=torch.float32,
                     device=None) -> Tensor:
        """Every anchor of a feature map of grid = (h, w) cells, stride = (sy, sx) pixels per cell.

        Returns [h * w * k, 4] xyxy pixels: the cell anchors shifted to each cell's corner.
        """
        (h, w), (sy, sx) = grid, stride
        ys = torch.arange(h, dtype=torch.int32, device=device) * sy
        xs = torch.arange(w, dtype=torch.int32, device=device) * sx
        y, x = torch.meshgrid(ys, xs, indexing="ij")                   # [h, w] each
        shifts = torch.stack([x, y, x, y], dim=-1).reshape(-1, 1, 4)   # [h * w, 1, 4]
        return (shifts + self.cell_anchors(dtype, device)[None]).reshape(-1, 4)

    def forward(self, image_size: tuple[int, int], features: Tensor) -> Tensor:
        """Anchors for a batch padded to image_size = (H, W), with features [B, C, h, w].

        Returns [h * w * k, 4] xyxy pixels, the same for every image of the batch; the stride
        is H // h, W // w, as in torchvision.
        """
        grid = tuple(features.shape[-2:])
        stride = (image_size[0] // grid[0], image_size[1] // grid[1])
        return self.grid_anchors(grid, stride, features.dtype, features.device)


class DefaultBoxGenerator(nn.Module):
    """SSD's default boxes: on feature map k of several, boxes of scale s_k (a fraction of the image
    side) and of each aspect ratio, centred on every cell (Liu et al. 2016, page 6).

    Scales: s_k = min_ratio + (max_ratio - min_ratio) k / (m - 1) for m maps, then s_m = 1.
    At each cell of map k, 2 + 2 len(aspect_ratios[k]) boxes (w x h, fractions of the image):
    s_k x s_k; s'_k x s'_k with s'_k = sqrt(s_k s_{k+1}); and s_k sqrt(a) x s_k / sqrt(a) with
    its transpose for each ratio a. Fine maps (small stride) get small boxes, coarse maps large ones.

        generator = DefaultBoxGenerator([[2], [2, 3], [2, 3]])
        boxes = generator((96, 96), [f12, f6, f3])     # [(144 * 4 + 36 * 6 + 9 * 6), 4] xyxy pixels

    Order: map by map; within a map row-major over the cells, then the cell's boxes in the order
    above, torchvision's order (and its SSD head's). Tested equal to torchvision's DefaultBoxGenerator.
    """

    def __init__(self, aspect_ratios: list[list[float]], min_ratio: float = 0.15, max_ratio: float = 0.9,
                 clip: bool = True):
        super().__init__()
        if not aspect_ratios or any(a <= 0 for ratios in aspect_ratios for a in ratios):
            raise ValueError(f"aspect_ratios needs one list of positive ratios per feature map, got {aspect_ratios}")
        if not 0 < min_ratio <= max_ratio:
            raise ValueError(f"need 0 < min_ratio <= max_ratio, got {min_ratio}, {max_ratio}")
        self.aspect_ratios, self.clip = [list(r) for r in aspect_ratios], clip
        m = len(aspect_ratios)
        if m == 1:
            self.scales = [min_ratio, max_ratio]
        else:
            self.scales = [min_ratio + (max_ratio - min_ratio) * k / (m - 1) for k in range(m)] + [1.0]

    def num_anchors_per_location(self) -> list[int]:
        """Default boxes per cell, one count per feature map."""
        return [2 + 2 * len(r) for r in self.aspect_ratios]

    def cell_boxes(self, k: int) -> Tensor:
        """The (w, h) of the default boxes of one cell of map k, fractions of the image: [A_k, 2]."""
        s, s_next = self.scales[k], self.scales[k + 1]
        wh = [(s, s), (math.sqrt(s * s_next),) * 2]
        for a in self.aspect_ratios[k]:
            wh += [(s * math.sqrt(a), s / math.sqrt(a)), (s / math.sqrt(a), s * math.sqrt(a))]
        wh = torch.tensor(wh, dtype=torch.float32)
        return wh.clamp(0, 1) if self.clip else wh

    def forward(self, image_size: tuple[int, int], features: list[Tensor]) -> Tensor:
        """Default boxes for a batch padded to image_size = (H, W), with one feature map [B, C, h_k, w_k]
        per entry of aspect_ratios. Returns [sum_k h_k w_k A_k, 4] xyxy pixels (the same for every image)."""
        if len(features) != len(self.aspect_ratios):
            raise ValueError(f"{len(features)} feature maps for {len(self.aspect_ratios)} lists of aspect ratios")
        H, W = image_size
        boxes = []
        for k, f in enumerate(features):
            h, w = f.shape[-2:]
            cy, cx = torch.meshgrid((torch.arange(h) + 0.5) / h, (torch.arange(w) + 0.5) / w, indexing="ij")
            centres = torch.stack([cx, cy], dim=-1).reshape(-1, 1, 2)          # [h * w, 1, 2]
            wh = self.cell_boxes(k)[None]                                       # [1, A_k, 2]
            boxes.append(torch.cat([centres - wh / 2, centres + wh / 2], dim=-1).reshape(-1, 4))
        scale = torch.tensor([W, H, W, H], dtype=torch.float32)
        return (torch.cat(boxes) * scale).to(features[0].device, features[0].dtype)
