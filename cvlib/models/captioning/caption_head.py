"""The caption branch of DenseCap, and the RoI heads that run it after the box branch.

Shape shorthand: R RoIs (the sampled positives in training, the detections at test), H the box
head's width, D the region code's width, V the vocabulary, T the token rows' length, Q the
pixel crop's side. Boxes are xyxy in image pixels.

    heads = CaptionRoIHeads(pooler, box_head, predictor, roi_cfg, CaptionBranch(H, vocab, cfg))
    inputs = (features, images)             # [B, C, h, w] and the padded images [B, 3, H, W]
    codes = heads.codes(inputs, boxes, image_sizes)                         # [R, D]
    losses = heads.caption_branch.loss(codes, objects, tokens)              # training: {"loss_caption"}
    captions = heads.caption_branch.captions(codes)                         # test: R str

The region code, as in the DenseCap paper, starts from the box branch's own recognition network:
1. the box branch's pooler and box head (two FC layers): [R, C, P, P] -> [R, H], the features its
   objectness and offsets are read from;
2. region code: a linear map [R, H] -> [R, D], plus
   - the region's own pixels, the box cut out of the image and warped to Q x Q (R-CNN's crops,
     `pixel_size`), through two 3 x 3 convolutions with 2 x 2 max pooling and a linear map: a
     map trained to find and classify objects keeps little of a region's colour, and at its
     stride of 4 little of a stick figure's limbs;
   - a two-layer map of the box's place in the image: its centre, width and height as fractions
     of the image (cx, cy, w, h), each with sin and cos at 4 frequencies (a Fourier code, so that
     a few hundred steps learn borders such as "a third of the way down"): a pooled feature does
     not know where in the image it was cut out, and captions say where ("at the top");
3. the language model (`language_model.CaptionLSTM`) on the codes: cross-entropy per word with
   teacher forcing in training (`loss_caption`), greedy or beam decoding at test.

Not in the DenseCap paper, and off unless `word_weight` > 0: an auxiliary linear head on the region
code says, for every word of the vocabulary, whether the region's caption has it (`loss_words`,
binary cross-entropy, weighted by `word_weight`), so that the code is pushed to hold every attribute
the caption names, not only those the language model picks up first. Only training uses it.

`CaptionRoIHeads` is the detection package's `RoIHeads` with one more branch slot,
`_forward_caption`, run as `_forward_mask` is: on the object RoIs sampled for the box branch in
training (each with the index of its object, whose caption is the target), on the final
detections at test time. In training it keeps the object RoIs that overlap their object by at
least `min_iou` (0.7; the box branch's objects start at 0.5): a box that cuts off half a figure
does not show its pose, and would teach the caption of what it does not show.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import box_iou

from ..detection.poolers import warp
from ..detection.roi_heads import RoIHeads, positives
from .language_model import END, PAD, CaptionLSTM
from .vocabulary import Vocabulary


@dataclass
class CaptionHeadConfig:
    """The caption branch's sizes and its decoding at test time."""
    pixel_size: int = 32               # the region's pixels warped to pixel_size x pixel_size (a multiple of 4)
    width: int = 256                   # D: region code, word embedding and LSTM width
    layers: int = 1                    # LSTM layers
    place: bool = True                 # add the box's place in the image to the region code
    beam: int = 1                      # 1: greedy decoding; k > 1: a beam of k
    min_iou: float = 0.7               # training: the captions of object RoIs that overlap their object this much
    max_words: int = 12                # longest caption said at test time
    word_weight: float = 0.0           # > 0: an auxiliary head says from the code which words the caption has

    def __post_init__(self):
        for name in ("pixel_size", "width", "layers", "beam", "max_words"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"CaptionHeadConfig.{name} must be an int >= 1, got {value!r}")
        if self.pixel_size % 4:
            raise ValueError(f"CaptionHeadConfig.pixel_size must be a multiple of 4 (two 2 x 2 pools), "
                             f"got {self.pixel_size}")
        if not 0 <= self.min_iou <= 1:
            raise ValueError(f"CaptionHeadConfig.min_iou must be in 0..1, got {self.min_iou!r}")
        if not self.word_weight >= 0:
            raise ValueError(f"CaptionHeadConfig.word_weight must be >= 0, got {self.word_weight!r}")


