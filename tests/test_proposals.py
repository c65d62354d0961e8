"""cvlib.proposals: sliding windows, selective search (hierarchical grouping), recall."""
import numpy as np
import pytest
import torch

from cvlib.data import Scenes
from cvlib.proposals import (Strategy, all_windows, group, opencv_selective_search, proposal_recall,
                             selective_search, sliding_windows, window_shapes)


@pytest.fixture(scope="module")
def scenes():
    ds = Scenes(8, seed=5, size=64)
    return [ds[i] for i in range(len(ds))]


# ---------------------------------------------------------------- sliding windows

def test_window_shapes_keep_area():
    areas = [w * h for w, h in window_shapes((16, 32), (0.5, 1.0, 2.0))]
    assert areas == pytest.approx([16 ** 2] * 3 + [32 ** 2] * 3)
    w, h = window_shapes((20,), (2.0,))[0]
    assert h / w == pytest.approx(2.0)


def test_sliding_windows_cover_and_stay_inside():
    boxes = sliding_windows((48, 64), sizes=(16, 32), ratios=(1.0,), stride=0.5)
    assert boxes.dtype == torch.float32 and boxes.shape[1] == 4
    assert (boxes[:, 0] >= 0).all() and (boxes[:, 1] >= 0).all()
    assert (boxes[:, 2] <= 64).all() and (boxes[:, 3] <= 48).all()
    # 16 x 16 windows with step 8: 7 x 5 positions; 32 x 32 with step 16: 3 x 2
    assert len(boxes) == 7 * 5 + 3 * 2
    # the far edges are reached
    assert boxes[:, 2].max() == 64 and boxes[:, 3].max() == 48


def test_window_count_explodes():
    assert all_windows(1, 1) == 1
    assert all_windows(2, 3) == 3 * 6
    assert all_windows(128, 128) > 16 * all_windows(32, 32) * 15   # grows as (H W)^2
    with pytest.raises(ValueError, match="stride"):
        sliding_windows((32, 32), stride=0)


# ---------------------------------------------------------------- selective search

def test_selective_search_boxes(scenes):
    image, _ = scenes[0]
    boxes = selective_search(image, cache=False)
    assert boxes.dtype == torch.float32 and boxes.ndim == 2 and boxes.shape[1] == 4 and len(boxes) > 10
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 64).all() and (boxes[:, 3] <= 64).all()
    assert (boxes[:, 2:] > boxes[:, :2]).all()
    assert len(torch.unique(boxes, dim=0)) == len(boxes)                  # no duplicates
    assert (boxes == torch.tensor([0.0, 0.0, 64.0, 64.0])).all(1).any()   # the whole image is a region


def test_selective_search_repeats_and_ranks_randomly(scenes):
    image, _ = scenes[1]
    a = selective_search(image, seed=0, cache=False)
    assert torch.equal(a, selective_search(image, seed=0, cache=False))
    assert torch.equal(a, selective_search(image, seed=0))                # cached copy is the same
    b = selective_search(image, seed=1, cache=False)
    assert not torch.equal(a, b)                                          # another random ranking...
    assert {tuple(r) for r in a.tolist()} == {tuple(r) for r in b.tolist()}   # ...of the same boxes
    assert len(selective_search(image, max_proposals=5, cache=False)) == 5


def test_selective_search_finds_objects(scenes):
    proposals = [selective_search(image, cache=False) for image, _ in scenes]
    recall = proposal_recall(proposals, [t["boxes"] for _, t in scenes], counts=(500,))
    assert recall[0] >= 0.8, recall


BOX = torch.tensor([[2.0, 2.0, 10.0, 10.0]])


def test_selective_search_bad_input():
    with pytest.raises(ValueError, match="float32 \\[3, H, W\\] in 0\\.\\.1"):
        selective_search(torch.rand(64, 64))
    with pytest.raises(ValueError, match="mode"):
        selective_search(torch.rand(3, 16, 16), mode="slow")
    with pytest.raises(ValueError, match="colour_space"):
        Strategy("cmyk")
    with pytest.raises(ValueError, match="similarity"):
        Strategy("hsv", 50, ("shape",))


