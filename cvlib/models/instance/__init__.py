"""Instance segmentation (Part 5): heads on the detection machinery of `cvlib.models.detection`.

mask_rcnn.py (MaskRCNN: Faster R-CNN + the mask branch of `detection/mask_head.py`),
keypoint_rcnn.py (KeypointRCNN: Faster R-CNN + the keypoint branch of `detection/keypoint_head.py`),
targets.py (the check of masks and keypoints, a loader that keeps them).
"""
from .keypoint_rcnn import KeypointRCNN, KeypointRCNNConfig
from .mask_rcnn import MaskRCNN, MaskRCNNConfig
from .targets import check_instance_targets, instance_loader

__all__ = ["KeypointRCNN", "KeypointRCNNConfig", "MaskRCNN", "MaskRCNNConfig", "check_instance_targets",
           "instance_loader"]
