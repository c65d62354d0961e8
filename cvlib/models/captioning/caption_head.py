"""The caption branch of DenseCap, and the RoI heads that run it after the box branch.

Shape shorthand: R RoIs (the sampled positives in training, the detections at test), C feature
channels, P = pool_size, D the region code's width, V the vocabulary, T the token rows' length.
Boxes are xyxy in image pixels.

    branch = CaptionBranch(RoIPooler("roi_align", 7, stride), C, vocab, CaptionHeadConfig())
    codes = branch.codes(features, boxes, image_sizes)                      # [R, D]
    loss = branch.loss(features, boxes, objects, tokens, image_sizes)       # training
    detections = branch.predict(features, detections, image_sizes)          # test: adds captions

1. pool: RoIAlign of each RoI to [R, C, P, P];
2. region code (features to features): two FC layers + ReLU, [R, C P P] -> [R, D], plus a linear
   map of the region's own pixels (the last 3 channels, `DenseCap`'s image averaged to the map's
   cells) and a two-layer map of the box's place in the image (x1 / W, y1 / H, x2 / W, y2 / H) ->
   [R, D]: a pooled feature does not know where in the image it was cut out, and captions say
   where ("at the top");
3. the language model (`language_model.CaptionLSTM`) on the codes: cross-entropy per word with
   teacher forcing in training (`loss_caption`), greedy or beam decoding at test.

`CaptionRoIHeads` is the detection package's `RoIHeads` with one more branch slot,
`_forward_caption`, run as `_forward_mask` is: on the object RoIs sampled for the box branch in
training (each with the index of its object, whose caption is the target), on the final
detections at test time.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..detection.roi_heads import RoIHeads, positives
from .language_model import PAD, CaptionLSTM
from .vocabulary import Vocabulary


@dataclass
class CaptionHeadConfig:
    """The caption branch's sizes and its decoding at test time."""
    pool_size: int = 7                 # RoIAlign to pool_size x pool_size
    width: int = 256                   # D: region code, word embedding and LSTM width
    layers: int = 1                    # LSTM layers
    place: bool = True                 # add the box's place in the image to the region code
    pixels: bool = True                # the features' last 3 channels are the image: their own path
    beam: int = 1                      # 1: greedy decoding; k > 1: a beam of k
    max_words: int = 12                # longest caption said at test time

    def __post_init__(self):
        for name in ("pool_size", "width", "layers", "beam", "max_words"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"CaptionHeadConfig.{name} must be an int >= 1, got {value!r}")


def box_places(boxes: list[Tensor], image_sizes: list[tuple[int, int]]) -> Tensor:
    """Each box's place in its image: boxes one [R_i, 4] (xyxy pixels) per image -> [R, 4], the
    coordinates divided by the image's width and height (0..1 inside the image)."""
    scale = [b.new_tensor([w, h, w, h]) for b, (h, w) in zip(boxes, image_sizes)]
    return torch.cat([b / s for b, s in zip(boxes, scale)]) if boxes else torch.zeros(0, 4)


