"""The unpooling ops and the transpose convolution equal their torch kernels."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cvlib.ops import bed_of_nails_unpool, max_unpool, nearest_unpool, transpose_conv2d


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize("scale", [1, 2, 3, (2, 3)])
@pytest.mark.parametrize("shape", [(1, 1, 2, 2), (2, 3, 5, 4)])
def test_nearest_equals_interpolate(scale, shape):
    x = torch.randn(shape)
    factor = scale if isinstance(scale, tuple) else (scale, scale)
    expected = F.interpolate(x, scale_factor=factor, mode="nearest")
    assert torch.equal(nearest_unpool(x, scale), expected)


def test_bed_of_nails_by_definition():
    x = torch.randn(2, 3, 4, 5)
    for position in [(0, 0), (1, 1), (0, 2)]:
        out = bed_of_nails_unpool(x, scale=3, position=position)
        assert out.shape == (2, 3, 12, 15)
        py, px = position
        for i in range(4):
            for j in range(5):
                block = out[:, :, 3 * i:3 * i + 3, 3 * j:3 * j + 3]
                assert torch.equal(block[:, :, py, px], x[:, :, i, j])
                block = block.clone()
                block[:, :, py, px] = 0
                assert not block.any(), "every other position of the block must be 0"
    assert bed_of_nails_unpool(x).sum() == pytest.approx(float(x.sum()), abs=1e-4)


def test_bed_of_nails_is_max_unpool_when_the_max_sits_top_left():
    x = torch.randn(1, 2, 3, 3)
    idx = torch.arange(3)[:, None] * 2 * 6 + torch.arange(3)[None, :] * 2   # top-left of each 2x2 block
    idx = idx.expand(1, 2, 3, 3)
    assert torch.equal(bed_of_nails_unpool(x), max_unpool(x, idx, 2))


@pytest.mark.parametrize("kernel,stride,padding,size", [(2, 2, 0, (8, 8)), (3, 3, 0, (9, 6)), (2, 2, 0, (7, 9)),
                                                        (3, 2, 1, (8, 8)), (4, 4, 0, (8, 12))])
def test_max_unpool_equals_torch(kernel, stride, padding, size):
    pool = nn.MaxPool2d(kernel, stride, padding, return_indices=True)
    unpool = nn.MaxUnpool2d(kernel, stride, padding)
    x = torch.randn(2, 3, *size)
    pooled, idx = pool(x)
    y = pooled * 2 + 1  # any processing between the two layers
    expected = unpool(y, idx, output_size=x.shape[-2:])
    got = max_unpool(y, idx, kernel, stride, padding, output_size=x.shape[-2:])
    if stride >= kernel:   # non-overlapping windows: every index is unique
        assert torch.equal(got, expected)
    else:                  # overlapping windows may pick the same spot; torch keeps one write
        assert got.shape == expected.shape
        assert torch.equal(got != 0, expected != 0)


def test_max_unpool_puts_values_back_at_the_max():
    x = torch.tensor([[[[1., 5., 0., 2.], [3., 4., 7., 1.], [0., 0., 1., 0.], [9., 0., 0., 2.]]]])
    pooled, idx = F.max_pool2d(x, 2, return_indices=True)
    assert pooled.flatten().tolist() == [5., 7., 9., 2.]
    out = max_unpool(pooled, idx, 2)
    assert torch.equal(out, torch.where(out != 0, x, torch.zeros_like(x)))
    assert torch.equal((out != 0).nonzero()[:, 2:], torch.tensor([[0, 1], [1, 2], [3, 0], [3, 3]]))


@pytest.mark.parametrize("c_in,c_out,kernel,stride,padding,output_padding", [
    (1, 1, 3, 2, 1, 1), (3, 2, 3, 1, 0, 0), (2, 4, 4, 2, 1, 0), (4, 3, 2, 2, 0, 0),
    (1, 2, 5, 3, 2, 0), (2, 2, (3, 2), (2, 1), (1, 0), 0), (3, 1, 1, 2, 0, 1), (2, 3, 3, 3, 2, 2)])
def test_transpose_conv_equals_torch(c_in, c_out, kernel, stride, padding, output_padding):
    k = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    x = torch.randn(2, c_in, 5, 4, dtype=torch.float64)
    w = torch.randn(c_in, c_out, *k, dtype=torch.float64)
    b = torch.randn(c_out, dtype=torch.float64)
    expected = F.conv_transpose2d(x, w, b, stride=stride, padding=padding, output_padding=output_padding)
    got = transpose_conv2d(x, w, b, stride=stride, padding=padding, output_padding=output_padding)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-10)
    assert torch.allclose(transpose_conv2d(x, w, stride=stride, padding=padding, output_padding=output_padding),
                          F.conv_transpose2d(x, w, stride=stride, padding=padding, output_padding=output_padding),
                          atol=1e-10)


def test_transpose_conv_one_value_stamps_the_scaled_filter():
    x = torch.zeros(1, 1, 3, 3)
    x[0, 0, 1, 2] = 2.0
    w = torch.arange(9.0).reshape(1, 1, 3, 3)
    out = transpose_conv2d(x, w, stride=2)
    assert out.shape == (1, 1, 7, 7)
    assert torch.equal(out[0, 0, 2:5, 4:7], 2 * w[0, 0])
    assert out.sum() == 2 * w.sum()
    # two neighbours overlap in one column (stride 2 < kernel 3): the overlap is the sum
    x[0, 0, 1, 1] = 1.0
    out = transpose_conv2d(x, w, stride=2)
    assert torch.equal(out[0, 0, 2:5, 4], 2 * w[0, 0, :, 0] + w[0, 0, :, 2])


def test_gradients_flow_and_match_torch():
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    (g_ref_x, g_ref_w) = torch.autograd.grad(F.conv_transpose2d(x, w, stride=2).pow(2).sum(), (x, w))
    (g_x, g_w) = torch.autograd.grad(transpose_conv2d(x, w, stride=2).pow(2).sum(), (x, w))
    assert torch.allclose(g_x, g_ref_x) and torch.allclose(g_w, g_ref_w)

    pooled, idx = F.max_pool2d(torch.randn(2, 3, 8, 8), 2, return_indices=True)
    for out in (nearest_unpool(x), bed_of_nails_unpool(x)):
        (g,) = torch.autograd.grad(out.sum(), x)
        assert g.shape == x.shape and g.abs().sum() > 0
    y = pooled.clone().requires_grad_(True)
    (g,) = torch.autograd.grad((max_unpool(y, idx, 2) * 3).sum(), y)
    assert torch.equal(g, torch.full_like(y, 3.0))
    (g_ref,) = torch.autograd.grad(F.interpolate(x, scale_factor=2, mode="nearest").sum(), x)
    (g,) = torch.autograd.grad(nearest_unpool(x).sum(), x)
    assert torch.allclose(g, g_ref)   # each value feeds its 4 copies


def test_bad_input_raises():
    with pytest.raises(ValueError, match="N, C, H, W"):
        nearest_unpool(torch.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="outside"):
        bed_of_nails_unpool(torch.zeros(1, 1, 2, 2), 2, position=(2, 0))
    with pytest.raises(ValueError, match="indices"):
        max_unpool(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 3, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="indices must lie"):
        max_unpool(torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 99))
    with pytest.raises(ValueError, match="weight"):
        transpose_conv2d(torch.zeros(1, 2, 3, 3), torch.zeros(3, 1, 3, 3))


@pytest.mark.parametrize("op", ["nearest_unpool", "bed_of_nails_unpool"])
@pytest.mark.parametrize("scale", [1.5, "2", (2, 2, 2), True], ids=["float", "str", "triple", "bool"])
def test_scale_must_be_an_int_or_a_pair(op, scale):
    fn = {"nearest_unpool": nearest_unpool, "bed_of_nails_unpool": bed_of_nails_unpool}[op]
    with pytest.raises(ValueError, match=r"scale must be an int or a pair of ints"):
        fn(torch.zeros(1, 1, 2, 2), scale)
