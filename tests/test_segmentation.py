"""Segmentation models: shapes, the sliding window equals its fully convolutional rewrite, training lowers the loss."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cvlib import nn as cvnn
from cvlib.cost import activation_bytes, count_macs
from cvlib.data import CLASSES
from cvlib.models.segmentation.fcn import UPSAMPLING, DownUpFCN, FCNConfig, FullResFCN, Upsample, conv_stack
from cvlib.models.segmentation.patch_classifier import (PatchClassifier, PatchConfig, pad_for_patches,
                                                        patch_batches, patch_step, sliding_window)
from cvlib.models.segmentation.semantic import (NUM_CLASSES, SemanticData, class_weights, evaluate, predict,
                                                segmentation_step)
from cvlib.train import fit
from cvlib.viz import Table, iou_table


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def data():
    return SemanticData.from_scenes(24, seed=5, size=32)


def test_semantic_data(data):
    assert data.images.shape == (24, 3, 32, 32) and data.images.dtype == torch.float32
    assert data.labels.shape == (24, 32, 32) and data.labels.dtype == torch.int64
    assert 0 <= int(data.labels.min()) and int(data.labels.max()) < NUM_CLASSES
    assert data.class_fractions().sum() == pytest.approx(1.0)
    images, labels = next(iter(data.loader(batch_size=8)))
    assert images.shape == (8, 3, 32, 32) and labels.shape == (8, 32, 32)


@pytest.mark.parametrize("upsample", UPSAMPLING)
@pytest.mark.parametrize("stages,skip", [(1, False), (2, False), (3, True)])
def test_down_up_fcn_gives_c_x_h_x_w(upsample, stages, skip):
    model = DownUpFCN(FCNConfig(width=4, stages=stages, upsample=upsample, skip=skip))
    out = model(torch.rand(2, 3, 32, 40))
    assert out.shape == (2, NUM_CLASSES, 32, 40)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_full_res_fcn_shares_the_blocks():
    cfg = FCNConfig(width=4, upsample="nearest")
    full, down_up = FullResFCN(cfg), DownUpFCN(cfg)
    assert full(torch.rand(1, 3, 20, 28)).shape == (1, NUM_CLASSES, 20, 28)
    count = lambda m: sum(p.numel() for p in m.parameters())
    assert count(full) == count(down_up)   # nearest unpooling has no weights: only the resolution differs
    x = torch.rand(1, 3, 32, 32)
    assert count_macs(full, x) > 3 * count_macs(down_up, x)
    assert activation_bytes(full, x) > 2 * activation_bytes(down_up, x)


def test_max_unpool_puts_values_where_the_pooling_found_them():
    up = Upsample("max_unpool", 2)
    x = torch.rand(1, 2, 8, 8)
    pooled, idx = F.max_pool2d(x, 2, return_indices=True)
    out = up(pooled, idx, x.shape[-2:])
    assert torch.equal(out[out != 0], x[out != 0])
    assert int((out != 0).sum()) == pooled.numel()
    with pytest.raises(ValueError, match="indices"):
        up(pooled)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="upsample"):
        FCNConfig(upsample="bilinear")
    with pytest.raises(ValueError, match="multiples"):
        DownUpFCN(FCNConfig(width=4, stages=2))(torch.rand(1, 3, 30, 32))
    with pytest.raises(ValueError, match=r"B, 3, H, W\] in 0\.\.1, got shape \(3, 32, 32\); for one image use image\[None\]"):
        FullResFCN(FCNConfig(width=4))(torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match="odd"):
        PatchConfig(patch=16)
    with pytest.raises(ValueError, match="patches"):
        PatchClassifier(PatchConfig(patch=9, convs=2))(torch.rand(2, 3, 11, 11))


def test_fcn_blocks_are_cvlib_conv_blocks():
    assert NUM_CLASSES == len(CLASSES) and FCNConfig().num_classes == len(CLASSES)
    stack = conv_stack(3, 8, 2)
    reference = cvnn.conv_block(3, 8)
    assert len(stack) == 2 and all(type(b) is type(reference) for b in stack)
    assert [type(m) for m in stack[0]] == [type(m) for m in reference]
    model = DownUpFCN(FCNConfig(width=4))
    assert model.cfg.width == 4 and not hasattr(model, "config")


def test_sliding_window_equals_its_fully_convolutional_rewrite(data):
    model = PatchClassifier(PatchConfig(patch=9, convs=2, width=4, hidden=8))
    fit(model, patch_batches(data, 9, batch_size=32), steps=3, step_fn=patch_step, progress=False)  # non-trivial BN
    images = data.images[:2]
    scores = sliding_window(model, images, batch_size=300)
    assert scores.shape == (2, NUM_CLASSES, 32, 32)
    with torch.no_grad():
        dense = model.fully_convolutional().eval()(images)
    assert torch.allclose(scores, dense, atol=1e-5)
    # the corner pixel's score is the classifier applied to its own zero-padded patch
    patch = pad_for_patches(images[:1], 9)[:, :, :9, :9]
    with torch.no_grad():
        assert torch.allclose(model(patch)[0], scores[0, :, 0, 0], atol=1e-5)


def test_patch_batches_cut_the_patch_around_the_labelled_pixel(data):
    patches, labels = next(patch_batches(data, 7, batch_size=64, seed=3))
    assert patches.shape == (64, 3, 7, 7) and labels.shape == (64,)
    padded = pad_for_patches(data.images, 7)
    g = torch.Generator().manual_seed(3)    # replay the sampler's draws and compare directly
    i = torch.randint(len(data), (64,), generator=g)
    y = torch.randint(32, (64,), generator=g)
    x = torch.randint(32, (64,), generator=g)
    for k in range(64):
        assert torch.equal(patches[k], padded[i[k], :, y[k]:y[k] + 7, x[k]:x[k] + 7])
        assert labels[k] == data.labels[i[k], y[k], x[k]]


def test_training_lowers_the_loss_and_evaluate_scores(data):
    model = DownUpFCN(FCNConfig(width=8, stages=2, upsample="transpose"))
    history = fit(model, data.loader(batch_size=8), steps=30, step_fn=segmentation_step, lr=1e-2, progress=False)
    assert sum(history.losses["total"][-5:]) < sum(history.losses["total"][:5])
    result = evaluate(model, data)
    assert 0.0 <= result["miou"] <= 1.0 and result["per_class"].shape == (NUM_CLASSES,)
    assert result["pred"].shape == data.labels.shape


class _Oracle(nn.Module):
    """Scores that put every pixel in its true class (a lookup of the labels by image content)."""

    def __init__(self, data):
        super().__init__()
        self.data, self.dummy = data, nn.Parameter(torch.zeros(()))

    def forward(self, images):
        index = [int(torch.nonzero((self.data.images == im).flatten(1).all(1))[0]) for im in images]
        return F.one_hot(self.data.labels[index], NUM_CLASSES).permute(0, 3, 1, 2).float()


def test_evaluate_a_perfect_model_is_one(data):
    result = evaluate(_Oracle(data), data, batch_size=5)
    assert result["miou"] == pytest.approx(1.0)
    assert torch.equal(predict(_Oracle(data), data.images[:3]), data.labels[:3])


def test_class_weights_favour_rare_classes_and_average_one(data):
    w = class_weights(data)
    f = data.class_fractions()
    assert float((w * f).sum()) == pytest.approx(1.0)
    present = f > 0
    order = torch.argsort(f[present])
    assert torch.all(w[present][order][:-1] >= w[present][order][1:])   # rarer -> heavier
    images, labels = data.images[:4], data.labels[:4]
    model = DownUpFCN(FCNConfig(width=4))
    loss = segmentation_step(model, (images, labels), "cpu", weight=w)
    assert loss.ndim == 0 and torch.isfinite(loss)


def test_iou_table_shows_every_class(data):
    result = {"miou": 0.5, "per_class": torch.linspace(0, 1, NUM_CLASSES)}
    table = iou_table({"a model": result})
    assert "a model" in repr(table) and "<table>" in table._repr_html_()
    assert len(table.rows[0]) == NUM_CLASSES + 2


def test_table_shows_floats_to_three_decimals_and_none_as_a_dash():
    table = Table([["a", 0.12345, None, 7]], ["name", "score", "missing", "n"])
    assert repr(table).splitlines()[1].split() == ["a", "0.123", "—", "7"]
    assert "<td>0.123</td><td>—</td><td>7</td>" in table._repr_html_()
    with pytest.raises(ValueError, match=r"rows\[0\] has 2 values for 4"):
        Table([["a", 1]], ["name", "score", "missing", "n"])


# ---------------------------------------------------------------- bad input at every entry point (issue 15)

def segmentation_entry_points():
    classifier = PatchClassifier(PatchConfig(patch=9, convs=2, width=4, hidden=8))
    return {
        "full_res_fcn": FullResFCN(FCNConfig(width=4)),
        "down_up_fcn": DownUpFCN(FCNConfig(width=4)),
        "patch_fcn": classifier.fully_convolutional(),
        "predict": lambda images: predict(DownUpFCN(FCNConfig(width=4)), images),
        "sliding_window": lambda images: sliding_window(classifier, images),
    }


BAD_BATCHES = [
    ("uint8", TypeError, r"images has dtype torch\.uint8; images must be float32 \[B, 3, H, W\] in 0\.\.1",
     lambda x: (x * 255).to(torch.uint8)),
    ("values_0_255", ValueError, r"images\[1\] has values in .*for 0\.\.255 values use image / 255",
     lambda x: torch.cat([x[:1], x[1:] * 255])),
    ("nan", ValueError, r"images\[0\] holds 1 NaN or infinite values",
     lambda x: x.clone().index_put_((torch.tensor(0),) * 4, torch.tensor(float("nan")))),
    ("channels_last", ValueError, r"channels last.*images\.permute\(0, 3, 1, 2\)", lambda x: x.permute(0, 2, 3, 1)),
    ("list", TypeError, r"images must be a Tensor\[B, 3, H, W\], got list", lambda x: list(x)),
    ("empty", ValueError, r"images is empty \(shape \(0, 3, 8, 8\)\)", lambda x: x[:0]),
]


@pytest.mark.parametrize("entry", ["full_res_fcn", "down_up_fcn", "patch_fcn", "predict", "sliding_window"])
@pytest.mark.parametrize("case,error,match,breaks", BAD_BATCHES, ids=[c[0] for c in BAD_BATCHES])
def test_segmentation_entry_points_check_images(entry, case, error, match, breaks):
    fn = segmentation_entry_points()[entry]
    images = torch.rand(2, 3, 8, 8)
    assert fn(images).shape[0] == 2                           # the unbroken batch runs
    with pytest.raises(error, match=match):
        fn(breaks(images))


@pytest.mark.parametrize("entry", ["full_res_fcn", "down_up_fcn", "patch_fcn"])
def test_segmentation_models_name_a_dtype_that_is_not_theirs(entry):
    with pytest.raises(TypeError, match=r"is torch\.float64 on cpu but the model's weights are torch\.float32"):
        segmentation_entry_points()[entry](torch.rand(1, 3, 8, 8, dtype=torch.float64))


@pytest.mark.parametrize("make,match", [
    (lambda: FCNConfig(num_classes=1), r"num_classes .* 2 <= num_classes"),
    (lambda: FCNConfig(width=0), r"width must be an int with 1 <= width, got 0"),
    (lambda: FCNConfig(stages=1.5), r"stages must be an int"),
    (lambda: PatchConfig(width=-4), r"width must be an int with 1 <= width"),
    (lambda: PatchConfig(patch=9.0), r"patch must be an int"),
], ids=["fcn_one_class", "fcn_width_0", "fcn_stages_float", "patch_width_negative", "patch_float"])
def test_segmentation_configs_check_their_numbers(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()
