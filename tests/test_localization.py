"""Classification + localization: box coordinates, the multi-task loss, the model's I/O contract, the metrics."""
import pytest
import torch
from torchvision.ops import box_iou

from cvlib.data import CLASSES, Scenes
from cvlib.metrics import localization_metrics
from cvlib.models.localization.localizer import (Localizer, LocalizerConfig, from_unit_cxcywh,
                                                 localization_loss, to_unit_cxcywh)
from cvlib.nn import PooledBackbone

C = len(CLASSES)     # class scores per image, background included


def test_unit_cxcywh_round_trip():
    boxes = torch.tensor([[3.0, 5.0, 20.0, 40.0], [0.0, 0.0, 64.0, 32.0]])
    codes = to_unit_cxcywh(boxes, 32, 64)
    assert torch.allclose(codes[1], torch.tensor([0.5, 0.5, 1.0, 1.0]))
    assert torch.allclose(codes[0], torch.tensor([11.5 / 64, 22.5 / 32, 17 / 64, 35 / 32]))
    assert torch.allclose(from_unit_cxcywh(codes, 32, 64), boxes)


def test_class_specific_loss_uses_only_the_ground_truth_box():
    torch.manual_seed(0)
    logits = torch.randn(3, C)
    codes = torch.rand(3, C, 4, requires_grad=True)
    labels = torch.tensor([1, 4, 2])
    targets = torch.rand(3, 4)
    loss = localization_loss(logits, codes, labels, targets, box_weight=1.0)["loss_box_reg"]
    expected = ((codes[torch.arange(3), labels] - targets) ** 2).sum(-1).mean()
    assert torch.allclose(loss, expected)
    loss.backward()
    grad = codes.grad
    for b, label in enumerate(labels.tolist()):
        others = [c for c in range(C) if c != label]
        assert torch.all(grad[b, others] == 0)          # boxes of other classes get no gradient
        assert torch.any(grad[b, label] != 0)
    # moving a wrong class's box does not change the loss
    moved = codes.detach().clone()
    moved[0, 3] += 10
    assert torch.allclose(localization_loss(logits, moved, labels, targets)["loss_box_reg"], expected.detach())


def test_class_agnostic_loss_uses_the_one_box():
    codes = torch.rand(2, 1, 4)
    targets = torch.rand(2, 4)
    loss = localization_loss(torch.randn(2, C), codes, torch.tensor([3, 5]), targets)["loss_box_reg"]
    assert torch.allclose(loss, ((codes[:, 0] - targets) ** 2).sum(-1).mean())


def test_loss_is_cross_entropy_plus_weighted_l2_and_weight_scales_the_box_gradient():
    torch.manual_seed(1)
    logits = torch.randn(4, C, requires_grad=True)
    codes = torch.rand(4, C, 4, requires_grad=True)
    labels = torch.tensor([1, 2, 3, 5])
    targets = torch.rand(4, 4)
    grads = {}
    for w in (0.5, 2.0, 8.0):
        parts = localization_loss(logits, codes, labels, targets, box_weight=w)
        assert torch.allclose(parts["loss_classifier"], torch.nn.functional.cross_entropy(logits, labels))
        g_logits, g_codes = torch.autograd.grad(sum(parts.values()), (logits, codes))
        grads[w] = g_logits, g_codes
        # gradient of the weighted term: d(w * L2)/d(box) = w * 2 (box - target) / B
        chosen = codes[torch.arange(4), labels]
        assert torch.allclose(g_codes[torch.arange(4), labels], w * 2 * (chosen - targets).detach() / 4, atol=1e-6)
    assert torch.allclose(grads[2.0][0], grads[8.0][0])             # class gradient does not depend on w
    assert torch.allclose(grads[8.0][1], 4 * grads[2.0][1])         # box gradient scales linearly with w


def test_loss_rejects_bad_shapes():
    with pytest.raises(ValueError, match="box_codes"):
        localization_loss(torch.randn(2, C), torch.rand(2, C), torch.tensor([1, 2]), torch.rand(2, 4))
    with pytest.raises(ValueError, match="labels"):
        localization_loss(torch.randn(2, C), torch.rand(2, C, 4), torch.tensor([1]), torch.rand(2, 4))


