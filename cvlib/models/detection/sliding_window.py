"""Detection by sliding window: classify every window (crop) of the image, background included.

    from cvlib.models.detection import SlidingWindowDetector, SlidingWindowConfig
    model = SlidingWindowDetector(SlidingWindowConfig())     # Scenes: 5 classes + background
    losses = model(images, targets)       # train mode: {"loss_classifier": ...}
    detections = model(images)            # eval mode: [{"boxes", "labels", "scores"}, ...]

torchvision's I/O contract: images is a list of Tensor[C, H, W] in 0..1 (any sizes);
targets a list of dicts with boxes (Tensor[M, 4], xyxy pixels) and labels (int64 [M],
0 = background); detections are dicts with boxes [K, 4] xyxy pixels, labels [K], scores [K].

1. windows: every window of `sizes` x `ratios`, stepped by `stride` of its size
   (`cvlib.proposals.sliding_windows`) - thousands per image;
2. crop + resize: each window is resampled to patch x patch pixels (torchvision's
   roi_align on the image itself);
3. a small CNN classifies each crop into num_classes classes, class 0 = background
   (no object, or an object that the window does not frame well: IoU < bg_iou);
4. windows whose best object class scores above score_thresh are kept, and NMS per class
   removes the windows that fire on the same object.
Training samples windows per image: those with IoU >= fg_iou with an object take its class,
those below bg_iou are background, those between are not used.

The same detector with in_channels=1 and num_classes=2 is a face detector
(`face_config()`): its classifier is trained on face / non-face patches (`classify`,
`cvlib.data.faces`), then slid over a photo. Matching, sampling and the final selection
(threshold, NMS per class) are the shared pieces of every detector (`matching.py`, `roi_heads.py`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import roi_align

from ...checks import check_detector_inputs, check_number, check_numbers
from ...data.scenes import CLASSES
from ...proposals.windows import sliding_windows
from .matching import BalancedSampler, Matcher, match_labels
from .roi_heads import select_detections


@dataclass
class SlidingWindowConfig:
    """Sizes in pixels of the input image. The defaults suit 64 px Scenes."""
    num_classes: int = len(CLASSES)          # including background (class 0)
    in_channels: int = 3
    sizes: tuple[float, ...] = (12, 17, 24, 34)   # window sides (square root of the area)
    ratios: tuple[float, ...] = (1.0, 2.0)        # height / width (2: standing persons)
    stride: float = 0.3                      # step, as a fraction of the window's side
    patch: int = 16                          # every window is resampled to patch x patch
    width: int = 16                          # channels of the first conv layer
    fg_iou: float = 0.5                      # training: IoU >= fg_iou -> the object's class
    bg_iou: float = 0.3                      # training: IoU < bg_iou -> background
    samples_per_image: int = 64              # training windows per image ...
    positive_fraction: float = 0.5           # ... of which at most this fraction are objects
    score_thresh: float = 0.05               # eval: keep windows whose object score is above
    nms_thresh: float = 0.3                  # eval: NMS per class
    detections_per_img: int = 50
    chunk: int = 4096                        # windows classified per forward pass
    standardize: bool = False                # scale each patch to zero mean, unit std (lighting)

    def __post_init__(self):
        check_number(self.num_classes, "num_classes (it counts the background too)", integer=True, low=2)
        check_number(self.patch, "patch (three 2 x 2 poolings need 8 pixels)", integer=True, low=8)
        for name in ("in_channels", "width", "samples_per_image", "detections_per_img", "chunk"):
            check_number(getattr(self, name), name, integer=True, low=1)
        check_numbers(self.sizes, "sizes", low=0, low_open=True)
        check_numbers(self.ratios, "ratios", low=0, low_open=True)
        check_number(self.stride, "stride (a fraction of the window)", low=0, high=1, low_open=True)
        for name in ("fg_iou", "bg_iou", "nms_thresh"):
            check_number(getattr(self, name), f"{name} (an IoU)", low=0, high=1)
        if self.bg_iou > self.fg_iou:
            raise ValueError(f"bg_iou = {self.bg_iou} is above fg_iou = {self.fg_iou}; need bg_iou <= fg_iou")
        check_number(self.positive_fraction, "positive_fraction", low=0, high=1, low_open=True)
        check_number(self.score_thresh, "score_thresh (a probability)", low=0, high=1, high_open=True)


def face_config(**overrides) -> SlidingWindowConfig:
    """Face / non-face on greyscale photos: 25 x 25 patches (scikit-image's lfw_subset), square windows."""
    base = dict(num_classes=2, in_channels=1, patch=25, sizes=(40, 56, 80, 112, 160, 224), ratios=(1.0,),
                stride=0.2, width=16, score_thresh=0.9, nms_thresh=0.2, detections_per_img=10, standardize=True)
    return SlidingWindowConfig(**{**base, **overrides})


class PatchHead(nn.Module):
    """The features of a patch: three conv blocks (each halves the size) and a hidden layer.

    Tensor[N, in_channels, patch, patch] -> Tensor[N, hidden]."""

    def __init__(self, in_channels: int, width: int, patch: int, hidden: int = 128):
        super().__init__()
        layers, c = [], in_channels
        for out in (width, 2 * width, 2 * width):
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c = out
        self.convs = nn.Sequential(*layers)
        side = patch // 8
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(c * side * side, hidden), nn.ReLU(inplace=True),
                                nn.Dropout(0.2))
        self.out_features = hidden

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.convs(x - 0.5))


