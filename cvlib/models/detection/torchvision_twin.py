"""torchvision's FasterRCNN, MaskRCNN and SSD built like cvlib's: the same modules, settings and weights.

    theirs = torchvision_faster_rcnn(model.cfg, size=96)
    copy_weights(model, theirs)          # now both give the same losses and detections
    theirs = torchvision_mask_rcnn(mask_rcnn.cfg, size=96)     # cfg.mask.aligned=False: torchvision's
    copy_mask_weights(mask_rcnn, theirs)                        # pixel convention
    theirs = torchvision_ssd(ssd.cfg, size=96)
    copy_ssd_weights(ssd, theirs)

The comparison the benchmark (`scripts/bench_detectors.py`) and the Faster R-CNN chapter time:
torchvision's machinery around cvlib's backbone class, with the same anchors, RPN settings,
RoI pooler (`TorchvisionPooler`), box head, predictor, sampling and test-time settings; no
resize (min_size = max_size = the image size) and no normalisation (mean 0, std 1), since cvlib
does neither. Mask R-CNN: the same, plus the mask branch's RoIAlign (`TorchvisionPooler` at 14 x 14),
head (MaskRCNNHeads: the same 3x3 convs) and predictor (MaskRCNNPredictor: 2x2 transposed conv,
1x1 conv); torchvision's masks follow its own pixel convention, cvlib's MaskHeadConfig(aligned=False).
SSD: torchvision's SSD around cvlib's feature maps (SSDFeatures), with the same
default boxes, head shapes, matching, hard negative ratio and test-time settings.
"""
from __future__ import annotations

from collections import OrderedDict

from torch import Tensor, nn
from torchvision.models.detection import FasterRCNN as TorchFasterRCNN
from torchvision.models.detection import MaskRCNN as TorchMaskRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator as TorchAnchors
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator as TorchDefaultBoxes
from torchvision.models.detection.ssd import SSD as TorchSSD
from torchvision.models.detection.ssd import SSDHead as TorchSSDHead
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.ops import roi_align, roi_pool

from ...nn import Backbone
from .faster_rcnn import FasterRCNN, FasterRCNNConfig
from .ssd import SSD, SSDConfig, SSDFeatures


class TorchvisionPooler(nn.Module):
    """torchvision's box_roi_pool interface, (features dict, proposals, image_shapes) -> [R, C, P, P],
    on cvlib's RoIPooler: roi_pool, or roi_align (aligned, 2 x 2 samples), at 1 / stride."""

    def __init__(self, kind: str, output_size: int, stride: int, sampling_ratio: int = 2):
        super().__init__()
        self.kind, self.output_size, self.scale, self.sampling_ratio = kind, output_size, 1.0 / stride, sampling_ratio

    def forward(self, features: dict[str, Tensor], proposals: list[Tensor], image_shapes) -> Tensor:
        (x,) = features.values()                      # one feature map: {"0": [B, C, h, w]}
        if self.kind == "roi_pool":
            return roi_pool(x, proposals, output_size=self.output_size, spatial_scale=self.scale)
        return roi_align(x, proposals, output_size=self.output_size, spatial_scale=self.scale,
                         sampling_ratio=self.sampling_ratio, aligned=True)


def _faster_rcnn_settings(cfg: FasterRCNNConfig, size: int, backbone: Backbone) -> dict:
    """torchvision's FasterRCNN keywords for every setting of `cfg` (the box pooler is set afterwards)."""
    rpn, roi = cfg.rpn, cfg.roi_heads
    return dict(
        min_size=size, max_size=size, image_mean=[0.0, 0.0, 0.0], image_std=[1.0, 1.0, 1.0],
        rpn_anchor_generator=TorchAnchors(sizes=(rpn.sizes,), aspect_ratios=(rpn.ratios,)),
        rpn_pre_nms_top_n_train=rpn.pre_nms_top_n_train, rpn_pre_nms_top_n_test=rpn.pre_nms_top_n_test,
        rpn_post_nms_top_n_train=rpn.post_nms_top_n_train, rpn_post_nms_top_n_test=rpn.post_nms_top_n_test,
        rpn_nms_thresh=rpn.nms_thresh, rpn_fg_iou_thresh=rpn.fg_iou, rpn_bg_iou_thresh=rpn.bg_iou,
        rpn_batch_size_per_image=rpn.batch_size_per_image, rpn_positive_fraction=rpn.positive_fraction,
        rpn_score_thresh=rpn.score_thresh,
        box_head=TwoMLPHead(backbone.out_channels * roi.pool_size ** 2, roi.hidden),
        box_predictor=FastRCNNPredictor(roi.hidden, cfg.num_classes),
        box_score_thresh=roi.score_thresh, box_nms_thresh=roi.nms_thresh,
        box_detections_per_img=roi.detections_per_img, box_fg_iou_thresh=roi.fg_iou, box_bg_iou_thresh=roi.bg_iou,
        box_batch_size_per_image=roi.rois_per_image, box_positive_fraction=roi.positive_fraction,
        bbox_reg_weights=roi.box_weights)