@pytest.mark.parametrize("class_specific", [True, False])
def test_model_contract(class_specific):
    torch.manual_seed(0)
    data = Scenes(4, seed=0, size=64, n_objects=(1, 1))
    images, targets = Scenes.collate([data[i] for i in range(4)])
    model = Localizer(LocalizerConfig(class_specific=class_specific, box_weight=3.0))
    model.train()
    losses = model(images, targets)
    assert set(losses) == {"loss_classifier", "loss_box_reg"} and all(v.ndim == 0 for v in losses.values())
    sum(losses.values()).backward()
    model.eval()
    with torch.no_grad():
        out = model(images)
    assert len(out) == 4
    n_boxes = C if class_specific else 1
    for o in out:
        assert o["boxes"].shape == (1, 4) and o["labels"].shape == (1,) and o["scores"].shape == (1,)
        assert o["class_boxes"].shape == (n_boxes, 4)
        assert (o["boxes"] >= 0).all() and (o["boxes"] <= 64).all()
        if class_specific:   # the returned box is the predicted class's box
            assert torch.equal(o["boxes"][0], o["class_boxes"][o["labels"][0]])


def test_model_rejects_several_objects():
    images, targets = Scenes.collate([Scenes(1, seed=0, size=64, n_objects=(3, 3))[0]])
    with pytest.raises(ValueError, match="one object"):
        Localizer().train()(images, targets)


def one_object_batch(n=4):
    data = Scenes(n, seed=0, size=64, n_objects=(1, 1))
    return Scenes.collate([data[i] for i in range(n)])


def test_train_mode_needs_targets_and_returns_losses():
    images, targets = one_object_batch()
    model = Localizer().train()
    with pytest.raises(ValueError, match=r"in train mode .* needs targets.*model\.eval\(\)"):
        model(images)
    with pytest.raises(ValueError, match="4 images but 3 targets"):
        model(images, targets[:3])
    assert set(model(images, targets)) == {"loss_classifier", "loss_box_reg"}


def test_eval_mode_predicts_with_running_statistics_even_when_given_targets():
    torch.manual_seed(0)
    images, targets = one_object_batch()
    model = Localizer(LocalizerConfig(widths=(8, 16, 32, 64)))
    model.train()(images, targets)               # one train-mode pass moves the BatchNorm running statistics
    model.eval()
    with torch.no_grad():
        out = model(images, targets)             # targets are not used in eval mode
        alone = model(images[:1])                # eval mode: an image's prediction does not depend on its batch
    assert isinstance(out, list) and len(out) == 4
    assert torch.allclose(out[0]["boxes"], alone[0]["boxes"], atol=1e-5)
    assert torch.equal(out[0]["labels"], alone[0]["labels"])
    # the held-out loss in eval mode: the same loss, computed with the running statistics
    with torch.no_grad():
        held_out = model.losses(images, targets)
    assert set(held_out) == {"loss_classifier", "loss_box_reg"} and not model.training


def test_the_localizers_backbone_is_cvlibs_pooled_backbone():
    model = Localizer(LocalizerConfig(widths=(8, 16, 32)))
    assert isinstance(model.backbone, PooledBackbone)
    assert model.backbone.out_channels == 32 and model.backbone.stride == 8
    assert model.backbone(torch.rand(2, 3, 64, 48)).shape == (2, 32, 8, 6)
    assert model.cfg.num_classes == C
    with pytest.raises(ValueError, match="widths"):
        PooledBackbone(())


def test_localization_metrics():
    true_boxes = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 10], [5, 5, 15, 15]])
    pred_boxes = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 5], [20, 20, 30, 30]])
    m = localization_metrics(pred_boxes, torch.tensor([1, 2, 3]), true_boxes, torch.tensor([1, 2, 4]))
    ious = box_iou(pred_boxes, true_boxes).diag()
    assert m["accuracy"] == pytest.approx(2 / 3)
    assert m["mean_iou"] == pytest.approx(float(ious.mean()))
    assert m["iou_50"] == pytest.approx(2 / 3)
    assert m["correct"] == pytest.approx(2 / 3)     # class right and IoU >= 0.5
