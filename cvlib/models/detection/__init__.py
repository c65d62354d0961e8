"""Object detection: the shared machinery of every detector, and one short builder file per detector.

Shared pieces (one file each): matching.py (Matcher, BalancedSampler, hard negatives), anchors.py
(AnchorGenerator, DefaultBoxGenerator), proposals.py (proposal generators: given, selective search;
rpn.py: the RPN), poolers.py (RoIPool / RoIAlign; R-CNN's warped crops), roi_heads.py (RoIHeads,
box head, predictor, losses, postprocessing; the optional branches of mask_head.py and
keypoint_head.py), two_stage.py (backbone -> proposals -> RoI heads), one_stage.py (one dense
prediction, no proposals), batching.py (padded batches, loaders, detection loops). The box coder is
`cvlib.ops.BoxCoder`.

Detectors: sliding_window, rcnn, fast_rcnn, faster_rcnn (two stages), yolo, ssd (one stage). Mask
R-CNN and keypoint R-CNN, the same machinery with the mask and keypoint branches, are in
`cvlib.models.instance`.
"""
from ...ops.boxes import BoxCoder
from .anchors import AnchorGenerator, DefaultBoxGenerator
from .batching import batch_images, detect, detection_loader, proposal_loader
from .fast_rcnn import FastRCNN, FastRCNNConfig
from .faster_rcnn import FasterRCNN, FasterRCNNConfig
from .keypoint_head import (KeypointBranch, KeypointHeadConfig, KeypointPredictor, heatmaps_to_keypoints,
                            keypoint_loss, keypoints_to_heatmap)
from .mask_head import MaskBranch, MaskHeadConfig, MaskPredictor, mask_loss, mask_targets, paste_masks
from .matching import BalancedSampler, Matcher, hard_negatives, match_labels
from .one_stage import OneStageDetector
from .poolers import POOLERS, RoIPooler, WarpPooler, warp
from .proposals import GivenProposals, SelectiveSearchProposals
from .rcnn import RCNN, RCNNConfig, rcnn_from_fast_rcnn
from .roi_heads import (BoxHead, Predictor, RoIHeads, RoIHeadsConfig, detection_loss, positives, postprocess,
                        select_detections, standard_roi_heads)
from .rpn import RegionProposalNetwork, RPNConfig, RPNHead
from .sliding_window import SlidingWindowConfig, SlidingWindowDetector, face_config
from .ssd import SSD, SSDConfig
from .two_stage import DetectorConfig, TwoStageDetector
from .yolo import YOLO, YOLOConfig

__all__ = ["AnchorGenerator", "BalancedSampler", "BoxCoder", "BoxHead", "DefaultBoxGenerator",
           "DetectorConfig", "FastRCNN", "FastRCNNConfig", "FasterRCNN", "FasterRCNNConfig",
           "GivenProposals", "KeypointBranch", "KeypointHeadConfig", "KeypointPredictor", "MaskBranch",
           "MaskHeadConfig", "MaskPredictor", "Matcher", "OneStageDetector", "POOLERS", "Predictor", "RCNN",
           "RCNNConfig", "RPNConfig", "RPNHead", "RegionProposalNetwork", "RoIHeads", "RoIHeadsConfig",
           "RoIPooler", "SSD", "SSDConfig", "SelectiveSearchProposals", "SlidingWindowConfig",
           "SlidingWindowDetector", "TwoStageDetector", "WarpPooler", "YOLO", "YOLOConfig", "batch_images",
           "detect", "detection_loader", "detection_loss", "face_config", "hard_negatives",
           "heatmaps_to_keypoints", "keypoint_loss", "keypoints_to_heatmap", "mask_loss", "mask_targets",
           "match_labels", "paste_masks", "positives", "postprocess", "proposal_loader",
           "rcnn_from_fast_rcnn", "select_detections", "standard_roi_heads", "warp"]