FREQUENCIES = 4                         # the place code's sin / cos frequencies: 1, 2, 4, 8 cycles


def box_places(boxes: list[Tensor], image_sizes: list[tuple[int, int]]) -> Tensor:
    """Each box's place in its image: boxes one [R_i, 4] (xyxy pixels) per image -> [R, 4], its
    centre, width and height divided by the image's width and height (cx, cy, w, h; 0..1)."""
    scale = [b.new_tensor([w, h, w, h]) for b, (h, w) in zip(boxes, image_sizes)]
    if not boxes:
        return torch.zeros(0, 4)
    xyxy = torch.cat([b / s for b, s in zip(boxes, scale)])
    return torch.cat([(xyxy[:, :2] + xyxy[:, 2:]) / 2, xyxy[:, 2:] - xyxy[:, :2]], dim=1)


def fourier(places: Tensor) -> Tensor:
    """[R, 4] in 0..1 -> [R, 4 (1 + 2 FREQUENCIES)]: each value, and sin / cos of 2^k pi value."""
    angles = places[..., None] * (torch.pi * 2.0 ** torch.arange(FREQUENCIES, device=places.device))
    return torch.cat([places, angles.sin().flatten(1), angles.cos().flatten(1)], dim=1)


class CaptionBranch(nn.Module):
    """The region code's maps (box head features, pixels, place) and the CaptionLSTM; see the module docstring."""

    def __init__(self, in_features: int, vocab: Vocabulary, cfg: CaptionHeadConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or CaptionHeadConfig()
        self.vocab = vocab
        self.fc = nn.Linear(in_features, cfg.width)
        q = cfg.pixel_size // 4                                  # two 2 x 2 max pools
        self.pixels = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                    nn.Flatten(), nn.Linear(32 * q * q, cfg.width))
        self.place = nn.Sequential(nn.Linear(4 * (1 + 2 * FREQUENCIES), cfg.width), nn.ReLU(),
                                   nn.Linear(cfg.width, cfg.width)) if cfg.place else None
        self.lm = CaptionLSTM(len(vocab), cfg.width, cfg.layers)
        self.words = nn.Linear(cfg.width, len(vocab)) if cfg.word_weight > 0 else None

    def codes(self, regions: Tensor, images: Tensor, boxes: list[Tensor], image_sizes: list[tuple[int, int]]) -> Tensor:
        """regions [R, H] (the box head's features of the boxes), images [B, 3, H, W], boxes one
        [R_i, 4] per image -> region codes [R, D]."""
        x = self.fc(regions) + self.pixels(warp(images, boxes, self.cfg.pixel_size))
        if self.place is not None:
            x = x + self.place(fourier(box_places(boxes, image_sizes).to(x)))
        return F.relu(x)

    def loss(self, codes: Tensor, objects: list[Tensor], tokens: list[Tensor]) -> dict[str, Tensor]:
        """{"loss_caption"} of the positive RoIs (and, with cfg.word_weight, "loss_words"): codes
        [R, D]; objects int64 [R_i] per image (index into the image's captions); tokens one int64
        [G_i, T_i] per image (Vocabulary.encode_batch)."""
        t = max((tok.shape[1] for tok in tokens), default=2)
        rows = torch.cat([F.pad(tok, (0, t - tok.shape[1]), value=PAD)[obj] for tok, obj in zip(tokens, objects)])
        losses = {"loss_caption": self.lm.loss(codes, rows)}
        if self.words is not None:
            losses["loss_words"] = self.cfg.word_weight * self.word_loss(codes, rows)
        return losses

    def word_loss(self, codes: Tensor, rows: Tensor) -> Tensor:
        """Binary cross-entropy of the auxiliary head: for every word of the vocabulary, is it in the
        region's caption? codes [R, D], rows int64 [R, T] token rows -> a scalar (0 for no rows)."""
        present = torch.zeros(len(rows), len(self.vocab), device=codes.device)
        present.scatter_(1, rows, 1.0)
        logits = self.words(codes)[:, END + 1:]                  # words only: PAD, START, END left out
        if not len(rows):
            return logits.sum() * 0.0
        return F.binary_cross_entropy_with_logits(logits, present[:, END + 1:])

    def captions(self, codes: Tensor, beam: int | None = None) -> list[str]:
        """One caption per code [R, D]: decoded with the config's beam (or `beam`)."""
        ids = self.lm.decode(codes, beam=beam or self.cfg.beam, max_words=self.cfg.max_words)
        return [self.vocab.decode(row) for row in ids]


