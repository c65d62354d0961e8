"""Anchors: the reference boxes of a region proposal network, k at every feature-map cell.

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
