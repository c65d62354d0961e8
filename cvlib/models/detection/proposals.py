"""Proposal generators: the slot of a two-stage detector that says where to look.

Every generator is a module with one interface, so that Fast R-CNN and Faster R-CNN differ
only in this slot and a chapter can swap it:

    boxes, losses = generator(images, features, image_sizes, targets, proposals)

images: list of [3, H_i, W_i]; features: the backbone's [B, C, h, w]; image_sizes: (H_i, W_i);
targets: training targets or None; proposals: boxes the caller passes, or None.
Returns one Tensor[P_i, 4] (xyxy pixels) per image and a dict of losses (empty but for a
generator that learns, the RPN in `rpn.py`).
"""
from __future__ import annotations

from typing import Callable

from torch import Tensor, nn
from torchvision.ops import remove_small_boxes

from ...checks import check_proposals


def _checked(proposals: list[Tensor], images: list[Tensor]) -> list[Tensor]:
    """Proposals checked (`cvlib.checks.check_proposals`), on the images' device and dtype; boxes
    thinner than a pixel dropped (no box coder for empty boxes)."""
    check_proposals(proposals, images)
    proposals = [p.to(device=image.device, dtype=image.dtype) for p, image in zip(proposals, images)]
    return [p[remove_small_boxes(p, min_size=1.0)] for p in proposals]


class GivenProposals(nn.Module):
    """The caller passes the proposals (e.g. computed once and cached); nothing is learnt."""

    def forward(self, images, features, image_sizes, targets=None, proposals=None):
        if proposals is None:
            raise ValueError("this detector needs proposals: pass proposals=[Tensor[N, 4], ...], one per image")
        return _checked(proposals, images), {}


class SelectiveSearchProposals(nn.Module):
    """Selective search on each image (or `fn`, any image [3, H, W] -> [N, 4]), unless proposals are passed."""

    def __init__(self, fn: Callable[[Tensor], Tensor] | None = None):
        super().__init__()
        if fn is None:
            from ...proposals import selective_search as fn
        self.fn = fn

    def forward(self, images, features, image_sizes, targets=None, proposals=None):
        if proposals is None:
            proposals = [self.fn(image) for image in images]
        return _checked(proposals, images), {}
