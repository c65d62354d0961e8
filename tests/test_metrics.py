import pytest
import torch
from torchmetrics.classification import MulticlassJaccardIndex

from cvlib.metrics import detection_map, miou, pck


def test_miou_equals_torchmetrics():
    g = torch.Generator().manual_seed(0)
    target = torch.randint(0, 4, (3, 16, 16), generator=g)
    pred = torch.where(torch.rand(3, 16, 16, generator=g) < 0.7, target, torch.randint(0, 4, (3, 16, 16), generator=g))
    mean, per_class = miou(pred, target, 4)
    reference = MulticlassJaccardIndex(num_classes=4, average="none")(pred, target)
    assert torch.allclose(per_class, reference, atol=1e-6)
    assert mean == pytest.approx(float(reference.mean()), abs=1e-6)
    assert miou(target, target, 4)[0] == 1.0


def test_miou_ignores_absent_classes():
    target = torch.zeros(4, 4, dtype=torch.long)
    mean, per_class = miou(target, target, 3)
    assert mean == 1.0 and torch.isnan(per_class[1:]).all()


def test_detection_map_perfect_and_wrong():
    boxes = torch.tensor([[10.0, 10, 40, 40], [50, 50, 90, 80]])
    target = [{"boxes": boxes, "labels": torch.tensor([1, 2])}]
    perfect = [{"boxes": boxes, "labels": torch.tensor([1, 2]), "scores": torch.tensor([0.9, 0.8])}]
    assert detection_map(perfect, target)["map_50"] == pytest.approx(1.0)
    wrong = [{"boxes": boxes + 100, "labels": torch.tensor([1, 2]), "scores": torch.tensor([0.9, 0.8])}]
    assert detection_map(wrong, target)["map_50"] == pytest.approx(0.0)


def test_mask_map():
    masks = torch.zeros(1, 32, 32, dtype=torch.uint8)
    masks[0, 4:20, 4:20] = 1
    target = [{"masks": masks, "labels": torch.tensor([1])}]
    pred = [{"masks": masks.float(), "labels": torch.tensor([1]), "scores": torch.tensor([0.9])}]
    assert detection_map(pred, target, iou_type="segm")["map"] == pytest.approx(1.0)


def test_pck_counts_labelled_joints_within_alpha_torso():
    target = torch.zeros(1, 14, 3)
    target[0, :, 0] = torch.arange(14.0) * 10
    target[0, :, 2] = 2
    target[0, 5, :2] = torch.tensor([0.0, 0.0])   # left shoulder
    target[0, 8, :2] = torch.tensor([0.0, 50.0])  # right hip: torso 50 px, threshold 10 px at alpha 0.2
    pred = target[..., :2].clone()
    pred[0, 0, 0] += 9    # inside
    pred[0, 1, 0] += 11   # outside
    target[0, 2, 2] = 0   # unlabelled: not counted
    pred[0, 2, 0] += 100
    mean, per_joint = pck(pred, target)
    assert per_joint[0] == 1 and per_joint[1] == 0 and torch.isnan(per_joint[2])   # joint 2: never labelled
    assert mean == pytest.approx(12 / 13)                                            # over the 13 labelled joints
    with pytest.raises(ValueError, match="must be"):
        pck(pred[..., :1], target)
