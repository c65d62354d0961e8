"""The building blocks every model of the book shares: one conv block and the small backbones.

    conv_block(3, 32)              # 3x3 conv, BatchNorm, ReLU (stride 1 keeps H x W)
    Backbone((32, 64, 32))         # detectors: image [B, 3, H, W] -> features [B, 32, H/4, W/4]
    PooledBackbone((16, 32, 64))   # localizer, pose: a conv block and 2x2 max pooling per stage,
                                   # [B, 3, H, W] -> [B, 64, H/8, W/8]

Every backbone has `out_channels` (channels of its feature map) and `stride` (image pixels per
feature-map cell), which is all a detector needs to know about it.
"""
from __future__ import annotations

import torch
from torch import nn


def channels_last(module: nn.Module) -> nn.Module:
    """`module` with its 4-D weights stored channels-last (each filter as [kh, kw, C_in] in memory).
    Its convolutions then return channels-last maps [B, C, H, W] (strides of [B, H, W, C]) and run
    on them, as does max pooling: the small models of Part 2 train about 1.3x faster on a CPU so.
    The values are the same up to the order of float sums, and any input layout is accepted."""
    return module.to(memory_format=torch.channels_last)


def conv_block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    """3x3 convolution (padding 1, no bias), BatchNorm, ReLU: [B, c_in, H, W] -> [B, c_out, H/stride, W/stride]."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True))


class Backbone(nn.Sequential):
    """The detectors' CNN: image [B, 3, H, W] -> feature map [B, C, H/4, W/4] (stride 4, C = channels[-1]).

    Five conv blocks, two of them with stride 2. R-CNN runs it on every warped proposal;
    Fast and Faster R-CNN run it once on the whole image. The last layer is narrow so that the
    feature of each RoI (C x P x P numbers) stays small.
    """
    stride = 4

    def __init__(self, channels: tuple[int, int, int] = (32, 64, 32)):
        c0, c1, c2 = channels
        super().__init__(conv_block(3, c0), conv_block(c0, c0, 2), conv_block(c0, c1),
                         conv_block(c1, c1, 2), conv_block(c1, c2))
        self.out_channels = c2


class PooledBackbone(nn.Sequential):
    """One stage per width: conv_block (3x3 conv, BatchNorm, ReLU), then 2x2 max pooling.

    images float [B, 3, H, W] -> feature map float [B, widths[-1], H / 2^k, W / 2^k], k = len(widths)
    (stride 2^k: 64 x 64 images and 4 stages give a 4 x 4 map). The classification + localization
    models of Part 2 read this map with their heads.
    """

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64, 128)):
        widths = tuple(widths)
        if not widths or any(not isinstance(c, int) or c < 1 for c in widths):
            raise ValueError(f"widths must be a non-empty tuple of positive ints, got {widths!r}")
        stages = [nn.Sequential(conv_block(c_in, c_out), nn.MaxPool2d(2))
                  for c_in, c_out in zip((3,) + widths[:-1], widths)]
        super().__init__(*stages)
        self.out_channels = widths[-1]
        self.stride = 2 ** len(widths)
