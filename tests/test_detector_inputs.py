"""Every public detector entry point checks its inputs (cvlib.checks): a bad image or target raises a
ValueError or TypeError whose message names the argument and the problem, in train and eval mode.

Targets are read in train mode only; in eval mode they are not used (as for the localizer and the pose
regressor), so the target cases run in train mode. Images are checked in both modes.
R-CNN and Fast R-CNN get proposals, so that selective search never runs here.
"""
import pytest
import torch

from cvlib.data import Scenes
from cvlib.models.detection import (RCNN, FastRCNN, FastRCNNConfig, FasterRCNN, FasterRCNNConfig, RCNNConfig,
                                    RoIHeadsConfig, RPNConfig, SlidingWindowConfig, SlidingWindowDetector)

SIZE = 48
HEADS = RoIHeadsConfig(hidden=16, rois_per_image=8)
CHANNELS = (4, 8, 4)
MODELS = {
    "sliding_window": lambda: SlidingWindowDetector(SlidingWindowConfig(width=4, samples_per_image=8)),
    "rcnn": lambda: RCNN(RCNNConfig(channels=CHANNELS, roi_heads=HEADS)),
    "fast_rcnn": lambda: FastRCNN(FastRCNNConfig(channels=CHANNELS, roi_heads=HEADS)),
    "faster_rcnn": lambda: FasterRCNN(FasterRCNNConfig(channels=CHANNELS, roi_heads=HEADS,
                                                       rpn=RPNConfig(batch_size_per_image=16))),
}
TAKES_PROPOSALS = {"rcnn", "fast_rcnn"}


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return {name: make() for name, make in MODELS.items()}


@pytest.fixture(scope="module")
def scenes():
    data = Scenes(2, seed=0, size=SIZE)
    images, targets = zip(*[data[i] for i in range(2)])
    return list(images), [{"boxes": t["boxes"], "labels": t["labels"]} for t in targets]


def proposals_for(images):
    box = torch.tensor([[2.0, 2.0, 20.0, 20.0], [10.0, 8.0, 40.0, 30.0], [0.0, 0.0, 48.0, 48.0]])
    return [box.clone() for _ in images]


def call(name, model, images, targets=None, **kwargs):
    """model(images, targets), with proposals for the detectors that take them."""
    if name in TAKES_PROPOSALS and "proposals" not in kwargs:
        kwargs["proposals"] = proposals_for(images if isinstance(images, (list, tuple)) else [0, 0])
    if name == "sliding_window":
        return model(images, targets)
    return model(images, targets, **kwargs)


def with_target(targets, i=0, **changes):
    out = [dict(t) for t in targets]
    out[i].update(changes)
    return out


# (case, expected error, match, how to break the valid (images, targets))
IMAGE_CASES = [
    ("single_image_tensor", TypeError, r"images must be a list of Tensor\[3, H, W\].*pass \[image\]",
     lambda im, t: (im[0], t[:1])),
    ("batch_tensor", TypeError, r"images must be a list.*list\(batch\)",
     lambda im, t: (torch.stack(im), t)),
    ("channels_last", ValueError, r"images\[1\] has shape \(48, 48, 3\), channels last.*permute\(2, 0, 1\)",
     lambda im, t: ([im[0], im[1].permute(1, 2, 0)], t)),
    ("uint8", TypeError, r"images\[0\] has dtype torch\.uint8; images must be float32 \[3, H, W\] in 0\.\.1",
     lambda im, t: ([(im[0] * 255).to(torch.uint8), im[1]], t)),
    ("values_0_255", ValueError, r"images\[0\] has values in .*images must be float32 \[3, H, W\] in 0\.\.1"
                                  r"; for 0\.\.255 values use image / 255",
     lambda im, t: ([im[0] * 255, im[1]], t)),
    ("nan_image", ValueError, r"images\[1\] holds 1 NaN",
     lambda im, t: ([im[0], im[1].clone().index_put_((torch.tensor(0),) * 3, torch.tensor(float("nan")))], t)),
    ("empty_list", ValueError, r"images is empty", lambda im, t: ([], [])),
    ("float64", TypeError, r"images\[1\] is torch\.float64 on cpu but the model's weights are torch\.float32",
     lambda im, t: ([im[0], im[1].double()], t)),
    ("hw_grayscale", ValueError, r"images\[0\] must be float32 \[3, H, W\].*got shape \(48, 48\); "
                                 r"for a grayscale image use image\.expand\(3, -1, -1\)",
     lambda im, t: ([im[0][0], im[1]], t)),
]