class CaptionBranch(nn.Module):
    """pooler -> region code (+ the box's place) -> CaptionLSTM; see the module docstring."""

    def __init__(self, pooler: nn.Module, in_channels: int, vocab: Vocabulary, cfg: CaptionHeadConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or CaptionHeadConfig()
        if getattr(pooler, "output_size", cfg.pool_size) != cfg.pool_size:
            raise ValueError(f"the caption pooler gives {pooler.output_size} x {pooler.output_size} features "
                             f"but CaptionHeadConfig.pool_size is {cfg.pool_size}")
        self.pooler, self.vocab = pooler, vocab
        self.colours = 3 if cfg.pixels else 0
        self.fc1 = nn.Linear((in_channels - self.colours) * cfg.pool_size ** 2, cfg.width)
        self.pixels = nn.Linear(3 * cfg.pool_size ** 2, cfg.width) if cfg.pixels else None
        self.fc2 = nn.Linear(cfg.width, cfg.width)
        self.place = nn.Sequential(nn.Linear(4, cfg.width), nn.ReLU(), nn.Linear(cfg.width, cfg.width)) \
            if cfg.place else None
        self.lm = CaptionLSTM(len(vocab), cfg.width, cfg.layers)

    def codes(self, features: Tensor, boxes: list[Tensor], image_sizes: list[tuple[int, int]]) -> Tensor:
        """features [B, C, h, w], boxes one [R_i, 4] per image -> region codes [R, D]."""
        pooled = self.pooler(features, boxes)                                    # [R, C, P, P]
        x = self.fc2(F.relu(self.fc1(pooled[:, :pooled.shape[1] - self.colours].flatten(1))))
        if self.pixels is not None:
            x = x + self.pixels(pooled[:, -3:].flatten(1))                       # the region's pixels
        if self.place is not None:
            x = x + self.place(box_places(boxes, image_sizes).to(x))
        return F.relu(x)

    def loss(self, features: Tensor, boxes: list[Tensor], objects: list[Tensor], tokens: list[Tensor],
             image_sizes: list[tuple[int, int]]) -> Tensor:
        """loss_caption of the positive RoIs: boxes [R_i, 4] and objects int64 [R_i] (index into the
        image's captions) per image; tokens: one int64 [G_i, T_i] per image (Vocabulary.encode_batch)."""
        t = max((tok.shape[1] for tok in tokens), default=2)
        rows = [F.pad(tok, (0, t - tok.shape[1]), value=PAD)[obj] for tok, obj in zip(tokens, objects)]
        return self.lm.loss(self.codes(features, boxes, image_sizes), torch.cat(rows))

    def captions(self, codes: Tensor, beam: int | None = None) -> list[str]:
        """One caption per code [R, D]: decoded with the config's beam (or `beam`)."""
        ids = self.lm.decode(codes, beam=beam or self.cfg.beam, max_words=self.cfg.max_words)
        return [self.vocab.decode(row) for row in ids]

    def predict(self, features: Tensor, detections: list[dict], image_sizes: list[tuple[int, int]]) -> list[dict]:
        """Adds captions (a list of D_i str) to each image's detections (dicts with boxes [D_i, 4])."""
        boxes = [d["boxes"] for d in detections]
        said = self.captions(self.codes(features, boxes, image_sizes))
        start = 0
        for d, b in zip(detections, boxes):
            d["captions"], start = said[start:start + len(b)], start + len(b)
        return detections


class CaptionRoIHeads(RoIHeads):
    """RoIHeads (box branch) + the caption branch: losses loss_classifier, loss_box_reg, loss_caption
    in training; detections with boxes, labels, scores, captions at test time."""

    def __init__(self, pooler, box_head, predictor, cfg, caption_branch: CaptionBranch):
        super().__init__(pooler, box_head, predictor, cfg)
        self.caption_branch = caption_branch

    def _forward_caption(self, features: Tensor, instances, image_sizes: list[tuple[int, int]],
                         targets: list[dict] | None = None):
        """Train mode: instances = (sampled proposals per image, labels [R], objects per image) ->
        {"loss_caption"} on the object RoIs (targets carry `tokens` [G_i, T_i]). Eval mode:
        instances = the detections, captions added."""
        if not self.training:
            return self.caption_branch.predict(features, instances, image_sizes)
        boxes, _, objects = positives(*instances)
        return {"loss_caption": self.caption_branch.loss(features, boxes, objects, [t["tokens"] for t in targets],
                                                         image_sizes)}

    def forward(self, features: Tensor, proposals: list[Tensor], image_sizes: list[tuple[int, int]],
                targets: list[dict] | None = None):
        if not self.training:
            return self._forward_caption(features, self._forward_box(features, proposals, image_sizes), image_sizes)
        proposals, labels, target_offsets, objects = self.select_training_samples(proposals, targets)
        losses = self._forward_box(features, proposals, image_sizes, labels, target_offsets)
        return {**losses, **self._forward_caption(features, (proposals, labels, objects), image_sizes, targets)}
