"""Object detection: the shared machinery of every detector, and one short builder file per detector.

Shared pieces (one file each): matching.py (Matcher, BalancedSampler), anchors.py
(AnchorGenerator), proposals.py (proposal generators: given, selective search; rpn.py: the
RPN), poolers.py (RoIPool / RoIAlign; R-CNN's warped crops), roi_heads.py (RoIHeads, box head,
predictor, losses, postprocessing), two_stage.py (backbone -> proposals -> RoI heads),
batching.py (padded batches, loaders, detection loops). The box coder is `cvlib.ops.BoxCoder`.

Detectors: sliding_window, rcnn, fast_rcnn, faster_rcnn.
"""
from ...ops.boxes import BoxCoder
from .anchors import AnchorGenerator
from .batching import batch_images, detect, detection_loader, proposal_loader
from .fast_rcnn import FastRCNN, FastRCNNConfig
from .faster_rcnn import FasterRCNN, FasterRCNNConfig
from .matching import BalancedSampler, Matcher, match_labels
from .poolers import POOLERS, RoIPooler, WarpPooler, warp
from .proposals import GivenProposals, SelectiveSearchProposals
from .rcnn import RCNN, RCNNConfig, rcnn_from_fast_rcnn
from .roi_heads import (BoxHead, Predictor, RoIHeads, RoIHeadsConfig, detection_loss, postprocess,
                        select_detections, standard_roi_heads)
from .rpn import RegionProposalNetwork, RPNConfig, RPNHead
from .sliding_window import SlidingWindowConfig, SlidingWindowDetector, face_config
from .two_stage import DetectorConfig, TwoStageDetector

__all__ = ["AnchorGenerator", "BalancedSampler", "BoxCoder", "BoxHead", "DetectorConfig", "FastRCNN",
           "FastRCNNConfig", "FasterRCNN", "FasterRCNNConfig", "GivenProposals", "Matcher", "POOLERS",
           "Predictor", "RCNN", "RCNNConfig", "RPNConfig", "RPNHead", "RegionProposalNetwork", "RoIHeads",
           "RoIHeadsConfig", "RoIPooler", "SelectiveSearchProposals", "SlidingWindowConfig",
           "SlidingWindowDetector", "TwoStageDetector", "WarpPooler", "batch_images", "detect",
           "detection_loader", "detection_loss", "face_config", "match_labels", "postprocess",
           "proposal_loader", "rcnn_from_fast_rcnn", "select_detections", "standard_roi_heads", "warp"]