TARGET_CASES = [
    ("boxes_not_xyxy", ValueError, r"targets\[0\]\['boxes'\]\[0\] = \[20, 5, 10, 12\] breaks the rule: xyxy.*x1 < x2",
     lambda t: with_target(t, boxes=torch.tensor([[20.0, 5.0, 10.0, 12.0]]), labels=torch.tensor([1]))),
    ("nan_boxes", ValueError, r"targets\[1\]\['boxes'\]\[1\] = \[nan, .*is not finite",
     lambda t: with_target(t, 1, boxes=t[1]["boxes"].clone().index_put_((torch.tensor(1), torch.tensor(0)),
                                                                         torch.tensor(float("nan"))))),
    ("label_too_large", ValueError, r"targets\[0\]\['labels'\]\[1\] = 6; labels must satisfy 1 <= label < num_classes = 6",
     lambda t: with_target(t, labels=torch.tensor([5, 6, 2]))),
    ("label_background", ValueError, r"targets\[1\]\['labels'\]\[0\] = 0;.*0 is background",
     lambda t: with_target(t, 1, labels=torch.tensor([0, 4]))),
    ("float_labels", TypeError, r"targets\[0\]\['labels'\] has dtype torch\.float32; labels must be int64",
     lambda t: with_target(t, labels=t[0]["labels"].float())),
    ("lengths_differ", ValueError, r"targets\[1\]\['labels'\] has 1 labels but boxes has 2 boxes",
     lambda t: with_target(t, 1, labels=torch.tensor([2]))),
    ("missing_labels", ValueError, r"targets\[0\] lacks \['labels'\]",
     lambda t: [{"boxes": t[0]["boxes"]}, t[1]]),
    ("one_target_for_two_images", ValueError, r"2 images but 1 targets",
     lambda t: t[:1]),
    ("target_dict_not_list", TypeError, r"targets must be a list of dict",
     lambda t: t[0]),
]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_valid_inputs_pass(models, scenes, name, training):
    """The baseline the bad cases break: the same inputs, unbroken, run."""
    model = models[name].train(training)
    images, targets = scenes
    out = call(name, model, images, targets)
    if training:
        assert "loss_classifier" in out and all(torch.isfinite(v) for v in out.values())
    else:
        assert len(out) == 2 and all(set(d) >= {"boxes", "labels", "scores"} for d in out)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("case,error,match,breaks", IMAGE_CASES, ids=[c[0] for c in IMAGE_CASES])
def test_bad_images(models, scenes, name, training, case, error, match, breaks):
    model = models[name].train(training)
    images, targets = breaks(*scenes)
    with pytest.raises(error, match=match):
        call(name, model, images, targets if training else None)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("case,error,match,breaks", TARGET_CASES, ids=[c[0] for c in TARGET_CASES])
def test_bad_targets(models, scenes, name, case, error, match, breaks):
    model = models[name].train()
    images, targets = scenes
    with pytest.raises(error, match=match):
        call(name, model, images, breaks(targets))


@pytest.mark.parametrize("name", MODELS)
def test_train_mode_needs_targets(models, scenes, name):
    model = models[name].train()
    with pytest.raises(ValueError, match=r"train mode.*target.*model\.eval\(\)"):
        call(name, model, scenes[0])


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_faster_rcnn_proposes_its_own_boxes(models, scenes, training):
    images, targets = scenes
    with pytest.raises(ValueError, match="region proposal network proposes its own boxes: do not pass proposals"):
        models["faster_rcnn"].train(training)(images, targets if training else None, proposals_for(images))


PROPOSAL_CASES = [
    ("one_set_for_two_images", ValueError, r"2 images but 1 proposals; pass one Tensor\[R, 4\] per image",
     lambda p: p[:1]),
    ("single_tensor", TypeError, r"proposals must be a list of Tensor\[R, 4\], one per image; got one Tensor",
     lambda p: p[0]),
    ("not_n_by_4", ValueError, r"proposals\[1\] must be Tensor\[R, 4\] xyxy in pixels, got shape \(3, 5\)",
     lambda p: [p[0], torch.zeros(3, 5)]),
    ("nan", ValueError, r"proposals\[0\] holds NaN or infinite values",
     lambda p: [p[0].clone().index_put_((torch.tensor(0), torch.tensor(2)), torch.tensor(float("inf"))), p[1]]),
    ("integer", TypeError, r"proposals\[0\] has dtype torch.int64; proposals must be floating point",
     lambda p: [p[0].long(), p[1]]),
]


