"""AnchorGenerator against torchvision's: the same anchors, in the same order, on one feature map."""
import pytest
import torch
from torchvision.models.detection.anchor_utils import AnchorGenerator as TorchAnchors
from torchvision.models.detection.image_list import ImageList

from cvlib.models.detection import AnchorGenerator

SHAPES = [((16, 32, 64), (0.5, 1.0, 2.0)),          # the RPN's defaults
          ((32,), (1.0,)),                           # one anchor per cell
          ((12, 24, 48), (0.5, 1.0, 2.0)),           # test_rpn's
          ((8, 13.5, 23), (0.25, 0.7, 1.0, 3.0)),    # fractional sizes, ratios without an exact sqrt
          ((128, 256, 512), (0.5, 1.0, 2.0))]        # torchvision's defaults, larger than the image
# (image H, W) of the padded batch, feature map (h, w): square, non-square, strides that do not divide evenly
GRIDS = [((64, 64), (16, 16)), ((48, 80), (12, 20)), ((50, 37), (12, 9)), ((33, 65), (8, 16)),
         ((128, 96), (32, 24)), ((31, 31), (1, 1)), ((40, 24), (5, 3))]


def torch_anchors(sizes, ratios, image_size, grid, batch=2, dtype=torch.float32):
    generator = TorchAnchors((tuple(sizes),), (tuple(ratios),))
    images = ImageList(torch.zeros(batch, 3, *image_size, dtype=dtype), [tuple(image_size)] * batch)
    features = torch.zeros(batch, 8, *grid, dtype=dtype)
    return generator(images, [features]), features


@pytest.mark.parametrize("sizes,ratios", SHAPES)
@pytest.mark.parametrize("image_size,grid", GRIDS)
def test_anchors_equal_torchvision(sizes, ratios, image_size, grid):
    theirs, features = torch_anchors(sizes, ratios, image_size, grid)
    ours = AnchorGenerator(sizes, ratios)(image_size, features)
    assert ours.dtype == torch.float32
    assert ours.shape == (grid[0] * grid[1] * len(sizes) * len(ratios), 4)
    for per_image in theirs:                               # torchvision: the same anchors for every image
        assert torch.equal(ours, per_image)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_anchors_follow_the_features_dtype(dtype):
    sizes, ratios = SHAPES[3]
    theirs, features = torch_anchors(sizes, ratios, (50, 37), (12, 9), dtype=dtype)
    ours = AnchorGenerator(sizes, ratios)((50, 37), features)
    assert ours.dtype == dtype
    torch.testing.assert_close(ours, theirs[0], rtol=0, atol=0)


def test_cell_anchors_and_grid():
    generator = AnchorGenerator(sizes=(16, 32), ratios=(0.5, 1.0, 2.0))
    cell = generator.cell_anchors()
    torch.testing.assert_close(cell, TorchAnchors().generate_anchors([16, 32], [0.5, 1.0, 2.0]), rtol=0, atol=0)
    assert torch.equal(cell[2:4], torch.tensor([[-8.0, -8.0, 8.0, 8.0], [-16.0, -16.0, 16.0, 16.0]]))  # ratio 1
    w, h = cell[:, 2] - cell[:, 0], cell[:, 3] - cell[:, 1]
    torch.testing.assert_close(h / w, torch.tensor([0.5, 0.5, 1.0, 1.0, 2.0, 2.0]), rtol=0.1, atol=0)  # rounded
    torch.testing.assert_close(cell[:, :2], -cell[:, 2:])                          # centred on (0, 0)
    torch.testing.assert_close(w * h, torch.tensor([16.0, 32.0] * 3) ** 2, rtol=0.1, atol=0)   # area size^2
    grid = generator.grid_anchors((2, 3), stride=(8, 4))
    assert grid.shape == (2 * 3 * 6, 4)
    # row-major over cells (y, then x), the 6 cell anchors within each cell
    shifts = torch.tensor([[x, y, x, y] for y in (0, 8) for x in (0, 4, 8)], dtype=torch.float32)
    assert torch.equal(grid.view(6, 6, 4), shifts[:, None] + cell[None])
    stride = (8, 4)
    theirs = TorchAnchors(((16, 32),), ((0.5, 1.0, 2.0),)).grid_anchors([[2, 3]], [[torch.tensor(s) for s in stride]])
    assert torch.equal(grid, theirs[0])


@pytest.mark.parametrize("sizes,ratios", SHAPES)
def test_num_anchors(sizes, ratios):
    generator = AnchorGenerator(sizes, ratios)
    assert generator.num_anchors == len(sizes) * len(ratios)
    assert generator.num_anchors == TorchAnchors((sizes,), (ratios,)).num_anchors_per_location()[0]
    assert len(generator.cell_anchors()) == generator.num_anchors


@pytest.mark.parametrize("sizes,ratios", [((), (1.0,)), ((16,), ()), ((-16, 32), (1.0,)), ((0,), (1.0,)),
                                          ((16,), (0.5, -1.0)), ((16,), (0.0,))])
def test_bad_sizes_and_ratios(sizes, ratios):
    with pytest.raises(ValueError, match="non-empty and positive"):
        AnchorGenerator(sizes, ratios)
