"""Semantic segmentation by sliding window: classify a small patch around every pixel.

    model = PatchClassifier(PatchConfig(patch=17))
    fit(model, patch_batches(train, model.cfg.patch), steps=300, step_fn=patch_step)
    scores = sliding_window(model, images)          # [N, C, H, W]: one patch per pixel, 4096 for 64 x 64
    fcn = model.fully_convolutional()               # the same weights as one convolutional pass
    torch.allclose(fcn(images), scores)             # True, at a fraction of the cost

The classifier is a small CNN: `convs` 3 x 3 convolutions without padding shrink the
P x P patch, then two fully connected layers give C class scores for the patch's centre
pixel. Applied per pixel, neighbouring patches overlap almost completely, so the same
convolution outputs are recomputed up to P x P times. `fully_convolutional()` rewrites the
fully connected layers as convolutions (the first as a k x k convolution over the k x k
feature map, the second as a 1 x 1 convolution): one pass over the padded image then
computes every pixel's scores at once, sharing the overlapping work.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...checks import check_batch, check_number
from .semantic import NUM_CLASSES, SemanticData, check_segmentation_batch


@dataclass
class PatchConfig:
    """patch: side of the square patch (odd, centred on the pixel); width: channels of the
    convolutions (doubled after the first half); hidden: units of the first fully connected layer."""
    num_classes: int = NUM_CLASSES
    patch: int = 17
    convs: int = 4
    width: int = 16
    hidden: int = 64

    def __post_init__(self):
        check_number(self.num_classes, "num_classes (it counts the background too)", integer=True, low=2)
        for name in ("patch", "convs", "width", "hidden"):
            check_number(getattr(self, name), name, integer=True, low=1)
        if self.patch % 2 == 0 or self.patch < 3:
            raise ValueError(f"patch must be odd (centred on a pixel) and at least 3, got {self.patch}")
        if self.patch - 2 * self.convs < 1:
            raise ValueError(f"{self.convs} unpadded 3 x 3 convolutions shrink a {self.patch} px patch to nothing")

    @property
    def feature_size(self) -> int:
        """Side of the feature map after the convolutions: each unpadded 3 x 3 conv takes 2 px off."""
        return self.patch - 2 * self.convs


class PatchClassifier(nn.Module):
    """patches float [B, 3, P, P] -> class scores [B, C] of each patch's centre pixel."""

    def __init__(self, cfg: PatchConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or PatchConfig()
        layers, c_in = [], 3
        for k in range(cfg.convs):
            c_out = cfg.width * (2 if k >= cfg.convs // 2 else 1)
            layers += [nn.Conv2d(c_in, c_out, 3), nn.BatchNorm2d(c_out), nn.ReLU()]   # no padding: P -> P - 2
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.channels = c_in
        self.fc1 = nn.Linear(c_in * cfg.feature_size ** 2, cfg.hidden)
        self.fc2 = nn.Linear(cfg.hidden, cfg.num_classes)

    def forward(self, patches: Tensor) -> Tensor:
        p = self.cfg.patch
        if patches.ndim != 4 or patches.shape[1:] != (3, p, p):
            raise ValueError(f"patches must be [B, 3, {p}, {p}], got {tuple(patches.shape)}")
        x = self.features(patches)                       # [B, c, k, k]
        return self.fc2(F.relu(self.fc1(x.flatten(1))))  # [B, C]

    def fully_convolutional(self) -> "PatchFCN":
        """The same network as convolutions only (it shares this model's weights at the time of the call)."""
        return PatchFCN(self)


def pad_for_patches(images: Tensor, patch: int) -> Tensor:
    """Zero-pad [N, 3, H, W] by patch // 2 on every side, so every pixel has a full patch around it."""
    r = patch // 2
    return F.pad(images, (r, r, r, r))


def sliding_window(model: PatchClassifier, images: Tensor, batch_size: int = 2048) -> Tensor:
    """Classify the patch around every pixel, one patch at a time in batches.

    images: float [N, 3, H, W] -> scores [N, C, H, W]. Runs N * H * W patches through the classifier.
    """
    check_batch(images)                  # float in 0..1; moved to the model's device image by image
    check_number(batch_size, "batch_size", integer=True, low=1)
    p = model.cfg.patch
    n, _, h, w = images.shape
    device = next(model.parameters()).device
    model.eval()
    scores = []
    with torch.no_grad():
        for image in images:
            padded = pad_for_patches(image[None].to(device), p)
            patches = F.unfold(padded, p)                        # [1, 3 * P * P, H * W], one column per pixel
            patches = patches[0].T.reshape(h * w, 3, p, p)
            out = torch.cat([model(patches[i:i + batch_size]) for i in range(0, h * w, batch_size)])
            scores.append(out.T.reshape(-1, h, w))               # [C, H, W]
    return torch.stack(scores)


class PatchFCN(nn.Module):
    """A PatchClassifier rewritten as a fully convolutional network: [N, 3, H, W] -> [N, C, H, W].

    fc1 (over the k x k x c feature map) becomes a k x k convolution, fc2 a 1 x 1 convolution.
    Given the zero-padded image, each output pixel sees exactly its P x P patch.
    """

    def __init__(self, classifier: PatchClassifier):
        super().__init__()
        cfg, k = classifier.cfg, classifier.cfg.feature_size
        self.patch = cfg.patch
        self.features = classifier.features
        self.conv1 = nn.Conv2d(classifier.channels, cfg.hidden, k)
        self.conv2 = nn.Conv2d(cfg.hidden, cfg.num_classes, 1)
        with torch.no_grad():   # Linear weight [out, c * k * k] -> conv weight [out, c, k, k], same order
            self.conv1.weight.copy_(classifier.fc1.weight.reshape(cfg.hidden, classifier.channels, k, k))
            self.conv1.bias.copy_(classifier.fc1.bias)
            self.conv2.weight.copy_(classifier.fc2.weight[:, :, None, None])
            self.conv2.bias.copy_(classifier.fc2.bias)
        self.to(classifier.fc1.weight.device)

    def forward(self, images: Tensor) -> Tensor:
        check_segmentation_batch(images, self)
        x = self.features(pad_for_patches(images, self.patch))
        return self.conv2(F.relu(self.conv1(x)))


# ---------------------------------------------------------------- training on random patches

def patch_batches(data: SemanticData, patch: int, batch_size: int = 256, seed: int = 0):
    """Endless batches (patches float [B, 3, P, P], labels int64 [B]) cut around random pixels.

    The label of a patch is the class of its centre pixel; pixels are drawn uniformly, so
    the classes come in their natural proportions (mostly background).
    """
    g = torch.Generator().manual_seed(seed)
    padded = pad_for_patches(data.images, patch)
    n, h, w = data.labels.shape
    offsets = torch.arange(patch)
    while True:
        i = torch.randint(n, (batch_size,), generator=g)
        y = torch.randint(h, (batch_size,), generator=g)
        x = torch.randint(w, (batch_size,), generator=g)
        rows = (y[:, None] + offsets)[:, :, None]                 # [B, P, 1]: padded rows y .. y + P - 1
        cols = (x[:, None] + offsets)[:, None, :]                 # [B, 1, P]
        patches = padded[i[:, None, None], :, rows, cols]         # [B, P, P, 3]
        yield patches.permute(0, 3, 1, 2).contiguous(), data.labels[i, y, x]


def patch_step(model: PatchClassifier, batch, device, weight: Tensor | None = None) -> Tensor:
    """Cross-entropy of the patch classifier on one batch of (patches, centre labels).

    weight: float [C] per-class weights of the loss (see semantic.class_weights), or None.
    """
    patches, labels = (t.to(device, non_blocking=True) for t in batch)
    return F.cross_entropy(model(patches), labels, weight=None if weight is None else weight.to(device))
