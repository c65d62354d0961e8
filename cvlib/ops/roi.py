"""RoI pooling and RoI align: cut each box out of a feature map and resize it to a fixed grid.

Fast R-CNN runs the CNN once per image and then needs, for every proposal, a feature
of fixed size for its fully connected layers. Both ops take the feature map, the boxes
in image pixels and `spatial_scale` (feature size / image size, e.g. 1/16), and return
Tensor[K, C, PH, PW]:

- `roi_pool` (Fast R-CNN) snaps the box to whole feature cells, splits it into PH x PW
  bins (also snapped) and takes the max of each bin. The snapping misaligns the
  feature with the box by up to half a cell.
- `roi_align` (Mask R-CNN) snaps nothing: it samples each bin at a few evenly spaced
  points by bilinear interpolation and averages them. `aligned=True` shifts the box by
  half a pixel so that pixel centres line up (the correct version; False is the original).

These are readable reference versions, one box at a time, tested equal to
`torchvision.ops.roi_pool` / `roi_align` (also for boxes that cross the feature map's
edge, and for no boxes at all). Models call torchvision's fast kernels.

Boxes are either Tensor[K, 5] rows (batch_index, x1, y1, x2, y2) or a list with one
Tensor[L, 4] xyxy per image of the batch, as in torchvision.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ..checks import check_number


def as_rois(boxes, features: Tensor) -> Tensor:
    """Tensor[K, 5] (batch_index, x1, y1, x2, y2) from either accepted box format."""
    if isinstance(boxes, (list, tuple)):
        if len(boxes) != len(features):
            raise ValueError(f"{len(boxes)} box tensors for a batch of {len(features)} feature maps")
        rows = []
        for i, b in enumerate(boxes):
            if not torch.is_tensor(b) or b.ndim != 2 or b.shape[1] != 4:
                got = tuple(b.shape) if torch.is_tensor(b) else type(b).__name__
                raise ValueError(f"boxes[{i}] must be Tensor[L, 4] xyxy, got {got}")
            rows.append(torch.cat([torch.full_like(b[:, :1], i), b], dim=1))
        return torch.cat(rows).to(features.dtype) if rows else features.new_zeros((0, 5))
    if not torch.is_tensor(boxes) or boxes.ndim != 2 or boxes.shape[1] != 5:
        raise ValueError("boxes must be Tensor[K, 5] (batch_index, x1, y1, x2, y2) or a list of Tensor[L, 4], "
                         f"got {tuple(boxes.shape) if torch.is_tensor(boxes) else type(boxes).__name__}")
    return boxes.to(features.dtype)


def _prepare(features: Tensor, boxes, output_size, spatial_scale: float):
    """The checks both ops share: (rois Tensor[K, 5], (PH, PW), the rows to compute).

    A row with a NaN or infinite coordinate is skipped and gives zeros (torchvision's kernels give zeros
    for some such boxes and undefined values, a C cast of NaN to int, for others)."""
    if not torch.is_tensor(features) or features.ndim != 4:
        shape = tuple(features.shape) if torch.is_tensor(features) else type(features).__name__
        raise ValueError(f"features must be Tensor[B, C, H, W], got {shape}")
    size = (output_size, output_size) if not isinstance(output_size, (list, tuple)) else tuple(output_size)
    if len(size) != 2:
        raise ValueError(f"output_size must be an int or (PH, PW), got {output_size!r}")
    size = tuple(check_number(v, "output_size", integer=True, low=1) for v in size)
    check_number(spatial_scale, "spatial_scale (feature cells per image pixel, e.g. 1 / 16)", low=0, low_open=True)
    rois = as_rois(boxes, features)
    finite = torch.isfinite(rois).all(dim=1)
    index = rois[finite, 0]
    if len(index) and (index.min() < 0 or index.max() >= len(features)):
        raise ValueError(f"boxes' batch index must lie in 0..{len(features) - 1} (a batch of {len(features)} "
                         f"feature maps), got {index.min().item():g}..{index.max().item():g}")
    return rois, size, finite.tolist()


def _round(x: float) -> int:
    """Round half away from zero (C's round, which torchvision uses; Python rounds half to even)."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def roi_pool(features: Tensor, boxes, output_size, spatial_scale: float = 1.0) -> Tensor:
    """Max pooling of each box into output_size bins, after snapping to the feature grid.

    features: Tensor[B, C, H, W]; boxes: Tensor[K, 5] or list of Tensor[L, 4], xyxy in image
    pixels; output_size: int or (PH, PW). Returns Tensor[K, C, PH, PW]; an empty bin, and a box with a
    NaN or infinite coordinate, give 0.
    """
    rois, (ph_out, pw_out), compute = _prepare(features, boxes, output_size, spatial_scale)
    _, C, H, W = features.shape
    out = features.new_zeros((len(rois), C, ph_out, pw_out))
    for k, (b, x1, y1, x2, y2) in enumerate(rois.tolist()):
        if not compute[k]:
            continue                                  # a NaN or infinite box: zeros
        fmap = features[int(b)]
        # 1. snap the box to whole feature cells (inclusive of its last cell)
        x1, y1 = _round(x1 * spatial_scale), _round(y1 * spatial_scale)
        x2, y2 = _round(x2 * spatial_scale), _round(y2 * spatial_scale)
        roi_w, roi_h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
        bin_w, bin_h = roi_w / pw_out, roi_h / ph_out
        for i in range(ph_out):
            # 2. snap each bin outwards to whole cells, and clip it to the feature map
            top = min(max(math.floor(i * bin_h) + y1, 0), H)
            bottom = min(max(math.ceil((i + 1) * bin_h) + y1, 0), H)
            for j in range(pw_out):
                left = min(max(math.floor(j * bin_w) + x1, 0), W)
                right = min(max(math.ceil((j + 1) * bin_w) + x1, 0), W)
                if bottom > top and right > left:
                    # 3. the max over the bin's cells, per channel
                    out[k, :, i, j] = fmap[:, top:bottom, left:right].amax(dim=(1, 2))
    return out


def _bilinear_weights(coords: Tensor, size: int):
    """Where a sample at each coordinate reads from, along one axis of length `size`.

    coords: Tensor[P] -> (low index, high index, weight of low, weight of high, valid), each
    Tensor[P]. A sample more than one cell outside the map is invalid (reads 0); one between
    -1 and 0 reads the border cell, as in torchvision.
    """
    valid = (coords >= -1.0) & (coords <= size)
    c = coords.clamp(min=0)
    low = c.floor().long()
    at_end = low >= size - 1
    low = torch.where(at_end, torch.full_like(low, size - 1), low)
    high = torch.where(at_end, low, low + 1)
    c = torch.where(at_end, low.to(c.dtype), c)
    frac = c - low
    return low, high, 1 - frac, frac, valid


def roi_align(features: Tensor, boxes, output_size, spatial_scale: float = 1.0,
              sampling_ratio: int = -1, aligned: bool = False) -> Tensor:
    """Average of bilinear samples in each of output_size bins of each box; no snapping.

    features: Tensor[B, C, H, W]; boxes: Tensor[K, 5] or list of Tensor[L, 4], xyxy in image
    pixels; output_size: int or (PH, PW); sampling_ratio: samples per bin along each axis
    (-1: ceil(box size / bins), adaptive per box); aligned: shift by half a pixel so that
    pixel centres line up. Returns Tensor[K, C, PH, PW]; a box with a NaN or infinite coordinate gives 0.
    """
    rois, (ph_out, pw_out), compute = _prepare(features, boxes, output_size, spatial_scale)
    _, C, H, W = features.shape
    offset = 0.5 if aligned else 0.0
    out = features.new_zeros((len(rois), C, ph_out, pw_out))
    for k, (b, x1, y1, x2, y2) in enumerate(rois.tolist()):
        if not compute[k]:
            continue                                  # a NaN or infinite box: zeros
        fmap = features[int(b)]
        x1, y1 = x1 * spatial_scale - offset, y1 * spatial_scale - offset
        roi_w, roi_h = x2 * spatial_scale - offset - x1, y2 * spatial_scale - offset - y1
        if not aligned:  # the original op forces boxes to at least one cell
            roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
        bin_w, bin_h = roi_w / pw_out, roi_h / ph_out
        n_y = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_h / ph_out)   # samples per bin
        n_x = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_w / pw_out)
        if n_y <= 0 or n_x <= 0:   # an empty box (aligned=True can give negative sizes): zeros
            continue
        # sample coordinates, bin by bin: [PH * n_y] rows and [PW * n_x] columns (the grid is separable)
        iy = torch.arange(n_y, dtype=features.dtype, device=features.device)
        ix = torch.arange(n_x, dtype=features.dtype, device=features.device)
        bins_y = torch.arange(ph_out, dtype=features.dtype, device=features.device)
        bins_x = torch.arange(pw_out, dtype=features.dtype, device=features.device)
        ys = (y1 + bins_y[:, None] * bin_h + (iy[None, :] + 0.5) * bin_h / n_y).flatten()
        xs = (x1 + bins_x[:, None] * bin_w + (ix[None, :] + 0.5) * bin_w / n_x).flatten()
        y_lo, y_hi, wy_lo, wy_hi, y_ok = _bilinear_weights(ys, H)
        x_lo, x_hi, wx_lo, wx_hi, x_ok = _bilinear_weights(xs, W)
        # bilinear interpolation at every (y, x) sample: [C, PH * n_y, PW * n_x]
        samples = (wy_lo[:, None] * wx_lo[None, :] * fmap[:, y_lo[:, None], x_lo[None, :]]
                   + wy_lo[:, None] * wx_hi[None, :] * fmap[:, y_lo[:, None], x_hi[None, :]]
                   + wy_hi[:, None] * wx_lo[None, :] * fmap[:, y_hi[:, None], x_lo[None, :]]
                   + wy_hi[:, None] * wx_hi[None, :] * fmap[:, y_hi[:, None], x_hi[None, :]])
        samples = samples * (y_ok[:, None] & x_ok[None, :])          # samples far outside read 0
        # average the n_y x n_x samples of each bin
        out[k] = samples.reshape(C, ph_out, n_y, pw_out, n_x).mean(dim=(2, 4))
    return out
