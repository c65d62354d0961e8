"""Keypoint R-CNN (cvlib.models.instance.keypoint_rcnn, cvlib.models.detection.keypoint_head): the
heatmap targets, decoding and loss equal torchvision's; the detection contract; input checks; a
short training."""
import pytest
import torch
from torchvision.models.detection.roi_heads import heatmaps_to_keypoints as tv_heatmaps_to_keypoints
from torchvision.models.detection.roi_heads import keypointrcnn_loss
from torchvision.models.detection.roi_heads import keypoints_to_heatmap as tv_keypoints_to_heatmap

from cvlib.data import CLASSES, JOINTS, Scenes
from cvlib.models.detection import FasterRCNNConfig, RoIHeadsConfig, RPNConfig
from cvlib.models.detection.keypoint_head import (KeypointHeadConfig, heatmaps_to_keypoints, keypoint_loss,
                                                  keypoints_to_heatmap)
from cvlib.models.instance import KeypointRCNN, KeypointRCNNConfig, instance_loader
from cvlib.train import fit

PERSON = CLASSES.index("person")
KEYS = ("boxes", "labels", "keypoints")


def random_rois(n, seed=0):
    gen = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=gen) * 40
    return torch.cat([xy, xy + 4 + torch.rand(n, 2, generator=gen) * 40], dim=1)


def random_keypoints(rois, j=14, seed=0):
    """Joints around each RoI (some outside it, some on its right / bottom edge), visibility 0, 1, 2."""
    gen = torch.Generator().manual_seed(seed)
    lo, wh = rois[:, None, :2], rois[:, None, 2:] - rois[:, None, :2]
    xy = lo + (torch.rand(len(rois), j, 2, generator=gen) * 1.3 - 0.15) * wh
    xy[:, 0] = rois[:, 2:]                                    # joint 0 on the right / bottom edge
    v = torch.randint(0, 3, (len(rois), j, 1), generator=gen).float()
    return torch.cat([xy, v], dim=2)


def small_config():
    rpn = RPNConfig(sizes=(12, 24, 48), pre_nms_top_n_train=100, post_nms_top_n_train=50,
                    pre_nms_top_n_test=100, post_nms_top_n_test=50)
    faster = FasterRCNNConfig(channels=(8, 16, 8), rpn=rpn, roi_heads=RoIHeadsConfig(pooler="roi_align", hidden=32))
    return KeypointRCNNConfig(faster_rcnn=faster, keypoint=KeypointHeadConfig(channels=8, layers=2))


@pytest.fixture(scope="module")
def scenes():
    data = Scenes(4, seed=0, size=64, classes=("person", "circle"))
    return [data[i] for i in range(4)]


# ---------------------------------------------------------------- equal to torchvision

def test_keypoints_to_heatmap_equals_torchvision():
    rois = random_rois(9)
    keypoints = random_keypoints(rois)
    targets, valid = keypoints_to_heatmap(keypoints, rois, 28)
    tv_targets, tv_valid = tv_keypoints_to_heatmap(keypoints, rois, 28)
    assert torch.equal(targets, tv_targets) and torch.equal(valid, tv_valid)
    assert targets.shape == (9, 14) and 0 < valid.sum() < valid.numel()
    assert (valid[:, 0] == (keypoints[:, 0, 2] > 0).long()).all()   # the edge joint is inside


def test_heatmaps_to_keypoints_equals_torchvision():
    rois = random_rois(6, seed=1)
    maps = torch.randn(6, 14, 28, 28, generator=torch.Generator().manual_seed(2))
    keypoints, scores = heatmaps_to_keypoints(maps, rois)
    tv_keypoints, tv_scores = tv_heatmaps_to_keypoints(maps, rois)
    torch.testing.assert_close(keypoints, tv_keypoints)
    torch.testing.assert_close(scores, tv_scores)
    assert keypoints.shape == (6, 14, 3) and (keypoints[..., 2] == 1).all()
    inside = (keypoints[..., :2] >= rois[:, None, :2]) & (keypoints[..., :2] <= rois[:, None, 2:])
    assert inside.all()