def test_hierarchy_records_every_merge(scenes):
    image, _ = scenes[2]
    h = group(image, Strategy("lab", 50.0))
    n = h.n_initial
    assert len(h.merges) == n - 1 and len(h.boxes) == 2 * n - 1
    assert np.array_equal(h.labels_at(0), h.segments)
    assert len(np.unique(h.labels_at(len(h.merges)))) == 1                # one region at the end
    for step in (1, n // 2, n - 1):
        labels = h.labels_at(step)
        assert len(np.unique(labels)) == n - step
        region = n + step - 1                                             # formed by merge step - 1
        rows, cols = np.nonzero(labels == region)
        assert h.boxes[region].tolist() == [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
    sims = [s for _, _, s in h.merges]
    assert max(sims) <= 4.0 and min(sims) >= 0.0


def test_proposal_recall_known_values():
    gt = [torch.tensor([[0.0, 0, 10, 10], [20, 20, 30, 30]])]
    props = [torch.tensor([[0.0, 0, 10, 11], [50, 50, 60, 60], [20, 20, 30, 30]])]
    assert proposal_recall(props, gt, counts=(1, 2, 3)).tolist() == [0.5, 0.5, 1.0]
    assert proposal_recall([torch.zeros(0, 4)], gt, counts=(5,)).tolist() == [0.0]


def test_opencv_selective_search_runs(scenes):
    pytest.importorskip("cv2")
    image, _ = scenes[0]
    boxes = opencv_selective_search(image)
    assert boxes.shape[1] == 4 and len(boxes) > 0
    assert (boxes[:, 2:] > boxes[:, :2]).all() and (boxes[:, 2:] <= 64).all()


# ---------------------------------------------------------------- bad input (issue 15)

def test_selective_search_takes_uint8_images_as_0_to_255():
    image, _ = Scenes(1, seed=4, size=48)[0]
    as_uint8 = (image * 255).round().to(torch.uint8)
    expected = selective_search(as_uint8.float() / 255, cache=False)
    assert len(expected) > 10 and torch.equal(selective_search(as_uint8, cache=False), expected)
    assert group(as_uint8).n_initial == group(as_uint8.float() / 255).n_initial


@pytest.mark.parametrize("call,error,match", [
    (lambda im: selective_search(im * 255), ValueError, r"image has values in \[.*for 0\.\.255 values use image / 255"),
    (lambda im: selective_search(im.permute(1, 2, 0)), ValueError, r"channels last.*permute\(2, 0, 1\)"),
    (lambda im: selective_search(im.numpy()), TypeError, r"image must be a Tensor.*torch\.from_numpy"),
    (lambda im: selective_search(im, max_proposals=-3), ValueError, r"max_proposals must be an int with 1 <= max_proposals"),
    (lambda im: selective_search(im, max_proposals=2.5), TypeError, r"max_proposals must be an int"),
    (lambda im: selective_search(im, sigma=float("nan")), ValueError, r"sigma .* must be finite"),
    (lambda im: selective_search(im, min_size=0), ValueError, r"min_size .* 1 <= min_size"),
    (lambda im: selective_search(im, strategies=Strategy()), TypeError, r"strategies must be a non-empty tuple"),
    (lambda im: group(im, strategy="hsv"), TypeError, r"strategy must be a Strategy"),
    (lambda im: Strategy("hsv", k=-5), ValueError, r"k \(Felzenszwalb's scale\) must be a number with 0 < k"),
], ids=["0_255_floats", "channels_last", "numpy", "max_proposals_negative", "max_proposals_float", "sigma_nan",
        "min_size_0", "strategies_not_tuple", "group_strategy_str", "negative_k"])
def test_selective_search_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call(torch.rand(3, 16, 16))


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(sizes=(-5,)), ValueError, r"sizes \(window sides, pixels\)\[0\] must be a number with 0 < sizes"),
    (dict(sizes=()), ValueError, r"sizes .* at least one value"),
    (dict(sizes=32), TypeError, r"sizes .* must be a tuple of numbers.*\(32,\)"),
    (dict(ratios=(1.0, 0.0)), ValueError, r"ratios \(height / width\)\[1\]"),
    (dict(stride=0), ValueError, r"stride"),
    (dict(image_size=(64, -64)), ValueError, r"image_size\[1\] must be an int with 1 <= image_size"),
    (dict(image_size=64), ValueError, r"image_size must be \(H, W\)"),
    (dict(image_size=(64.5, 64)), TypeError, r"image_size\[0\] must be an int"),
], ids=["negative_size", "no_sizes", "size_not_tuple", "zero_ratio", "zero_stride", "negative_image_size",
        "image_size_int", "image_size_float"])
def test_sliding_windows_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        sliding_windows(**{"image_size": (64, 64), **kwargs})


def test_all_windows_bad_size():
    with pytest.raises(ValueError, match="height must be an int with 0 <= height"):
        all_windows(-3, 4)


@pytest.mark.parametrize("args,kwargs,error,match", [
    (([BOX], [BOX]), dict(counts=(-1,)), ValueError, r"counts .*\[0\] must be an int with 1 <= counts"),
    (([BOX], [BOX]), dict(counts=(10.5,)), TypeError, r"counts .*\[0\] must be an int"),
    (([BOX], [BOX]), dict(iou_threshold=50), ValueError, r"iou_threshold must be a number with 0 < iou_threshold <= 1"),
    (([BOX], [torch.zeros(0, 4)]), {}, ValueError, r"hold no ground-truth box: recall is undefined"),
    (([BOX.clone().fill_(float("nan"))], [BOX]), {}, ValueError, r"proposals\[0\]\[0\] = \[nan.*not finite"),
    (([BOX], [torch.tensor([[10.0, 10.0, 5.0, 20.0]])]), {}, ValueError, r"gt_boxes\[0\]\[0\].*x1 < x2"),
    ((BOX, [BOX]), {}, TypeError, r"proposals must be a list with one Tensor\[N, 4\] per image"),
    (([BOX], [BOX, BOX]), {}, ValueError, r"1 proposal sets for 2 images"),
], ids=["negative_count", "float_count", "iou_percent", "no_objects", "nan_proposal", "flipped_gt", "not_a_list",
        "count_differs"])
def test_proposal_recall_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        proposal_recall(*args, **kwargs)


def test_labels_at_needs_a_step_that_happened():
    h = group(torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(0)), Strategy("hsv", k=10.0))
    assert h.labels_at(len(h.merges)).max() == h.labels_at(len(h.merges)).min()    # one region at the end
    for step in (-1, len(h.merges) + 1):
        with pytest.raises(ValueError, match=rf"step \(merges done, of {len(h.merges)}\) must be an int"):
            h.labels_at(step)