class SlidingWindowDetector(nn.Module):
    """A patch classifier (head + predictor) applied to every sliding window; see the module docstring."""

    def __init__(self, cfg: SlidingWindowConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or SlidingWindowConfig()
        self.matcher = Matcher(cfg.fg_iou, cfg.bg_iou)
        self.sampler = BalancedSampler(cfg.samples_per_image, cfg.positive_fraction)
        self.head = PatchHead(cfg.in_channels, cfg.width, cfg.patch)
        self.predictor = nn.Linear(self.head.out_features, cfg.num_classes)   # class logits, 0 = background
        self._windows: dict[tuple, Tensor] = {}

    # ------------------------------------------------------------ pieces
    def windows(self, image_size: tuple[int, int]) -> Tensor:
        """Every window of an image of size (H, W): Tensor[N, 4], xyxy pixels (cached per size)."""
        key = tuple(image_size)
        if key not in self._windows:
            self._windows[key] = sliding_windows(key, self.cfg.sizes, self.cfg.ratios, self.cfg.stride)
        return self._windows[key]

    def crops(self, image: Tensor, boxes: Tensor) -> Tensor:
        """Resample each box of one image to patch x patch: Tensor[C, H, W], [N, 4] -> [N, C, patch, patch]."""
        return roi_align(image[None], [boxes.to(image)], self.cfg.patch, spatial_scale=1.0,
                         sampling_ratio=2, aligned=True)

    def classify(self, patches: Tensor) -> Tensor:
        """Class logits of patches: Tensor[N, C, patch, patch] -> Tensor[N, num_classes]."""
        if self.cfg.standardize:
            mean = patches.mean(dim=(1, 2, 3), keepdim=True)
            patches = (patches - mean) / (patches.std(dim=(1, 2, 3), keepdim=True) + 0.05) * 0.25 + 0.5
        return self.predictor(self.head(patches))

    def window_scores(self, image: Tensor) -> tuple[Tensor, Tensor]:
        """(windows Tensor[N, 4], class probabilities Tensor[N, num_classes]) for one image."""
        boxes = self.windows(image.shape[-2:]).to(image.device)
        probs = [F.softmax(self.classify(self.crops(image, chunk)), dim=1)
                 for chunk in boxes.split(self.cfg.chunk)]
        return boxes, torch.cat(probs) if probs else image.new_zeros((0, self.cfg.num_classes))

    # ------------------------------------------------------------ training
    def sample(self, boxes: Tensor, target: dict) -> tuple[Tensor, Tensor]:
        """Training windows of one image and their labels: (Tensor[S, 4], int64 [S]). IoU >= fg_iou
        with an object: its class; below bg_iou: background (0); between: not used."""
        labels, _ = match_labels(self.matcher, target["boxes"].to(boxes), target["labels"].to(boxes.device), boxes)
        positive, negative = self.sampler(labels)
        keep = torch.cat([positive, negative])
        return boxes[keep], labels[keep]

    # ------------------------------------------------------------ torchvision's contract
    def forward(self, images: list[Tensor], targets: list[dict] | None = None):
        images = check_detector_inputs(images, targets, training=self.training, num_classes=self.cfg.num_classes,
                                       channels=self.cfg.in_channels, weights=self.predictor.weight)
        if self.training:
            patches, labels = [], []
            for image, target in zip(images, targets):
                boxes, lab = self.sample(self.windows(image.shape[-2:]).to(image.device), target)
                patches.append(self.crops(image, boxes)), labels.append(lab)
            logits = self.classify(torch.cat(patches))
            return {"loss_classifier": F.cross_entropy(logits, torch.cat(labels))}
        return [self.detect(image) for image in images]

    @torch.no_grad()
    def detect(self, image: Tensor) -> dict:
        """Detections of one image: windows whose best object class scores above score_thresh, after NMS."""
        cfg = self.cfg
        boxes, probs = self.window_scores(image)
        scores, labels = probs[:, 1:].max(dim=1)
        return select_detections(boxes, scores, labels + 1, cfg.score_thresh, cfg.nms_thresh,
                                 cfg.detections_per_img)      # + 1: the best class other than background
