"""Fully convolutional networks for semantic segmentation: only convolutions, C x H x W scores out.

    FullResFCN(FCNConfig())                          # every layer at the image's full resolution
    DownUpFCN(FCNConfig(upsample="transpose"))       # downsample by max pooling, upsample back

Both map images [N, 3, H, W] to class scores [N, C, H, W]: one score per class for every
pixel, trained with per-pixel cross-entropy (see semantic.py). The full-resolution
network keeps H x W through every layer, which is expensive and sees little context;
the down/up network pools twice (H/4 x W/4 in the middle) and upsamples back with one of

- "nearest":      nearest-neighbour unpooling (each value fills its 2 x 2 block)
- "bed_of_nails": each value in the top-left of its block, zeros elsewhere
- "max_unpool":   each value back where the matching max-pooling layer found its maximum
- "transpose":    a learned 4 x 4 transpose convolution with stride 2 (overlaps summed)

The layers call torch's fast kernels; cvlib.ops holds the readable versions, tested equal.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn

from ...checks import check_number
from ...nn import conv_block
from ...ops import bed_of_nails_unpool
from .semantic import NUM_CLASSES, check_segmentation_batch

UPSAMPLING = ("nearest", "bed_of_nails", "max_unpool", "transpose")


@dataclass
class FCNConfig:
    """width: channels of the first stage (the second has 2 x width); stages: number of
    downsampling stages of DownUpFCN (each halves H and W); convs: 3 x 3 convolutions per stage."""
    num_classes: int = NUM_CLASSES
    width: int = 24
    stages: int = 2
    convs: int = 2
    upsample: str = "transpose"
    skip: bool = False     # DownUpFCN: add the encoder's features of the same resolution after upsampling

    def __post_init__(self):
        if self.upsample not in UPSAMPLING:
            raise ValueError(f"upsample must be one of {UPSAMPLING}, got {self.upsample!r}")
        check_number(self.num_classes, "num_classes (it counts the background too)", integer=True, low=2)
        for name in ("width", "stages", "convs"):
            check_number(getattr(self, name), name, integer=True, low=1)

    def channels(self, stage: int) -> int:
        """Channels at stage 0, 1, 2, ...: width, 2 width, 4 width, ... (at most 4 width)."""
        return self.width * 2 ** min(stage, 2)


def conv_stack(c_in: int, c_out: int, n: int = 2) -> nn.Sequential:
    """n conv blocks in a row (cvlib.nn.conv_block: 3 x 3 convolution, batch norm, ReLU):
    [N, c_in, H, W] -> [N, c_out, H, W] (padding 1 keeps H x W)."""
    return nn.Sequential(*(conv_block(c_in if k == 0 else c_out, c_out) for k in range(n)))


def _blocks(cfg: FCNConfig):
    """The conv blocks both FCNs share: down (one per stage), middle, up (one per stage).

    down[s]: channels(s - 1) -> channels(s); middle: channels(stages - 1) -> channels(stages) ->
    back to channels(stages - 1), so that what comes out matches the deepest pooled tensor
    (max unpooling needs the same channels as its pooling layer); up[s]: channels(s) ->
    channels(s - 1) (channels(0) for s = 0).
    """
    ch = [cfg.channels(s) for s in range(cfg.stages + 1)]
    down = nn.ModuleList([conv_stack(3 if s == 0 else ch[s - 1], ch[s], cfg.convs) for s in range(cfg.stages)])
    middle = nn.Sequential(conv_stack(ch[cfg.stages - 1], ch[cfg.stages], cfg.convs),
                           conv_stack(ch[cfg.stages], ch[cfg.stages - 1], 1))
    up = nn.ModuleList([conv_stack(ch[s], ch[max(s - 1, 0)], cfg.convs) for s in range(cfg.stages)])
    return down, middle, up


class FullResFCN(nn.Module):
    """DownUpFCN's convolutions, all at full resolution: no pooling, no upsampling.

    The same conv blocks (and the same number of parameters, but for the transpose
    convolutions), so the two differ only in the resolution the blocks work at:
    [N, 3, H, W] -> [N, C, H, W].
    """

    def __init__(self, cfg: FCNConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or FCNConfig()
        self.down, self.middle, self.up = _blocks(cfg)
        self.classifier = nn.Conv2d(cfg.channels(0), cfg.num_classes, 1)

    def forward(self, images: Tensor) -> Tensor:
        check_segmentation_batch(images, self)
        x = images
        for block in self.down:
            x = block(x)
        x = self.middle(x)
        for s in reversed(range(self.cfg.stages)):
            x = self.up[s](x)
        return self.classifier(x)


class Upsample(nn.Module):
    """Doubles H and W of [N, c, h, w] by the chosen method ("max_unpool" needs the pooling indices)."""

    def __init__(self, method: str, channels: int):
        super().__init__()
        if method not in UPSAMPLING:
            raise ValueError(f"method must be one of {UPSAMPLING}, got {method!r}")
        self.method = method
        if method == "transpose":  # output 2h x 2w: (h - 1) * 2 - 2 * 1 + 4 = 2h
            self.deconv = nn.ConvTranspose2d(channels, channels, kernel_size=4, stride=2, padding=1)

    def forward(self, x: Tensor, indices: Tensor | None = None, size=None) -> Tensor:
        if self.method == "nearest":
            return F.interpolate(x, scale_factor=2, mode="nearest")
        if self.method == "bed_of_nails":
            return bed_of_nails_unpool(x, 2)  # a zero tensor and one strided write: already fast
        if self.method == "max_unpool":
            if indices is None:
                raise ValueError("max unpooling needs the indices of the matching max-pooling layer")
            return F.max_unpool2d(x, indices, kernel_size=2, output_size=size)
        return self.deconv(x)

    def extra_repr(self) -> str:
        return self.method


class DownUpFCN(nn.Module):
    """Downsample with max pooling, then upsample back to full resolution inside the network.

    Encoder: stage s = conv block, then 2 x 2 max pooling (which remembers where each max was).
    Middle:  a conv block at H / 2^stages.
    Decoder: for each stage, from the deepest: upsample x 2 (by cfg.upsample; max unpooling
             uses the indices of the matching pooling layer), then a conv block.
    Classifier: 1 x 1 convolution. [N, 3, H, W] -> [N, C, H, W], H and W multiples of 2^stages.
    With cfg.skip=False everything the decoder knows comes up through the upsampling; with
    skip=True the encoder's features of the same resolution are added after each upsampling.
    """

    def __init__(self, cfg: FCNConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or FCNConfig()
        self.down, self.middle, self.up = _blocks(cfg)
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.ups = nn.ModuleList([Upsample(cfg.upsample, cfg.channels(s)) for s in range(cfg.stages)])
        self.classifier = nn.Conv2d(cfg.channels(0), cfg.num_classes, 1)

    def forward(self, images: Tensor) -> Tensor:
        check_segmentation_batch(images, self, 2 ** self.cfg.stages)
        x, remembered = images, []
        for block in self.down:
            x = block(x)
            features = x
            x, indices = self.pool(x)
            remembered.append((indices, features))
        x = self.middle(x)
        for s in reversed(range(self.cfg.stages)):
            indices, features = remembered[s]
            x = self.ups[s](x, indices, features.shape[-2:])
            if self.cfg.skip:
                x = x + features
            x = self.up[s](x)
        return self.classifier(x)
