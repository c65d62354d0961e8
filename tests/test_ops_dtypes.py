"""cvlib.ops equal torchvision / torch in every dtype they accept (widened where torchvision widens),
with tied scores, odd boxes (NaN, inf, batch index out of range) and output sizes torch rejects."""
import pytest
import torch
import torch.nn.functional as F
import torchvision

from cvlib import ops
from cvlib.ops.boxes import box_area
from cvlib.ops.nms import batched_nms

INTS = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64]
FLOATS = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


def random_boxes(n, size=100.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * size
    wh = torch.rand(n, 2, generator=g) * size / 2 + 1
    return torch.cat([xy, xy + wh], dim=1)


@pytest.mark.parametrize("dtype", INTS + FLOATS, ids=str)
def test_box_area_widens_like_torchvision(dtype):
    boxes = torch.tensor([[0, 0, 100, 100], [10, 20, 110, 120], [0, 0, 1, 1]]).to(dtype)
    ours, theirs = box_area(boxes), torchvision.ops.box_area(boxes)
    assert ours.dtype == theirs.dtype and torch.equal(ours, theirs)
    assert ours[0] == 10000                      # int8 / uint8 / float16 would overflow or round without widening


@pytest.mark.parametrize("dtype", INTS[1:] + FLOATS, ids=str)
@pytest.mark.parametrize("scale", [1.0, 8.0], ids=["100px", "800px"])
def test_box_iou_equals_torchvision_in_every_dtype(dtype, scale):
    if dtype == torch.int8 and scale > 1:
        scale = 1.0                                     # int8 coordinates end at 127
    a, b = (random_boxes(30, seed=1) * scale).to(dtype), (random_boxes(20, seed=2) * scale).to(dtype)
    ours, theirs = ops.box_iou(a, b), torchvision.ops.box_iou(a, b)
    assert ours.dtype == theirs.dtype and torch.isfinite(ours).all()       # float16 near 800 px: no NaN
    torch.testing.assert_close(ours, theirs)


def test_nms_in_float16_keeps_what_float32_keeps():
    boxes, scores = (random_boxes(400, size=700.0, seed=3) * 1).half(), torch.rand(400).half()
    expected = torchvision.ops.nms(boxes.float(), scores.float(), 0.5)    # torchvision's CPU kernel has no half
    assert torch.equal(ops.nms(boxes, scores, 0.5), expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nms_with_tied_scores_keeps_torchvisions_boxes(dtype, seed):
    boxes = random_boxes(300, seed=seed).to(dtype)
    scores = (torch.rand(300, generator=torch.Generator().manual_seed(seed)) * 4).round().to(dtype) / 4   # 5 levels
    assert torch.equal(ops.nms(boxes, scores, 0.5), torchvision.ops.nms(boxes, scores, 0.5))
    labels = torch.randint(0, 3, (300,), generator=torch.Generator().manual_seed(seed))
    assert torch.equal(batched_nms(boxes, scores, labels, 0.5), torchvision.ops.batched_nms(boxes, scores, labels, 0.5))
    same = torch.ones(300, dtype=dtype)                      # every score equal: index order
    assert torch.equal(ops.nms(boxes, same, 0.3), torchvision.ops.nms(boxes, same, 0.3))


@pytest.mark.parametrize("entry", ["nms", "batched_nms"])
@pytest.mark.parametrize("threshold", [50, -0.1, 1.5, float("nan")], ids=["percent", "negative", "above_1", "nan"])
def test_iou_threshold_outside_0_1_is_an_error(entry, threshold):
    boxes, scores = random_boxes(5), torch.rand(5)
    call = {"nms": lambda: ops.nms(boxes, scores, threshold),
            "batched_nms": lambda: batched_nms(boxes, scores, torch.zeros(5, dtype=torch.int64), threshold)}
    with pytest.raises(ValueError, match=r"iou_threshold \(an IoU, not a percentage\) must be a number with 0 <= "):
        call[entry]()


@pytest.mark.parametrize("kernel,stride,padding", [(2, 2, 0), (3, 2, 1), (3, 3, 0)])
@pytest.mark.parametrize("size", [4, 5, 7])
def test_max_unpool_accepts_exactly_the_output_sizes_torch_accepts(kernel, stride, padding, size):
    x = torch.rand(1, 2, size, size, generator=torch.Generator().manual_seed(size))
    pooled, indices = F.max_pool2d(x, kernel, stride, padding, return_indices=True)
    for out in range(1, 3 * size):
        try:
            expected = F.max_unpool2d(pooled, indices, kernel, stride, padding, output_size=(out, out))
        except (ValueError, RuntimeError):     # a size outside the rule, or one the indices do not fit
            with pytest.raises(ValueError, match=r"invalid output_size .* must be between|indices must lie in"):
                ops.max_unpool(pooled, indices, kernel, stride, padding, output_size=(out, out))
            continue
        assert torch.equal(ops.max_unpool(pooled, indices, kernel, stride, padding, output_size=(out, out)), expected)


def test_max_unpool_names_the_output_size_rule():
    pooled, indices = F.max_pool2d(torch.rand(1, 1, 4, 4), 2, return_indices=True)
    with pytest.raises(ValueError, match=r"dimension 0 must be between 2 and 6 \(exclusive\).*got 7"):
        ops.max_unpool(pooled, indices, 2, output_size=(7, 7))
    assert ops.max_unpool(pooled, indices, 2, output_size=(1, 1, 5, 5)).shape == (1, 1, 5, 5)   # (N, C, H, W) too
    with pytest.raises(TypeError, match="indices must be int64"):
        ops.max_unpool(pooled, indices.int(), 2)


@pytest.mark.parametrize("op", ["roi_pool", "roi_align"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")], ids=["nan", "inf", "-inf"])
def test_roi_ops_give_zeros_for_non_finite_boxes_like_torchvision(op, bad):
    """torchvision gives zeros for a non-finite x1 (and undefined values, a C cast of NaN to int, for
    some other coordinates); cvlib gives zeros for a non-finite coordinate anywhere."""
    features = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    boxes = [torch.tensor([[bad, 0.0, 4.0, 4.0], [1.0, 1.0, 6.0, 7.0]]), torch.tensor([[2.0, 1.0, 7.0, 5.0]])]
    ours = getattr(ops, op)(features, boxes, 2, 1.0)
    torch.testing.assert_close(ours, getattr(torchvision.ops, op)(features, boxes, 2, 1.0))
    assert torch.equal(ours[0], torch.zeros(3, 2, 2)) and ours[1:].abs().sum() > 0
    for k in range(4):
        box = torch.tensor([[0.0, 2.0, 5.0, 6.0]])
        box[0, k] = bad
        assert torch.equal(getattr(ops, op)(features, [box, box], 2, 1.0), torch.zeros(2, 3, 2, 2))


@pytest.mark.parametrize("op", ["roi_pool", "roi_align"])
def test_roi_ops_in_float64_and_bad_arguments(op):
    features = torch.rand(1, 2, 10, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    boxes = [random_boxes(6, size=30.0, seed=4).double()]
    torch.testing.assert_close(getattr(ops, op)(features, boxes, 3, 0.25),
                               getattr(torchvision.ops, op)(features, boxes, 3, 0.25))
    rows = torch.tensor([[1.0, 0.0, 0.0, 4.0, 4.0]], dtype=torch.float64)          # batch index 1 of 1 map
    with pytest.raises(ValueError, match=r"batch index must lie in 0\.\.0"):
        getattr(ops, op)(features, rows, 2)
    with pytest.raises(ValueError, match=r"output_size must be an int with 1 <= output_size, got 0"):
        getattr(ops, op)(features, boxes, 0)
    with pytest.raises(ValueError, match=r"spatial_scale .* got -0\.25"):
        getattr(ops, op)(features, boxes, 2, -0.25)