def test_heatmap_round_trip_lands_within_a_bin():
    rois = random_rois(5, seed=3)
    keypoints = random_keypoints(rois, seed=4)
    keypoints[..., 2] = 2
    targets, valid = keypoints_to_heatmap(keypoints, rois, 28)
    maps = torch.full((5, 14, 28 * 28), -10.0).scatter_(2, targets[..., None], 10.0).view(5, 14, 28, 28)
    decoded, _ = heatmaps_to_keypoints(maps, rois)
    wh = rois[:, None, 2:] - rois[:, None, :2]                      # [R, 1, 2]
    pixel = wh / wh.ceil()                                          # the decoded grid's spacing, <= 1 px
    error = (decoded[..., :2] - keypoints[..., :2]).abs()
    assert (error <= wh / 28 + pixel)[valid.bool()].all()           # one heatmap bin + one pixel


def test_keypoint_loss_equals_torchvision():
    gen = torch.Generator().manual_seed(5)
    proposals = [random_rois(4, seed=6), random_rois(3, seed=7)]
    gt_keypoints = [random_keypoints(random_rois(2, seed=8), seed=9), random_keypoints(random_rois(3, seed=10))]
    matched = [torch.randint(0, 2, (4,), generator=gen), torch.randint(0, 3, (3,), generator=gen)]
    logits = torch.randn(7, 14, 28, 28, generator=gen)
    pairs = [keypoints_to_heatmap(kp[m], p, 28) for kp, p, m in zip(gt_keypoints, proposals, matched)]
    ours = keypoint_loss(logits, torch.cat([t for t, _ in pairs]), torch.cat([v for _, v in pairs]))
    torch.testing.assert_close(ours, keypointrcnn_loss(logits, proposals, gt_keypoints, matched))
    none = torch.zeros(7, 14, dtype=torch.int64)
    zero = keypoint_loss(logits.requires_grad_(), none, none)
    assert zero.item() == 0 and zero.requires_grad


# ---------------------------------------------------------------- the model's contract

def test_eval_output_has_keypoints_for_persons_only(scenes):
    torch.manual_seed(0)
    model = KeypointRCNN(small_config()).eval()
    with torch.no_grad():
        out = model([s[0] for s in scenes])
        features = model.backbone(scenes[1][0][None])
        boxes = torch.tensor([[10.0, 5.0, 30.0, 60.0], [30.0, 30.0, 50.0, 50.0], [0.0, 0.0, 20.0, 40.0]])
        given = model.roi_heads.keypoint_branch.predict(features, [{"boxes": boxes, "labels": torch.tensor([5, 1, 5])}])
    for d in out + given:
        n = len(d["boxes"])
        assert {"keypoints", "keypoints_scores"} <= set(d)
        assert d["keypoints"].shape == (n, len(JOINTS), 3) and d["keypoints_scores"].shape == (n, len(JOINTS))
        person = d["labels"] == PERSON
        assert (d["keypoints"][~person] == 0).all() and (d["keypoints"][person][..., 2] == 1).all()
    assert sum(len(d["boxes"]) for d in out) > 0 and set(out[0]) == {"boxes", "labels", "scores", "keypoints",
                                                                    "keypoints_scores"}
    kp = given[0]["keypoints"]
    assert (kp[[0, 2], :, :2] >= boxes[[0, 2], None, :2]).all() and (kp[[0, 2], :, :2] <= boxes[[0, 2], None, 2:]).all()


def test_train_mode_returns_torchvision_loss_keys(scenes):
    torch.manual_seed(0)
    model = KeypointRCNN(small_config()).train()
    losses = model([s[0] for s in scenes], [s[1] for s in scenes])
    assert set(losses) == {"loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg", "loss_keypoint"}
    assert torch.isfinite(losses["loss_keypoint"]) and losses["loss_keypoint"] > 0


def test_keypoint_branch_trains_on_person_rois_only():
    shapes = Scenes(2, seed=0, size=64, classes=("circle", "square"))
    images, targets = zip(*[shapes[i] for i in range(2)])
    torch.manual_seed(0)
    model = KeypointRCNN(small_config()).train()
    loss = model(list(images), list(targets))["loss_keypoint"]
    assert loss.item() == 0 and loss.requires_grad                   # no person: nothing to learn
    with pytest.raises(ValueError, match="label = 9"):
        KeypointRCNNConfig(keypoint=KeypointHeadConfig(label=9))
    with pytest.raises(ValueError, match="KeypointHeadConfig.heatmap_size"):
        KeypointHeadConfig(heatmap_size=0)


def test_train_mode_without_targets_raises(scenes):
    model = KeypointRCNN(small_config()).train()
    with pytest.raises(ValueError, match="needs targets"):
        model([scenes[0][0]])


