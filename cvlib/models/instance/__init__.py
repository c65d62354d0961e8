"""Instance segmentation (Part 5): heads on the detection machinery of `cvlib.models.detection`.

mask_rcnn.py (MaskRCNN: Faster R-CNN + the mask branch of `detection/mask_head.py`),
keypoint_rcnn.py (KeypointRCNN: Faster R-CNN + the keypoint branch of `detection/keypoint_head.py`).
Their targets are checked by `cvlib.checks.check_targets` (masks, keypoints) and batched by
`detection_loader(data, batch_size, keys=...)`.
"""
from ..detection.batching import detection_loader
from .keypoint_rcnn import KeypointRCNN, KeypointRCNNConfig
from .mask_rcnn import MaskRCNN, MaskRCNNConfig

__all__ = ["KeypointRCNN", "KeypointRCNNConfig", "MaskRCNN", "MaskRCNNConfig", "instance_loader"]


def instance_loader(data, batch_size: int, keys: tuple[str, ...] = ("boxes", "labels", "masks"),
                    shuffle: bool = True):
    """detection_loader(data, batch_size, keys=keys, shuffle=shuffle), kept for code written before
    detection_loader took keys."""
    return detection_loader(data, batch_size, keys=keys, shuffle=shuffle)
