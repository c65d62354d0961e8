"""RoIAlign with a faster backward on the CPU: the same forward (torchvision's kernel), and a
gradient computed as two small matrix products per box instead of a scatter of every sample.

    out = roi_align_fast_grad(features, rois, output_size=7, spatial_scale=0.25, sampling_ratio=2)

torchvision's CPU backward adds every bilinear sample of every bin of every box into the feature
map one at a time: in the detectors' training steps here it is about a quarter of the step. But
RoIAlign's bilinear samples are separable: each output bin (p, q) of a box reads the map through a
weight Ay[p, h] along the rows times a weight Ax[q, w] along the columns (each the average of its
samples' two-cell interpolation weights along that axis; a sample more than a cell outside the map
has weight 0 on its axis, so it reads 0). Then

    out[c, p, q]  = sum_h sum_w Ay[p, h] features[c, h, w] Ax[q, w]   (Ay F Ax^T, per channel)
    grad_features = sum over the boxes of Ay^T grad_out[c] Ax          (per image of the batch)

Only a fixed sampling_ratio (> 0) is separable into fixed-size matrices; the adaptive one (-1)
falls back to torchvision's backward. Tested equal to torchvision's gradients (tests/test_roi.py).
"""
from __future__ import annotations

import torch
from torch import Tensor
from torchvision.ops import roi_align

from .roi import _bilinear_weights


def axis_weights(start: Tensor, length: Tensor, bins: int, samples: int, size: int) -> Tensor:
    """The weight of every cell along one axis for every bin of every box.

    start, length: Tensor[K], the boxes' first coordinate and extent along the axis, in feature
    cells (RoIAlign's, after the half-cell shift of aligned=True); bins: output bins along the axis;
    samples: samples per bin; size: the map's length along the axis. Returns Tensor[K, bins, size]:
    each bin's average over its samples of their bilinear weights (rows sum to 1, or less at the edge).
    """
    step = length / bins                                                      # [K]
    offsets = torch.arange(bins, dtype=start.dtype, device=start.device)[:, None] \
        + (torch.arange(samples, dtype=start.dtype, device=start.device) + 0.5) / samples   # [bins, n]
    coords = start[:, None, None] + offsets * step[:, None, None]             # [K, bins, n]
    coords = torch.nan_to_num(coords, nan=-2.0, posinf=-2.0, neginf=-2.0)    # a broken box reads 0
    low, high, w_low, w_high, valid = _bilinear_weights(coords, size)
    weights = coords.new_zeros((*coords.shape, size))                         # [K, bins, n, size]
    weights.scatter_add_(-1, low[..., None], (w_low * valid)[..., None])
    weights.scatter_add_(-1, high[..., None], (w_high * valid)[..., None])
    return weights.mean(dim=2)


class _RoIAlign(torch.autograd.Function):
    @staticmethod
    def forward(ctx, features, rois, output_size, spatial_scale, sampling_ratio, aligned):
        ctx.save_for_backward(rois)
        ctx.args = (features.shape, output_size, spatial_scale, sampling_ratio, aligned)
        return roi_align(features, rois, output_size, spatial_scale, sampling_ratio, aligned)

    @staticmethod
    def backward(ctx, grad_out):
        (rois,) = ctx.saved_tensors
        (batch, channels, height, width), (ph, pw), scale, samples, aligned = ctx.args
        offset = 0.5 if aligned else 0.0
        x1, y1 = rois[:, 1] * scale - offset, rois[:, 2] * scale - offset
        w, h = rois[:, 3] * scale - offset - x1, rois[:, 4] * scale - offset - y1
        if not aligned:                     # the original op makes every box at least one cell
            w, h = w.clamp(min=1.0), h.clamp(min=1.0)
        ay = axis_weights(y1, h, ph, samples, height).to(grad_out.dtype)      # [K, PH, H]
        ax = axis_weights(x1, w, pw, samples, width).to(grad_out.dtype)       # [K, PW, W]
        grad = grad_out.new_zeros((batch, channels, height, width))
        index = rois[:, 0].long()
        for b in range(batch):              # one image at a time keeps the products small
            k = (index == b).nonzero().flatten()
            if len(k):
                rows = torch.einsum("kph,kcpq->kchq", ay[k], grad_out[k])     # [K_b, C, H, PW]
                grad[b] = torch.einsum("kchq,kqw->chw", rows, ax[k])
        return grad, None, None, None, None, None


def roi_align_fast_grad(features: Tensor, rois: Tensor, output_size: int | tuple[int, int],
                        spatial_scale: float = 1.0, sampling_ratio: int = 2,
                        aligned: bool = True) -> Tensor:
    """torchvision.ops.roi_align(features, rois, ...) -> Tensor[K, C, PH, PW], with the separable
    backward above where sampling_ratio > 0 and the features need a gradient.

    features: Tensor[B, C, H, W]; rois: Tensor[K, 5] (batch index, x1, y1, x2, y2) in image pixels.
    """
    size = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    if sampling_ratio <= 0 or not (torch.is_grad_enabled() and features.requires_grad):
        return roi_align(features, rois, size, spatial_scale, sampling_ratio, aligned)
    return _RoIAlign.apply(features, rois, size, spatial_scale, sampling_ratio, aligned)
