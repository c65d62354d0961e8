"""The region proposal network against torchvision's, with the same head weights, anchors and settings."""
import pytest
import torch
from torchvision.models.detection.anchor_utils import AnchorGenerator as TorchAnchors
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.rpn import RegionProposalNetwork as TorchRPN, RPNHead as TorchHead

from cvlib.data import Scenes
from cvlib.models.detection import RegionProposalNetwork, RoIHeadsConfig, RPNConfig

CFG = RPNConfig(sizes=(12, 24, 48), ratios=(0.5, 1.0, 2.0), pre_nms_top_n_train=300, post_nms_top_n_train=200,
                pre_nms_top_n_test=200, post_nms_top_n_test=100, batch_size_per_image=64)
CHANNELS = 8


def pair():
    """Our RPN and torchvision's with the same head weights and settings."""
    torch.manual_seed(0)
    ours = RegionProposalNetwork(CFG, CHANNELS, stride=4)
    head = TorchHead(CHANNELS, ours.anchor_generator.num_anchors)
    head.conv[0][0].load_state_dict(ours.head.conv.state_dict())
    head.cls_logits.load_state_dict(ours.head.cls_logits.state_dict())
    head.bbox_pred.load_state_dict(ours.head.bbox_pred.state_dict())
    theirs = TorchRPN(TorchAnchors((CFG.sizes,), (CFG.ratios,)), head, CFG.fg_iou, CFG.bg_iou,
                      CFG.batch_size_per_image, CFG.positive_fraction,
                      dict(training=CFG.pre_nms_top_n_train, testing=CFG.pre_nms_top_n_test),
                      dict(training=CFG.post_nms_top_n_train, testing=CFG.post_nms_top_n_test),
                      CFG.nms_thresh, score_thresh=CFG.score_thresh)
    return ours, theirs


def inputs(size=64):
    data = Scenes(2, seed=3, size=size)
    images = [data[i][0] for i in range(2)]
    targets = [{k: data[i][1][k] for k in ("boxes", "labels")} for i in range(2)]
    g = torch.Generator().manual_seed(1)
    features = torch.randn(2, CHANNELS, size // 4, size // 4, generator=g) * 3   # a stride-4 feature map
    return images, targets, features


@pytest.mark.parametrize("training", [False, True])
def test_same_proposals_and_losses_as_torchvision(training):
    ours, theirs = pair()
    ours.train(training), theirs.train(training)
    images, targets, features = inputs()
    sizes = [tuple(i.shape[-2:]) for i in images]
    torch.manual_seed(5)
    props, losses = ours(images, features, sizes, targets if training else None)
    torch.manual_seed(5)
    their_props, their_losses = theirs(ImageList(torch.stack(images), sizes), {"0": features},
                                       targets if training else None)
    for p, q in zip(props, their_props):
        assert len(p) > 10
        torch.testing.assert_close(p, q)
    assert losses.keys() == their_losses.keys() == ({"loss_objectness", "loss_rpn_box_reg"} if training else set())
    for k in losses:
        torch.testing.assert_close(losses[k], their_losses[k])


def test_losses_backpropagate_into_the_head_only_through_the_rpn_losses():
    ours, _ = pair()
    images, targets, features = inputs()
    features.requires_grad_(True)
    props, losses = ours(images, features, [(64, 64)] * 2, targets)
    assert not any(p.requires_grad for p in props)                 # the offsets are detached before decoding
    sum(losses.values()).backward()
    assert ours.head.cls_logits.weight.grad.abs().sum() > 0 and features.grad.abs().sum() > 0


def test_an_image_without_objects_is_all_background():
    ours, theirs = pair()
    images, _, features = inputs()
    empty = [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)}] * 2
    torch.manual_seed(0)
    _, losses = ours(images, features, [(64, 64)] * 2, empty)
    torch.manual_seed(0)
    _, their_losses = theirs(ImageList(torch.stack(images), [(64, 64)] * 2), {"0": features}, empty)
    assert losses["loss_rpn_box_reg"] == 0
    torch.testing.assert_close(losses["loss_objectness"], their_losses["loss_objectness"])


@pytest.mark.parametrize("field, value, words", [
    ("bg_iou", 0.8, "bg_iou <= fg_iou"), ("fg_iou", 1.5, "rpn.fg_iou"), ("nms_thresh", -0.1, "rpn.nms_thresh"),
    ("post_nms_top_n_test", 0, "post_nms_top_n_test"), ("batch_size_per_image", 2.5, "batch_size_per_image"),
    ("positive_fraction", 0.0, "positive_fraction"), ("sizes", (16, -4), "rpn.sizes"),
    ("ratios", (0.5, float("nan")), "rpn.ratios"), ("min_size", -1, "min_size"),
    ("score_thresh", 1.0, "score_thresh")])
def test_rpn_config_checks_its_numbers(field, value, words):
    with pytest.raises((ValueError, TypeError), match=words):
        RPNConfig(**{field: value})


@pytest.mark.parametrize("field, value", [("pool_size", 0), ("hidden", 1.5), ("rois_per_image", -2),
                                          ("nms_thresh", 1.2), ("positive_fraction", 0), ("score_thresh", 1),
                                          ("box_weights", (10, 10, 0, 5)), ("detections_per_img", 0)])
def test_roi_heads_config_checks_its_numbers(field, value):
    with pytest.raises((ValueError, TypeError), match=f"roi_heads.{field}"):
        RoIHeadsConfig(**{field: value})


def test_config_and_proposals_argument_are_checked():
    ours, _ = pair()
    images, _, features = inputs()
    with pytest.raises(ValueError, match="proposes its own boxes"):
        ours.eval()(images, features, [(64, 64)] * 2, None, proposals=[torch.zeros(0, 4)] * 2)


def test_anchors_sit_on_their_cells_for_any_image_size():
    from cvlib.models.detection import FasterRCNN, FasterRCNNConfig, RPNConfig
    model = FasterRCNN(FasterRCNNConfig(rpn=RPNConfig(sizes=(8,), ratios=(1.0,)))).eval()
    image = torch.rand(3, 50, 38)                        # not multiples of the stride 4: padded to 52 x 40
    features = model.backbone(torch.nn.functional.pad(image, (0, 2, 0, 2))[None])
    anchors, _, _ = model.proposal_generator.predict(features)
    assert features.shape[-2:] == (13, 10)
    centres = (anchors[:, :2] + anchors[:, 2:]) / 2      # cell (r, c) at pixel (4 c, 4 r)
    assert centres[-1].tolist() == [36.0, 48.0]
    assert len(model([image])[0]["boxes"]) >= 0          # runs end to end on that size