@pytest.mark.parametrize("name", sorted(TAKES_PROPOSALS))
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("case,error,match,breaks", PROPOSAL_CASES, ids=[c[0] for c in PROPOSAL_CASES])
def test_bad_proposals(models, scenes, name, training, case, error, match, breaks):
    model = models[name].train(training)
    images, targets = scenes
    with pytest.raises(error, match=match):
        model(images, targets if training else None, breaks(proposals_for(images)))


def test_one_channel_detector_names_its_channels(scenes):
    model = SlidingWindowDetector(SlidingWindowConfig(in_channels=1, width=4)).eval()
    with pytest.raises(ValueError, match=r"images\[0\] must have 1 channels"):
        model(scenes[0])
    assert len(model([image.mean(0, keepdim=True) for image in scenes[0]])) == 2


CONFIG_CASES = [
    (lambda: FastRCNNConfig(num_classes=1), ValueError, r"num_classes \(it counts the background too\) must be an int"),
    (lambda: FastRCNNConfig(num_classes=6.0), TypeError, r"num_classes .* must be an int"),
    (lambda: FastRCNNConfig(roi_heads=RoIHeadsConfig(pool_size=0)), ValueError,
     r"roi_heads\.pool_size must be an int with 1 <= roi_heads\.pool_size, got 0"),
    (lambda: RCNNConfig(roi_heads=RoIHeadsConfig(score_thresh=2.0)), ValueError,
     r"roi_heads\.score_thresh \(a probability\) must be a number with 0 <= roi_heads\.score_thresh < 1, got 2\.0"),
    (lambda: FasterRCNNConfig(roi_heads=RoIHeadsConfig(nms_thresh=50)), ValueError, r"roi_heads\.nms_thresh \(an IoU\)"),
    (lambda: FastRCNNConfig(roi_heads=RoIHeadsConfig(fg_iou=0.3, bg_iou=0.6)), ValueError,
     r"roi_heads\.bg_iou = 0\.6 is above roi_heads\.fg_iou = 0\.3"),
    (lambda: FastRCNNConfig(roi_heads=RoIHeadsConfig(positive_fraction=0)), ValueError, r"positive_fraction"),
    (lambda: FastRCNNConfig(roi_heads=RoIHeadsConfig(rois_per_image=-8)), ValueError, r"rois_per_image"),
    (lambda: FastRCNNConfig(roi_heads=RoIHeadsConfig(box_weights=(10.0, 10.0, 0.0, 5.0))), ValueError,
     r"box_weights\[2\]"),
    (lambda: FastRCNNConfig(channels=(32, 0, 32)), ValueError, r"channels\[1\] must be an int with 1 <= channels"),
    (lambda: SlidingWindowConfig(sizes=(12, -17)), ValueError, r"sizes\[1\] must be a number with 0 < sizes"),
    (lambda: SlidingWindowConfig(stride=1.5), ValueError, r"stride \(a fraction of the window\)"),
    (lambda: SlidingWindowConfig(patch=4), ValueError, r"patch \(three 2 x 2 poolings need 8 pixels\)"),
    (lambda: SlidingWindowConfig(score_thresh=1.0), ValueError, r"score_thresh \(a probability\)"),
    (lambda: SlidingWindowConfig(fg_iou=0.2, bg_iou=0.3), ValueError, r"bg_iou = 0\.3 is above fg_iou = 0\.2"),
    (lambda: SlidingWindowConfig(num_classes=1), ValueError, r"num_classes"),
]


@pytest.mark.parametrize("make,error,match", CONFIG_CASES,
                         ids=["one_class", "float_classes", "pool_size_0", "score_thresh_2", "nms_percent",
                              "bg_above_fg", "no_positives", "negative_rois", "zero_box_weight", "zero_channels",
                              "window_negative_size", "window_stride_1.5", "window_patch_4", "window_score_1",
                              "window_bg_above_fg", "window_one_class"])
def test_configs_that_cannot_make_sense_raise_where_they_are_built(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_detect_takes_a_scenes_dataset(models):
    """batching.detect slices its data (data[i:i + batch_size]); Scenes supports slices."""
    from cvlib.models.detection import detect
    data = Scenes(3, seed=1, size=SIZE)
    out = detect(models["fast_rcnn"], data, proposals=proposals_for([0, 0, 0]), batch_size=2)
    assert len(out) == 3 and all(set(d) >= {"boxes", "labels", "scores"} for d in out)
