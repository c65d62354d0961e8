"""Dense captioning (Part 4): a caption for every region, on the detection machinery.

vocabulary.py (Vocabulary: words <-> ids, PAD / START / END), language_model.py (CaptionLSTM:
teacher forcing, greedy and beam decoding), caption_head.py (CaptionBranch, CaptionRoIHeads: the
RoI heads with `_forward_caption`), densecap.py (DenseCap: Faster R-CNN's RPN and class-agnostic
box branch + the caption branch), metrics.py (dense-captioning mAP, exact match, per-attribute
accuracy).
"""
from .caption_head import CaptionBranch, CaptionHeadConfig, CaptionRoIHeads, box_places
from .densecap import DenseCap, DenseCapConfig, describe
from .language_model import CaptionLSTM
from .vocabulary import Vocabulary

__all__ = ["CaptionBranch", "CaptionHeadConfig", "CaptionLSTM", "CaptionRoIHeads", "DenseCap", "DenseCapConfig",
           "Vocabulary", "box_places", "describe"]