def torchvision_faster_rcnn(cfg: FasterRCNNConfig, size: int) -> TorchFasterRCNN:
    """torchvision's FasterRCNN with cvlib's backbone class and every setting of `cfg`."""
    backbone = Backbone(cfg.channels)
    model = TorchFasterRCNN(backbone, num_classes=None, **_faster_rcnn_settings(cfg, size, backbone))
    # FasterRCNN's constructor accepts only a MultiScaleRoIAlign; its RoIHeads calls any module
    model.roi_heads.box_roi_pool = TorchvisionPooler(cfg.roi_heads.pooler, cfg.roi_heads.pool_size, Backbone.stride)
    return model


def torchvision_mask_rcnn(cfg, size: int) -> TorchMaskRCNN:
    """torchvision's MaskRCNN with cvlib's backbone class and every setting of `cfg` (a MaskRCNNConfig:
    its faster_rcnn part as torchvision_faster_rcnn, its mask head's width, depth and pool size)."""
    fcfg, mcfg = cfg.faster_rcnn, cfg.mask
    backbone = Backbone(fcfg.channels)
    width = mcfg.channels if mcfg.layers else backbone.out_channels
    model = TorchMaskRCNN(backbone, num_classes=None, **_faster_rcnn_settings(fcfg, size, backbone),
                          mask_head=MaskRCNNHeads(backbone.out_channels, [mcfg.channels] * mcfg.layers, 1),
                          mask_predictor=MaskRCNNPredictor(width, width, fcfg.num_classes))
    pooler = fcfg.roi_heads.pooler
    model.roi_heads.box_roi_pool = TorchvisionPooler(pooler, fcfg.roi_heads.pool_size, Backbone.stride)
    model.roi_heads.mask_roi_pool = TorchvisionPooler(pooler, mcfg.pool_size, Backbone.stride)
    return model


def copy_weights(ours: FasterRCNN, theirs: TorchFasterRCNN) -> None:
    """Load cvlib's weights into torchvision's model (the backbones are the same class)."""
    theirs.backbone.load_state_dict(ours.backbone.state_dict())
    head, rpn_head = ours.proposal_generator.head, theirs.rpn.head
    rpn_head.conv[0][0].load_state_dict(head.conv.state_dict())
    rpn_head.cls_logits.load_state_dict(head.cls_logits.state_dict())
    rpn_head.bbox_pred.load_state_dict(head.bbox_pred.state_dict())
    theirs.roi_heads.box_head.fc6.load_state_dict(ours.roi_heads.box_head.fc1.state_dict())
    theirs.roi_heads.box_head.fc7.load_state_dict(ours.roi_heads.box_head.fc2.state_dict())
    theirs.roi_heads.box_predictor.cls_score.load_state_dict(ours.roi_heads.predictor.cls_score.state_dict())
    theirs.roi_heads.box_predictor.bbox_pred.load_state_dict(ours.roi_heads.predictor.bbox_pred.state_dict())


def copy_mask_weights(ours, theirs: TorchMaskRCNN) -> None:
    """Load cvlib's MaskRCNN weights into torchvision's: Faster R-CNN's, then the mask head's convs
    (in order) and predictor."""
    copy_weights(ours, theirs)
    branch = ours.roi_heads.mask_branch
    mine = [m for m in branch.head if isinstance(m, nn.Conv2d)]
    their = [m for m in theirs.roi_heads.mask_head.modules() if isinstance(m, nn.Conv2d)]
    for a, b in zip(mine, their, strict=True):
        b.load_state_dict(a.state_dict())
    theirs.roi_heads.mask_predictor.conv5_mask.load_state_dict(branch.predictor.upsample.state_dict())
    theirs.roi_heads.mask_predictor.mask_fcn_logits.load_state_dict(branch.predictor.logits.state_dict())


class NamedMaps(nn.Module):
    """cvlib's SSDFeatures as torchvision's SSD wants its backbone: a dict {"0": map 0, "1": map 1, ...}."""

    def __init__(self, features: SSDFeatures):
        super().__init__()
        self.features = features

    def forward(self, x: Tensor) -> OrderedDict:
        return OrderedDict((str(k), m) for k, m in enumerate(self.features(x)))


def torchvision_ssd(cfg: SSDConfig, size: int) -> TorchSSD:
    """torchvision's SSD with cvlib's feature maps and every setting of `cfg`."""
    features = SSDFeatures(cfg.channels, cfg.extra_channels, cfg.backbone_map, cfg.extra_depth)
    boxes = TorchDefaultBoxes([list(r) for r in cfg.aspect_ratios], cfg.min_ratio, cfg.max_ratio)
    head = TorchSSDHead(features.out_channels, boxes.num_anchors_per_location(), cfg.num_classes)
    return TorchSSD(NamedMaps(features), boxes, (size, size), cfg.num_classes, image_mean=[0.0, 0.0, 0.0],
                    image_std=[1.0, 1.0, 1.0], head=head, score_thresh=cfg.score_thresh, nms_thresh=cfg.nms_thresh,
                    detections_per_img=cfg.detections_per_img, iou_thresh=cfg.iou_thresh,
                    topk_candidates=cfg.topk_candidates, positive_fraction=1 / (1 + cfg.neg_to_pos))


def copy_ssd_weights(ours: SSD, theirs: TorchSSD) -> None:
    """Load cvlib's SSD weights into torchvision's (the feature maps are the same class)."""
    theirs.backbone.features.load_state_dict(ours.features.state_dict())
    for mine, their in ((ours.head.cls_logits, theirs.head.classification_head.module_list),
                        (ours.head.bbox_pred, theirs.head.regression_head.module_list)):
        their.load_state_dict(mine.state_dict())
