"""cvlib.ops boxes and NMS equal torchvision's on random inputs, empty inputs included."""
import pytest
import torch
import torchvision
from torchvision.models.detection._utils import BoxCoder as TorchBoxCoder

from cvlib.ops import box_iou, nms
from cvlib.ops.boxes import BoxCoder, box_area, box_convert, clip_boxes, remove_small_boxes
from cvlib.ops.nms import batched_nms


def random_boxes(n, size=100.0, seed=0, min_side=1.0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * size
    wh = torch.rand(n, 2, generator=g) * size / 2 + min_side
    return torch.cat([xy, xy + wh], dim=1)


def test_box_iou_equals_torchvision():
    a, b = random_boxes(40, seed=1), random_boxes(30, seed=2)
    ours = box_iou(a, b)
    assert ours.shape == (40, 30)
    torch.testing.assert_close(ours, torchvision.ops.box_iou(a, b))
    assert ((ours >= 0) & (ours <= 1)).all()


def test_box_iou_known_values():
    a = torch.tensor([[0.0, 0, 10, 10]])
    b = torch.tensor([[0.0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    torch.testing.assert_close(box_iou(a, b), torch.tensor([[1.0, 50 / 150, 0.0]]))


def test_box_iou_empty():
    a = random_boxes(5)
    assert box_iou(a, torch.zeros(0, 4)).shape == (5, 0)
    assert box_iou(torch.zeros(0, 4), a).shape == (0, 5)
    torch.testing.assert_close(box_iou(torch.zeros(0, 4), a), torchvision.ops.box_iou(torch.zeros(0, 4), a))


def test_box_iou_bad_shape():
    with pytest.raises(ValueError, match="boxes1"):
        box_iou(torch.zeros(3, 5), torch.zeros(2, 4))


def test_convert_clip_area_small():
    boxes = random_boxes(20, seed=3)
    for fmt in ("xywh", "cxcywh"):
        torch.testing.assert_close(box_convert(boxes, "xyxy", fmt), torchvision.ops.box_convert(boxes, "xyxy", fmt))
        torch.testing.assert_close(box_convert(box_convert(boxes, "xyxy", fmt), fmt, "xyxy"), boxes)
    torch.testing.assert_close(box_area(boxes), torchvision.ops.box_area(boxes))
    torch.testing.assert_close(clip_boxes(boxes, (60, 70)), torchvision.ops.clip_boxes_to_image(boxes, (60, 70)))
    assert torch.equal(remove_small_boxes(boxes, 20.0), torchvision.ops.remove_small_boxes(boxes, 20.0))
    with pytest.raises(ValueError, match="format"):
        box_convert(boxes, "xyxy", "yxyx")


@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)])
def test_box_coder_equals_torchvision(weights):
    proposals, reference = random_boxes(50, seed=4), random_boxes(50, seed=5)
    ours, theirs = BoxCoder(weights), TorchBoxCoder(weights)
    deltas = ours.encode(reference, proposals)
    torch.testing.assert_close(deltas, theirs.encode_single(reference, proposals))
    torch.testing.assert_close(ours.decode(deltas, proposals), reference, rtol=1e-4, atol=1e-4)
    many = torch.randn(50, 3, 4)   # 3 classes per proposal
    torch.testing.assert_close(ours.decode(many, proposals).flatten(1),
                               theirs.decode_single(many.flatten(1), proposals))
    huge = torch.tensor([[0.0, 0.0, 1e4, 1e4]])                 # dw, dh clamped before exp
    torch.testing.assert_close(ours.decode(huge, proposals[:1]), theirs.decode_single(huge, proposals[:1]))
    assert ours.decode(torch.zeros(0, 2, 4), torch.zeros(0, 4)).shape == (0, 2, 4)


def test_box_coder_bad_input():
    with pytest.raises(ValueError, match="4 positive weights"):
        BoxCoder((1.0, 1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="N = 2 reference"):
        BoxCoder().decode(torch.zeros(3, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="Tensor\\[..., 4\\]"):
        BoxCoder().encode(torch.zeros(3, 5), torch.zeros(3, 4))


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nms_equals_torchvision(threshold, seed):
    boxes = random_boxes(300, seed=seed)
    scores = torch.rand(300, generator=torch.Generator().manual_seed(seed + 10))
    ours = nms(boxes, scores, threshold)
    assert ours.dtype == torch.int64
    assert torch.equal(ours, torchvision.ops.nms(boxes, scores, threshold))
    # kept boxes never overlap by more than the threshold
    iou = box_iou(boxes[ours], boxes[ours]).fill_diagonal_(0)
    assert (iou <= threshold).all()


def test_batched_nms_equals_torchvision():
    boxes = random_boxes(200, seed=7)
    scores = torch.rand(200, generator=torch.Generator().manual_seed(8))
    labels = torch.randint(0, 4, (200,), generator=torch.Generator().manual_seed(9))
    assert torch.equal(batched_nms(boxes, scores, labels, 0.5), torchvision.ops.batched_nms(boxes, scores, labels, 0.5))


def test_nms_empty_and_single():
    empty = nms(torch.zeros(0, 4), torch.zeros(0), 0.5)
    assert empty.shape == (0,) and empty.dtype == torch.int64
    assert batched_nms(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.int64), 0.5).shape == (0,)
    assert nms(torch.tensor([[0.0, 0, 5, 5]]), torch.tensor([0.3]), 0.5).tolist() == [0]
    with pytest.raises(ValueError, match="scores"):
        nms(torch.zeros(3, 4), torch.zeros(2), 0.5)
