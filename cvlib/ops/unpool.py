"""Upsampling inside a network: three kinds of unpooling and the transpose convolution.

Each op is written in plain tensor code so that the mechanism can be read off:

- `nearest_unpool`: every input value fills its whole s x s block of the output.
- `bed_of_nails_unpool`: every input value goes to one fixed position of its block
  (the top-left corner by default); the rest of the block is 0.
- `max_unpool`: like bed of nails, but each value goes back to the position its
  matching max-pooling layer took the maximum from (the pooling layer remembers it).
- `transpose_conv2d` (also called deconvolution, upconvolution or backward strided
  convolution): every input value scales the filter and stamps it into the output,
  moving `stride` pixels per input pixel; where stamps overlap they are summed.

Tested equal to `F.interpolate(mode="nearest")`, `F.max_unpool2d` and `F.conv_transpose2d`;
models call those fast kernels. All ops take a `Tensor[N, C, H, W]` (float) and keep
the batch and channel axes; they run on any device and let gradients flow.
"""
from __future__ import annotations

import torch
from torch import Tensor


def _pair(v, name: str) -> tuple[int, int]:
    pair = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(pair) != 2 or not all(isinstance(k, int) and not isinstance(k, bool) for k in pair):
        raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
    return pair


def _check4d(x: Tensor, name: str = "x") -> Tensor:
    if not torch.is_tensor(x) or x.ndim != 4:
        shape = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
        raise ValueError(f"{name} must be a Tensor[N, C, H, W], got {shape}")
    return x


def nearest_unpool(x: Tensor, scale: int | tuple[int, int] = 2) -> Tensor:
    """Nearest-neighbour unpooling: x [N, C, H, W] -> [N, C, H*s, W*s].

    out[..., i, j] = x[..., i // s, j // s]: each value is copied into its whole s x s block.
    Equals F.interpolate(x, scale_factor=s, mode="nearest") for integer s.
    """
    _check4d(x)
    sy, sx = _pair(scale, "scale")
    if sy < 1 or sx < 1:
        raise ValueError(f"scale must be >= 1, got {scale!r}")
    return x.repeat_interleave(sy, dim=2).repeat_interleave(sx, dim=3)


def bed_of_nails_unpool(x: Tensor, scale: int | tuple[int, int] = 2,
                        position: tuple[int, int] = (0, 0)) -> Tensor:
    """Bed-of-nails unpooling: x [N, C, H, W] -> [N, C, H*s, W*s].

    Each value goes to one fixed position (row, col) = `position` of its s x s block
    (the top-left corner by default); every other output value is 0.
    """
    _check4d(x)
    sy, sx = _pair(scale, "scale")
    py, px = _pair(position, "position")
    if sy < 1 or sx < 1:
        raise ValueError(f"scale must be >= 1, got {scale!r}")
    if not (0 <= py < sy and 0 <= px < sx):
        raise ValueError(f"position {position!r} lies outside the {sy} x {sx} block")
    n, c, h, w = x.shape
    out = x.new_zeros(n, c, h * sy, w * sx)
    out[:, :, py::sy, px::sx] = x       # one nail per block, the rest stay 0
    return out


def _output_size(output_size, default: tuple[int, int], stride: tuple[int, int]) -> tuple[int, int]:
    """(H, W) from output_size ((H, W) or (N, C, H, W)), each strictly between default - stride and
    default + stride: the sizes a pooling layer with this kernel and stride maps to the input's size
    (nn.MaxUnpool2d's rule; other sizes would put values in the wrong places)."""
    size = tuple(output_size)
    if len(size) == 4:
        size = size[2:]
    if len(size) != 2:
        raise ValueError(f"output_size must be (H, W) or (N, C, H, W), got {output_size!r}")
    size = _pair(tuple(int(v) for v in size), "output_size")
    for d, (got, base, s) in enumerate(zip(size, default, stride)):
        if not base - s < got < base + s:
            raise ValueError(f"invalid output_size {tuple(output_size)!r}: dimension {d} must be between "
                             f"{base - s} and {base + s} (exclusive) for this input, kernel and stride, got {got}")
    return size


