"""DenseCap: a caption for every region, from the RoI features of Faster R-CNN.

    vocab = Vocabulary.from_captions(c for _, t in train for c in t["captions"])
    model = DenseCap(vocab, DenseCapConfig())
    losses = model(images, targets)   # train: loss_objectness, loss_rpn_box_reg, loss_classifier,
                                      #        loss_box_reg, loss_caption
    detections = model(images)        # eval: boxes [D, 4], scores [D], labels [D] (all 1), captions

targets: one dict per image with boxes [G, 4] (xyxy pixels) and captions (a list of G str, every
word in the vocabulary); labels, where given, are not used: the box branch is class-agnostic.

Backbone -> RegionProposalNetwork -> CaptionRoIHeads (`caption_head.py`):
- the box branch is Faster R-CNN's with two classes, background and object: its class score is
  the region's objectness and its 4 offsets refine the box (as in the DenseCap paper);
- the caption branch replaces the class head by a language model: the box branch's RoIAlign
  features and box head (the recognition network, shared as in the paper), plus the region's
  pixels and place, make a region code; an LSTM says the caption word by word
  (`language_model.py`). The heads read the features and the padded images (`roi_inputs`).
Training sums the five losses. At test time the box branch's detections (NMS among all regions)
are captioned, greedily or with a beam (`CaptionHeadConfig.beam`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from ...checks import check_images, check_targets
from ...nn import Backbone
from ..detection.batching import batch_images
from ..detection.faster_rcnn import FasterRCNNConfig
from ..detection.poolers import RoIPooler
from ..detection.roi_heads import BoxHead, Predictor, RoIHeadsConfig
from ..detection.rpn import RegionProposalNetwork
from ..detection.two_stage import TwoStageDetector
from .caption_head import CaptionBranch, CaptionHeadConfig, CaptionRoIHeads
from .vocabulary import Vocabulary


@dataclass
class DenseCapConfig:
    """Faster R-CNN's config with two classes (background, object) and RoIAlign, and the caption branch's."""
    detector: FasterRCNNConfig = field(
        default_factory=lambda: FasterRCNNConfig(num_classes=2, roi_heads=RoIHeadsConfig(pooler="roi_align")))
    caption: CaptionHeadConfig = field(default_factory=CaptionHeadConfig)

    def __post_init__(self):
        if self.detector.num_classes != 2:
            raise ValueError(f"DenseCap's box branch is class-agnostic (background and object): "
                             f"detector.num_classes must be 2, got {self.detector.num_classes}")


class DenseCap(TwoStageDetector):
    """DenseCap in torchvision's detection contract; see the module docstring."""

    def __init__(self, vocab: Vocabulary, cfg: DenseCapConfig | None = None):
        if not isinstance(vocab, Vocabulary):
            raise TypeError(f"vocab must be a cvlib Vocabulary (Vocabulary.from_captions(...)), got "
                            f"{type(vocab).__name__}")
        cfg = cfg or DenseCapConfig()
        det, roi = cfg.detector, cfg.detector.roi_heads
        backbone = Backbone(det.channels)
        c, stride = backbone.out_channels, backbone.stride
        heads = CaptionRoIHeads(RoIPooler(roi.pooler, roi.pool_size, stride),
                                BoxHead(c * roi.pool_size ** 2, roi.hidden), Predictor(roi.hidden, 2), roi,
                                CaptionBranch(roi.hidden, vocab, cfg.caption))
        super().__init__(backbone, RegionProposalNetwork(det.rpn, c, stride), heads, 2)
        self.cfg, self.vocab = cfg, vocab

    def forward(self, images: list[Tensor], targets: list[dict] | None = None):
        if self.training:
            targets = self.caption_targets(images, targets)
        return super().forward(images, targets)

    def roi_inputs(self, features: Tensor, batch: Tensor) -> tuple[Tensor, Tensor]:
        """The RoI heads read the features [B, C, h, w] and the padded images [B, 3, H, W]: the
        caption branch looks at each region's pixels too (`CaptionBranch.codes`)."""
        return features, batch

    def caption_targets(self, images, targets) -> list[dict]:
        """The targets the heads train on: boxes, labels (all 1: object) and tokens int64 [G, T] (the
        captions by the vocabulary). ValueError / TypeError naming the target for missing or empty
        captions and unknown words."""
        images = check_images(images, weights=next(self.parameters()))
        if targets is None:
            raise ValueError("in train mode DenseCap needs targets (a list of dicts with boxes and captions); "
                             "call model.eval() to caption")
        if not isinstance(targets, (list, tuple)) or not all(isinstance(t, dict) for t in targets):
            raise TypeError(f"targets must be a list of dicts with boxes and captions, got {type(targets).__name__}")
        for i, t in enumerate(targets):
            if "captions" not in t:
                raise ValueError(f"targets[{i}] has no 'captions' (keys {sorted(t)}); DenseCap learns to say a "
                                 "caption for every box: give one str per box")
        check_targets(targets, images, num_classes=None, keys=("boxes", "captions"))
        out = []
        for i, t in enumerate(targets):
            boxes = t["boxes"]
            tokens = self.vocab.encode_batch(list(t["captions"]), f"targets[{i}]['captions']").to(boxes.device)
            labels = torch.ones(len(boxes), dtype=torch.int64, device=boxes.device)
            out.append({"boxes": boxes, "labels": labels, "tokens": tokens})
        return out

    @torch.no_grad()
    def caption_boxes(self, images: list[Tensor], boxes: list[Tensor], beam: int | None = None) -> list[list[str]]:
        """Captions of given boxes (one [N_i, 4] xyxy per image), e.g. the ground truth: the caption
        branch alone, without the box branch. Returns one list of N_i str per image."""
        images = check_images(images, weights=next(self.parameters()))
        batch = batch_images(images, self.backbone.stride)
        inputs = self.roi_inputs(self.backbone(batch), batch)
        sizes = [tuple(image.shape[-2:]) for image in images]
        return self.roi_heads.captions(inputs, list(boxes), sizes, beam=beam)


@torch.no_grad()
def describe(model: DenseCap, data, batch_size: int = 4) -> list[dict]:
    """The detections (on the CPU) of a DenseCap in eval mode on the images of `data` ((image, target)
    pairs, e.g. a Scenes): one dict per image with boxes, labels, scores, captions."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(data), batch_size):
        images = [image.to(device) for image, _ in data[i:i + batch_size]]
        out += [{k: v.cpu() if torch.is_tensor(v) else v for k, v in d.items()} for d in model(images)]
    return out
