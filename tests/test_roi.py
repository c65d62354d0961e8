"""cvlib.ops.roi_pool / roi_align equal torchvision's, with boxes crossing the feature map's edge and no boxes."""
import pytest
import torch
import torchvision

from cvlib.ops import roi_align, roi_pool


def random_rois(k, batch, image_size, seed=0, spill=0.3):
    """Tensor[K, 5] boxes in image pixels, many of them crossing (or beyond) the image's edge."""
    g = torch.Generator().manual_seed(seed)
    lo, hi = -spill * image_size, (1 + spill) * image_size
    xy = lo + torch.rand(k, 2, generator=g) * (hi - lo)
    wh = torch.rand(k, 2, generator=g) * image_size * 0.6
    idx = torch.randint(0, batch, (k, 1), generator=g).float()
    return torch.cat([idx, xy, xy + wh], dim=1)


@pytest.fixture
def features():
    return torch.randn(2, 3, 12, 10, generator=torch.Generator().manual_seed(0))


def test_rois_cross_the_edge(features):
    rois = random_rois(60, 2, 40, seed=1)
    assert (rois[:, 1:3] < 0).any() and (rois[:, 3:] > 40).any()


@pytest.mark.parametrize("scale", [1.0, 0.25])
@pytest.mark.parametrize("output_size", [2, (3, 4), 7])
def test_roi_pool_equals_torchvision(features, scale, output_size):
    rois = random_rois(60, 2, 10 / scale, seed=2)
    ours = roi_pool(features, rois, output_size, spatial_scale=scale)
    theirs = torchvision.ops.roi_pool(features, rois, output_size, spatial_scale=scale)
    torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sampling_ratio", [-1, 2])
@pytest.mark.parametrize("scale", [1.0, 0.25])
@pytest.mark.parametrize("output_size", [(2, 3), 7])
def test_roi_align_equals_torchvision(features, aligned, sampling_ratio, scale, output_size):
    rois = random_rois(60, 2, 10 / scale, seed=3)
    ours = roi_align(features, rois, output_size, scale, sampling_ratio, aligned=aligned)
    theirs = torchvision.ops.roi_align(features, rois, output_size, scale, sampling_ratio, aligned=aligned)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)


def test_tiny_and_degenerate_boxes(features):
    rois = torch.tensor([[0, 3.0, 3.0, 3.0, 3.0], [1, 5.0, 2.0, 5.2, 2.1], [0, 8.0, 8.0, 4.0, 4.0],
                         [1, -30.0, -30.0, -20.0, -20.0], [0, 9.6, 11.7, 30.0, 40.0]])
    for aligned in (False, True):
        torch.testing.assert_close(roi_align(features, rois, 3, 1.0, -1, aligned=aligned),
                                   torchvision.ops.roi_align(features, rois, 3, 1.0, -1, aligned=aligned))
    torch.testing.assert_close(roi_pool(features, rois, 3), torchvision.ops.roi_pool(features, rois, 3))


def test_list_of_boxes_format(features):
    boxes = [random_rois(5, 1, 10, seed=4)[:, 1:], random_rois(3, 1, 10, seed=5)[:, 1:]]
    torch.testing.assert_close(roi_pool(features, boxes, 2), torchvision.ops.roi_pool(features, boxes, 2))
    torch.testing.assert_close(roi_align(features, boxes, 2, aligned=True),
                               torchvision.ops.roi_align(features, boxes, 2, aligned=True))


def test_empty_boxes(features):
    for boxes in (torch.zeros(0, 5), [torch.zeros(0, 4), torch.zeros(0, 4)]):
        for op, ref in ((roi_pool, torchvision.ops.roi_pool), (roi_align, torchvision.ops.roi_align)):
            out = op(features, boxes, (2, 3))
            assert out.shape == (0, 3, 2, 3) == ref(features, boxes, (2, 3)).shape


def test_roi_pool_picks_the_max():
    features = torch.arange(16.0).reshape(1, 1, 4, 4)
    out = roi_pool(features, torch.tensor([[0, 0.0, 0.0, 3.0, 3.0]]), 2)
    assert out.flatten().tolist() == [5.0, 7.0, 13.0, 15.0]


def test_bad_boxes(features):
    with pytest.raises(ValueError, match="boxes"):
        roi_pool(features, torch.zeros(3, 4), 2)
    with pytest.raises(ValueError, match="box tensors"):
        roi_align(features, [torch.zeros(1, 4)], 2)


# ---------------------------------------------------------------- RoIAlign's faster backward

@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("sampling_ratio", [1, 2, 3])
def test_fast_grad_roi_align_equals_torchvision_forward_and_gradient(aligned, sampling_ratio):
    """Boxes inside, across the edge, far outside and of negative size, on three images; float64."""
    from torchvision.ops import roi_align as tv_roi_align
    from cvlib.ops.roi_align_grad import roi_align_fast_grad
    torch.manual_seed(0)
    features = torch.randn(3, 5, 24, 20, dtype=torch.float64, requires_grad=True)
    corner = torch.rand(60, 2, dtype=torch.float64) * 120 - 15
    boxes = torch.cat([corner, corner + torch.rand(60, 2, dtype=torch.float64) * 70 - 5], dim=1)
    rois = torch.cat([torch.randint(0, 3, (60, 1)).double(), boxes], dim=1)
    theirs = tv_roi_align(features, rois, (7, 6), 0.25, sampling_ratio, aligned)
    ours = roi_align_fast_grad(features, rois, (7, 6), 0.25, sampling_ratio, aligned)
    assert torch.equal(ours, theirs)                       # the same forward kernel
    grad_out = torch.randn_like(theirs)
    (want,) = torch.autograd.grad(theirs, features, grad_out)
    (got,) = torch.autograd.grad(ours, features, grad_out)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


def test_fast_grad_roi_align_with_no_boxes_on_an_image_and_adaptive_sampling():
    from torchvision.ops import roi_align as tv_roi_align
    from cvlib.ops.roi_align_grad import roi_align_fast_grad
    features = torch.randn(2, 3, 12, 12, requires_grad=True)
    rois = torch.tensor([[1.0, 4.0, 4.0, 30.0, 20.0]])     # image 0 has none
    for ratio in (2, -1):                                   # -1: torchvision's own backward
        ours = roi_align_fast_grad(features, rois, 7, 0.5, ratio)
        (got,) = torch.autograd.grad(ours.sum(), features)
        (want,) = torch.autograd.grad(tv_roi_align(features, rois, 7, 0.5, ratio, True).sum(), features)
        torch.testing.assert_close(got, want)
        assert got[0].abs().sum() == 0
    with torch.no_grad():                                    # no graph: the plain kernel
        assert roi_align_fast_grad(features, rois, 7, 0.5).grad_fn is None