class CaptionRoIHeads(RoIHeads):
    """RoIHeads (box branch) + the caption branch: losses loss_classifier, loss_box_reg, loss_caption
    in training; detections with boxes, labels, scores, captions at test time."""

    def __init__(self, pooler, box_head, predictor, cfg, caption_branch: CaptionBranch):
        super().__init__(pooler, box_head, predictor, cfg)
        self.caption_branch = caption_branch

    def codes(self, inputs: tuple[Tensor, Tensor], boxes: list[Tensor], image_sizes: list[tuple[int, int]]) -> Tensor:
        """inputs (features [B, C, h, w], images [B, 3, H, W]), boxes one [R_i, 4] per image -> the
        region codes [R, D]: the box branch's pooler and box head, then the caption branch's maps."""
        features, images = inputs
        regions = self.box_head(self.pooler(features, boxes))                     # [R, H]
        return self.caption_branch.codes(regions, images, boxes, image_sizes)

    def captions(self, inputs: tuple[Tensor, Tensor], boxes: list[Tensor], image_sizes: list[tuple[int, int]],
                 beam: int | None = None) -> list[list[str]]:
        """The captions of boxes (one [R_i, 4] per image): one list of R_i str per image, decoded with
        the config's beam (or `beam`)."""
        said = self.caption_branch.captions(self.codes(inputs, boxes, image_sizes), beam=beam)
        starts = torch.tensor([0] + [len(b) for b in boxes]).cumsum(0).tolist()
        return [said[a:b] for a, b in zip(starts, starts[1:])]

    def _forward_caption(self, inputs: tuple[Tensor, Tensor], instances, image_sizes: list[tuple[int, int]],
                         targets: list[dict] | None = None):
        """inputs: (features, images), as `DenseCap.roi_inputs` gives them. Train mode: instances =
        (sampled proposals per image, labels [R], objects per image) -> {"loss_caption"} on the
        object RoIs (targets carry `tokens` [G_i, T_i]). Eval mode: instances = the detections
        (dicts with boxes [D_i, 4]), a list of D_i captions added to each."""
        if not self.training:
            said = self.captions(inputs, [d["boxes"] for d in instances], image_sizes)
            for d, captions in zip(instances, said):
                d["captions"] = captions
            return instances
        boxes, _, objects = positives(*instances)
        if self.caption_branch.cfg.min_iou > 0:
            close = [box_iou(b, t["boxes"][o]).diagonal() >= self.caption_branch.cfg.min_iou
                     for b, o, t in zip(boxes, objects, targets)]
            boxes, objects = [b[c] for b, c in zip(boxes, close)], [o[c] for o, c in zip(objects, close)]
        codes = self.codes(inputs, boxes, image_sizes)
        return self.caption_branch.loss(codes, objects, [t["tokens"] for t in targets])

    def forward(self, inputs: tuple[Tensor, Tensor], proposals: list[Tensor], image_sizes: list[tuple[int, int]],
                targets: list[dict] | None = None):
        """inputs: (features [B, C, h, w], images [B, 3, H, W]); the box branch reads the features."""
        features = inputs[0]
        if not self.training:
            return self._forward_caption(inputs, self._forward_box(features, proposals, image_sizes), image_sizes)
        proposals, labels, target_offsets, objects = self.select_training_samples(proposals, targets)
        losses = self._forward_box(features, proposals, image_sizes, labels, target_offsets)
        return {**losses, **self._forward_caption(inputs, (proposals, labels, objects), image_sizes, targets)}
