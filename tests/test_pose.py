"""Pose regression: the masked L2 loss over the 14 joints and the model's I/O contract."""
import pytest
import torch

from cvlib.data import CLASSES, JOINTS, Scenes
from cvlib.metrics import pck
from cvlib.models.localization.pose import PoseConfig, PoseRegressor, pose_loss, soft_argmax


def test_pose_loss_is_mean_squared_distance_over_visible_joints():
    torch.manual_seed(0)
    pred = torch.rand(2, 14, 2, requires_grad=True)
    target = torch.cat([torch.rand(2, 14, 2), torch.full((2, 14, 1), 2.0)], -1)
    target[0, 3, 2] = 1          # occluded: not counted
    target[1, 7, 2] = 0          # not labelled: not counted
    loss = pose_loss(pred, target)
    d2 = ((pred - target[..., :2]) ** 2).sum(-1)
    keep = torch.ones(2, 14, dtype=torch.bool)
    keep[0, 3] = keep[1, 7] = False
    assert torch.allclose(loss, d2[keep].mean())
    loss.backward()
    assert torch.all(pred.grad[0, 3] == 0) and torch.all(pred.grad[1, 7] == 0)
    assert torch.all(pred.grad[0, 4] != 0)
    # gradient of the L2 term: 2 (pred - target) / number of counted joints
    assert torch.allclose(pred.grad[keep], 2 * (pred - target[..., :2]).detach()[keep] / keep.sum())


def test_pose_loss_zero_when_exact_and_no_visible_joints():
    target = torch.cat([torch.rand(1, 14, 2), torch.full((1, 14, 1), 2.0)], -1)
    assert pose_loss(target[..., :2].clone(), target) == 0
    hidden = target.clone()
    hidden[..., 2] = 1
    assert pose_loss(torch.rand(1, 14, 2), hidden) == 0


def test_pose_loss_rejects_bad_shapes():
    with pytest.raises(ValueError, match="pred must be"):
        pose_loss(torch.rand(2, 14, 3), torch.rand(2, 14, 3))


def test_model_contract():
    torch.manual_seed(0)
    data = Scenes(3, seed=0, size=64, n_objects=(1, 1), classes=("person",))
    images, targets = Scenes.collate([data[i] for i in range(3)])
    model = PoseRegressor(PoseConfig())
    model.train()
    losses = model(images, targets)
    assert set(losses) == {"loss_keypoint"} and losses["loss_keypoint"].ndim == 0
    losses["loss_keypoint"].backward()
    model.eval()
    with torch.no_grad():
        out = model(images)
    assert len(out) == 3
    for o in out:
        assert o["keypoints"].shape == (1, len(JOINTS), 3)
        assert o["boxes"].shape == (1, 4) and o["labels"].tolist() == [CLASSES.index("person")]
    # predictions in pixels plug straight into PCK
    pred = torch.cat([o["keypoints"][..., :2] for o in out])
    value, per_joint = pck(pred, torch.cat([t["keypoints"] for t in targets]))
    assert 0 <= value <= 1 and per_joint.shape == (len(JOINTS),)


def test_model_learns_to_fit_a_few_people():
    torch.manual_seed(0)
    data = Scenes(8, seed=0, size=64, n_objects=(1, 1), classes=("person",), person_scale=(0.6, 0.8))
    images, targets = Scenes.collate([data[i] for i in range(8)])
    model = PoseRegressor(PoseConfig(widths=(8, 16, 32, 32), hidden=64))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    first = None
    for _ in range(60):
        loss = model(images, targets)["loss_keypoint"]
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2 * first


def test_model_rejects_several_people():
    images, targets = Scenes.collate([Scenes(1, seed=0, size=64, n_objects=(2, 2), classes=("person",))[0]])
    with pytest.raises(ValueError, match="one person"):
        PoseRegressor().train()(images, targets)


def person_batch(n=3):
    data = Scenes(n, seed=0, size=64, n_objects=(1, 1), classes=("person",))
    return Scenes.collate([data[i] for i in range(n)])


def test_train_mode_needs_targets_and_checks_the_joints():
    images, targets = person_batch()
    model = PoseRegressor().train()
    with pytest.raises(ValueError, match=r"in train mode .* needs targets.*model\.eval\(\)"):
        model(images)
    with pytest.raises(ValueError, match="keypoints"):
        model(images, [{"labels": t["labels"]} for t in targets])
    with pytest.raises(ValueError, match=r"\[1, 14, 3\]"):
        model(images, [{"keypoints": t["keypoints"][:, :5]} for t in targets])


@pytest.mark.parametrize("head", ["fc", "soft-argmax"])
def test_eval_mode_predicts_with_running_statistics_even_when_given_targets(head):
    torch.manual_seed(0)
    images, targets = person_batch()
    model = PoseRegressor(PoseConfig(head=head, widths=(8, 16, 32, 32), hidden=32))
    model.train()(images, targets)           # moves the BatchNorm running statistics
    model.eval()
    with torch.no_grad():
        out = model(images, targets)         # targets are not used in eval mode
        alone = model(images[:1])            # eval mode: one image's joints do not depend on its batch
    assert isinstance(out, list) and out[0]["keypoints"].shape == (1, len(JOINTS), 3)
    assert torch.allclose(out[0]["keypoints"], alone[0]["keypoints"], atol=1e-4)
    with torch.no_grad():
        assert set(model.losses(images, targets)) == {"loss_keypoint"}


def test_soft_argmax_finds_the_peak_cell_centre():
    maps = torch.full((1, 2, 4, 8), -1e4)
    maps[0, 0, 1, 6] = 0          # joint 0 at row 1, column 6
    maps[0, 1, 3, 0] = 0          # joint 1 at row 3, column 0
    xy = soft_argmax(maps)
    assert torch.allclose(xy[0], torch.tensor([[6.5 / 8, 1.5 / 4], [0.5 / 8, 3.5 / 4]]))
    flat = soft_argmax(torch.zeros(1, 1, 4, 8))          # uniform map: the centre
    assert torch.allclose(flat, torch.tensor([[[0.5, 0.5]]]))


@pytest.mark.parametrize("head", ["fc", "soft-argmax"])
def test_both_heads_output_joints(head):
    model = PoseRegressor(PoseConfig(head=head)).eval()
    assert model.predict(torch.rand(2, 3, 64, 64)).shape == (2, 14, 2)


def test_config_rejects_unknown_head():
    with pytest.raises(ValueError, match="head"):
        PoseConfig(head="heatmap")
