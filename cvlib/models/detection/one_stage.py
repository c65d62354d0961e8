"""The one-stage detector: one network pass over the image predicts every box at once.

    model = YOLO(YOLOConfig())  /  SSD(SSDConfig())
    losses = model(images, targets)     # train mode: dict of losses
    detections = model(images)          # eval mode: list of dicts boxes, labels, scores

No proposals and no RoI heads: a dense head on the feature map(s) predicts, at every cell, boxes,
their confidences and class scores, and one loss trains it all ("detection as one regression
problem"). What differs between YOLO and SSD is only what the cells predict and how the truth
is assigned to them, so a subclass gives three methods on the padded batch:

    outputs = self.predict(batch)                              # the raw head outputs
    self.loss(outputs, targets, image_size)                    # train mode
    self.postprocess(outputs, image_sizes, image_size)         # eval mode

images: list of float [3, H_i, W_i] in 0..1, padded at the right and bottom to a multiple of
`self.stride` (batching.batch_images); targets as for every detector (boxes [G_i, 4] xyxy pixels,
labels int64 [G_i] in 1 .. num_classes - 1).
"""
from __future__ import annotations

from torch import Tensor, nn

from ...checks import check_detector_inputs
from .batching import batch_images


class OneStageDetector(nn.Module):
    """The detection contract around predict / loss / postprocess; see the module docstring."""
    stride: int = 1            # pixels per cell of the coarsest map: batches are padded to a multiple
    num_classes: int = 2       # background included

    def forward(self, images: list[Tensor], targets: list[dict] | None = None):
        images = check_detector_inputs(images, targets, training=self.training, num_classes=self.num_classes,
                                       weights=next(self.parameters()))
        batch = batch_images(images, self.stride)
        outputs = self.predict(batch)
        if self.training:
            return self.loss(outputs, targets, tuple(batch.shape[-2:]))
        return self.postprocess(outputs, [tuple(i.shape[-2:]) for i in images], tuple(batch.shape[-2:]))

    def predict(self, batch: Tensor):
        raise NotImplementedError

    def loss(self, outputs, targets: list[dict], image_size: tuple[int, int]) -> dict[str, Tensor]:
        raise NotImplementedError

    def postprocess(self, outputs, image_sizes: list[tuple[int, int]], image_size: tuple[int, int]) -> list[dict]:
        raise NotImplementedError