@pytest.mark.parametrize("bad, error, message", [
    (lambda t: {**t, "keypoints": t["keypoints"][:, :13]}, ValueError,
     r"targets\[0\]\['keypoints'\] must be Tensor\[N, 14, 3\]"),
    (lambda t: {**t, "keypoints": t["keypoints"][..., :2]}, ValueError, r"targets\[0\]\['keypoints'\]"),
    (lambda t: {**t, "keypoints": t["keypoints"][:-1]}, ValueError, r"targets\[0\]\['keypoints'\]"),
    (lambda t: {**t, "keypoints": t["keypoints"] * torch.tensor([1.0, 1.0, 1.5])}, ValueError,
     r"targets\[0\]\['keypoints'\]\[\d+, \d+, 2\] = 3; visibility must be 0"),
    (lambda t: {k: v for k, v in t.items() if k != "keypoints"}, ValueError, r"targets\[0\] lacks \['keypoints'\]"),
])
def test_bad_keypoints_raise_naming_the_argument(scenes, bad, error, message):
    model = KeypointRCNN(small_config()).train()
    image, target = scenes[1]                                       # one person
    assert (target["keypoints"][..., 2] == 2).any()
    with pytest.raises(error, match=message):
        model([image], [bad(target)])


def test_short_training_is_finite(scenes):
    torch.manual_seed(0)
    model = KeypointRCNN(small_config())
    history = fit(model, instance_loader(scenes, 2, keys=KEYS), steps=4, lr=1e-3, progress=False)
    assert history.steps == 4 and all(torch.isfinite(torch.tensor(v)).all() for v in history.losses.values())
    assert "loss_keypoint" in history.losses


def test_box_scale_grows_the_rois_the_branch_reads():
    from cvlib.models.detection.keypoint_head import scale_boxes
    boxes = torch.tensor([[10.0, 20.0, 30.0, 60.0]])
    assert torch.equal(scale_boxes(boxes, 1.0), boxes)
    torch.testing.assert_close(scale_boxes(boxes, 1.5), torch.tensor([[5.0, 10.0, 35.0, 70.0]]))
    torch.manual_seed(0)
    model = KeypointRCNN(small_config()).eval()
    grown = small_config()
    grown.keypoint = KeypointHeadConfig(channels=8, layers=2, box_scale=1.5)
    wide = KeypointRCNN(grown).eval()
    wide.load_state_dict(model.state_dict())
    image = Scenes(1, seed=0, size=64, classes=("person",))[0][0]
    with torch.no_grad():
        features = model.backbone(image[None])
        dets = [{"boxes": boxes, "labels": torch.tensor([PERSON])}]
        out = wide.roi_heads.keypoint_branch.predict(features, [dict(d) for d in dets])[0]
        same = model.roi_heads.keypoint_branch.predict(features, [{"boxes": scale_boxes(boxes, 1.5),
                                                                   "labels": torch.tensor([PERSON])}])[0]
    torch.testing.assert_close(out["keypoints"], same["keypoints"])          # = the grown box, decoded there
    kp = out["keypoints"][0, :, :2]
    assert ((kp >= torch.tensor([5.0, 10.0])) & (kp <= torch.tensor([35.0, 70.0]))).all()
    with pytest.raises(ValueError, match="box_scale"):
        KeypointHeadConfig(box_scale=0.5)


def test_coordinate_channels_give_each_cell_its_place_in_the_roi():
    from cvlib.models.detection.keypoint_head import with_coordinates
    pooled = torch.randn(3, 5, 4, 4)
    out = with_coordinates(pooled)
    assert out.shape == (3, 7, 4, 4) and torch.equal(out[:, :5], pooled)
    ramp = torch.tensor([-1.0, -1 / 3, 1 / 3, 1.0])
    torch.testing.assert_close(out[1, 5], ramp.expand(4, 4))              # x: left -1 to right 1
    torch.testing.assert_close(out[2, 6], ramp[:, None].expand(4, 4))     # y: top -1 to bottom 1
    cfg = small_config()
    cfg.keypoint = KeypointHeadConfig(channels=8, layers=2, coordinates=True)
    branch = KeypointRCNN(cfg).roi_heads.keypoint_branch
    assert branch.head[0].in_channels == KeypointRCNN(small_config()).roi_heads.keypoint_branch.head[0].in_channels + 2
    features = torch.randn(1, branch.head[0].in_channels - 2, 16, 16)
    assert branch(features, [torch.tensor([[1.0, 2.0, 30.0, 40.0]])]).shape == (1, 14, 28, 28)