def max_unpool(x: Tensor, indices: Tensor, kernel_size: int | tuple[int, int] = 2,
               stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0,
               output_size: tuple[int, int] | None = None) -> Tensor:
    """Max unpooling: put each value back where its max-pooling layer found the maximum.

    x:       [N, C, h, w], the (processed) pooled values
    indices: int64 [N, C, h, w], from the matching `F.max_pool2d(..., return_indices=True)`:
             the flat position y * W + x of each maximum in its [H, W] input plane
    output_size: (H, W) of the pooling layer's input; by default (h - 1) * stride - 2 * padding
             + kernel_size, as torch computes it.
    Returns [N, C, H, W]: zeros except at the remembered positions. Equals F.max_unpool2d.
    """
    _check4d(x)
    if not torch.is_tensor(indices) or indices.shape != x.shape:
        raise ValueError(f"indices must have the shape of x {tuple(x.shape)}, got "
                         f"{tuple(indices.shape) if torch.is_tensor(indices) else type(indices).__name__}")
    ky, kx = _pair(kernel_size, "kernel_size")
    sy, sx = _pair(stride if stride is not None else kernel_size, "stride")
    pad_y, pad_x = _pair(padding, "padding")
    if min(ky, kx, sy, sx) < 1 or min(pad_y, pad_x) < 0:
        raise ValueError(f"kernel_size and stride must be >= 1 and padding >= 0, got kernel_size={kernel_size!r}, "
                         f"stride={stride!r}, padding={padding!r}")
    if indices.dtype != torch.int64:
        raise TypeError(f"indices must be int64 (as F.max_pool2d(..., return_indices=True) gives them), "
                        f"got {indices.dtype}")
    n, c, h, w = x.shape
    default = ((h - 1) * sy - 2 * pad_y + ky, (w - 1) * sx - 2 * pad_x + kx)
    big_h, big_w = default if output_size is None else _output_size(output_size, default, (sy, sx))
    if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= big_h * big_w):
        raise ValueError(f"indices must lie in [0, {big_h * big_w}) for an output of {big_h} x {big_w}")
    out = x.new_zeros(n, c, big_h * big_w)
    out = out.scatter(2, indices.reshape(n, c, h * w), x.reshape(n, c, h * w))  # value -> remembered spot
    return out.reshape(n, c, big_h, big_w)


def transpose_conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                     output_padding: int | tuple[int, int] = 0) -> Tensor:
    """Transpose convolution as scatter-and-sum: x [N, Cin, H, W] -> [N, Cout, H', W'].

    weight: [Cin, Cout, kh, kw] (the layout of nn.ConvTranspose2d), bias: [Cout] or None.
    Input value x[n, :, i, j] scales the filter and is added into the output window whose
    top-left corner is (i * stride, j * stride); overlapping windows are summed. The full
    output, (H - 1) * stride + kh rows, is then cropped by `padding` on each side
    (output_padding adds rows/cols at the bottom/right), so
    H' = (H - 1) * stride - 2 * padding + kh + output_padding. Equals F.conv_transpose2d.
    """
    _check4d(x)
    if not torch.is_tensor(weight) or weight.ndim != 4 or weight.shape[0] != x.shape[1]:
        raise ValueError(f"weight must be [Cin={x.shape[1]}, Cout, kh, kw], got "
                         f"{tuple(weight.shape) if torch.is_tensor(weight) else type(weight).__name__}")
    sy, sx = _pair(stride, "stride")
    pad_y, pad_x = _pair(padding, "padding")
    opad_y, opad_x = _pair(output_padding, "output_padding")
    if sy < 1 or sx < 1 or pad_y < 0 or pad_x < 0:
        raise ValueError(f"stride must be >= 1 and padding >= 0, got stride={stride!r}, padding={padding!r}")
    if not (0 <= opad_y < max(sy, 1) and 0 <= opad_x < max(sx, 1)):
        raise ValueError(f"output_padding must be in [0, stride), got {output_padding!r}")
    n, _, h, w = x.shape
    _, c_out, kh, kw = weight.shape
    full_h, full_w = (h - 1) * sy + kh + opad_y, (w - 1) * sx + kw + opad_x
    full = x.new_zeros(n, c_out, full_h, full_w)
    for i in range(h):
        for j in range(w):
            # every input channel value scales its filter slice; the channels add up: [N, Cout, kh, kw]
            stamp = torch.einsum("nc,cokl->nokl", x[:, :, i, j], weight)
            full[:, :, i * sy:i * sy + kh, j * sx:j * sx + kw] += stamp   # overlaps are summed
    out = full[:, :, pad_y:full_h - pad_y, pad_x:full_w - pad_x]  # crop `padding` from each side
    if out.shape[-2] <= 0 or out.shape[-1] <= 0:
        raise ValueError(f"padding {padding!r} crops away the whole {full_h} x {full_w} output")
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out
