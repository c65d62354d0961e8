"""R-CNN and Fast R-CNN: torchvision's detection contract, warping, pooling, shared weights."""
import pytest
import torch

from cvlib.data import Scenes
from cvlib.models.detection import (RCNN, FastRCNN, FastRCNNConfig, RCNNConfig, RoIHeadsConfig, TwoStageDetector,
                                    batch_images, detect, proposal_loader, rcnn_from_fast_rcnn, warp)

CHANNELS = (8, 16, 8)


def heads(**kw):
    return RoIHeadsConfig(hidden=32, rois_per_image=16, **kw)


def small_rcnn(**kw):
    return RCNN(RCNNConfig(channels=CHANNELS, roi_heads=heads(), **kw))


def small_fast(pooler="roi_pool", **kw):
    return FastRCNN(FastRCNNConfig(channels=CHANNELS, roi_heads=heads(pooler=pooler), **kw))


def cnn(model):
    """The CNN of a model: Fast R-CNN's shared backbone, R-CNN's per-crop CNN (inside its pooler)."""
    return model.roi_heads.pooler.cnn if isinstance(model, RCNN) else model.backbone


def data(n=2, size=64):
    scenes = Scenes(n, seed=3, size=size)
    images, targets = zip(*[scenes[i] for i in range(n)])
    targets = [{"boxes": t["boxes"], "labels": t["labels"]} for t in targets]
    g = torch.Generator().manual_seed(0)
    proposals = []
    for _ in range(n):
        xy = torch.rand(30, 2, generator=g) * (size - 16)
        proposals.append(torch.cat([xy, xy + 4 + torch.rand(30, 2, generator=g) * 20], dim=1))
    return list(images), targets, proposals


@pytest.mark.parametrize("make", [small_rcnn, small_fast, lambda: small_fast("roi_align")],
                         ids=["rcnn", "fast_rcnn-roi_pool", "fast_rcnn-roi_align"])
def test_contract(make):
    torch.manual_seed(0)
    model = make()
    assert isinstance(model, TwoStageDetector)
    images, targets, proposals = data()
    model.train()
    losses = model(images, targets, proposals)
    assert set(losses) == {"loss_classifier", "loss_box_reg"}
    assert all(v.ndim == 0 and torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert cnn(model)[0][0].weight.grad is not None
    model.eval()
    with torch.no_grad():
        out = model(images, proposals=proposals)
    assert len(out) == 2
    for det, image in zip(out, images):
        d = len(det["boxes"])
        assert det["boxes"].shape == (d, 4) and det["labels"].shape == (d,) and det["scores"].shape == (d,)
        assert det["labels"].dtype == torch.int64
        assert d == 0 or (det["labels"].min() >= 1 and det["labels"].max() < 6)
        assert (det["boxes"][:, 2:] <= image.shape[-1]).all() and (det["boxes"] >= 0).all()
        assert torch.all(det["scores"][:-1] >= det["scores"][1:]) or d < 2


def test_train_mode_needs_targets_and_images_must_be_a_list():
    model = small_fast().train()
    images, _, proposals = data()
    with pytest.raises(ValueError, match="targets"):
        model(images, proposals=proposals)
    with pytest.raises(TypeError, match="list"):
        model(torch.stack(images), proposals=proposals)
    with pytest.raises(ValueError, match="pooler"):
        RoIHeadsConfig(pooler="max")                     # checked where the config is built


def test_configs_compose():
    cfg = FastRCNNConfig(roi_heads=RoIHeadsConfig(pooler="roi_align"))
    assert cfg.roi_heads.pooler == "roi_align" and FastRCNNConfig().roi_heads.pooler == "roi_pool"
    assert FastRCNN(cfg).roi_heads.pooler.kind == "roi_align"
    assert FastRCNNConfig().roi_heads is not FastRCNNConfig().roi_heads      # no shared default
    with pytest.raises(ValueError, match="num_classes"):
        FastRCNNConfig(num_classes=1)


def test_proposal_function_from_the_config():
    calls = []

    def proposal_fn(image):
        calls.append(image.shape)
        return torch.tensor([[2.0, 2.0, 20.0, 20.0], [10.0, 5.0, 40.0, 30.0]])

    model = small_rcnn(proposal_fn=proposal_fn).eval()
    images, _, _ = data()
    with torch.no_grad():
        out = model(images)
    assert len(calls) == 2 and len(out) == 2


def test_warp_resamples_each_proposal_to_a_fixed_size():
    image = torch.zeros(3, 32, 32)
    image[:, 8:16, 4:20] = 1.0                                  # a 16 x 8 white rectangle
    boxes = torch.tensor([[4.0, 8.0, 20.0, 16.0], [0.0, 0.0, 32.0, 32.0]])
    crops = warp(image[None], [boxes], size=8)
    assert crops.shape == (2, 3, 8, 8)
    # the box exactly: white, stretched to 8 x 8 (the outer samples blend in a little of the border)
    torch.testing.assert_close(crops[0, :, 1:-1, 1:-1], torch.ones(3, 6, 6))
    assert crops[0].min() >= 0.75
    assert 0.05 < crops[1].mean() < 0.3                         # the whole image: mostly black
    two = warp(torch.stack([image, 1 - image]), [boxes[:1], boxes], size=8)   # in the order of the proposals
    assert two.shape == (3, 3, 8, 8)
    torch.testing.assert_close(two[0], crops[0])
    torch.testing.assert_close(two[1:], 1 - crops)


def test_same_network_two_ways():
    """R-CNN and Fast R-CNN share one network: rcnn_from_fast_rcnn moves a Fast R-CNN's weights into an R-CNN."""
    torch.manual_seed(0)
    fast = small_fast("roi_align").eval()
    rcnn = rcnn_from_fast_rcnn(fast)
    assert isinstance(rcnn, RCNN) and not rcnn.training
    assert fast.cfg.roi_heads.pool_size * fast.backbone.stride == rcnn.cfg.crop_size
    assert rcnn.cfg.roi_heads == fast.cfg.roi_heads and rcnn.cfg.channels == fast.cfg.channels
    fast_state, rcnn_state = fast.state_dict(), rcnn.state_dict()
    assert len(fast_state) == len(rcnn_state)
    for name, value in fast_state.items():
        moved = "roi_heads.pooler.cnn." + name[len("backbone."):] if name.startswith("backbone.") else name
        assert torch.equal(rcnn_state[moved], value), name
    assert rcnn_from_fast_rcnn(fast.train()).training               # the mode is kept
    images, _, proposals = data(1)
    with torch.no_grad():
        out = rcnn.eval()(images, proposals=proposals)                  # and it detects
    assert set(out[0]) == {"boxes", "labels", "scores"}


def test_batch_images_pads():
    batch = batch_images([torch.ones(3, 10, 12), torch.ones(3, 14, 8)])
    assert batch.shape == (2, 3, 14, 12)
    assert batch[0, :, 10:].sum() == 0 and batch[1, :, :, 8:].sum() == 0
    assert batch[0, :, :10, :12].min() == 1 and batch[1, :, :14, :8].min() == 1


def test_proposal_loader_the_default_step_and_detect():
    from cvlib.train import detection_step
    torch.manual_seed(0)
    scenes = Scenes(3, seed=3, size=64)
    items = [scenes[i] for i in range(3)]
    _, _, proposals = data(3)
    images, targets, props = next(iter(proposal_loader(items, proposals, batch_size=2)))
    assert len(images) == len(targets) == len(props) == 2 and set(targets[0]) == {"boxes", "labels"}
    model = small_fast()
    losses = detection_step(model.train(), (images, targets, props), "cpu")   # the default step of fit
    assert set(losses) == {"loss_classifier", "loss_box_reg"}
    out = detect(model, items, proposals, batch_size=2)
    images = [image for image, _ in items]
    with torch.no_grad():                                     # the same batches of 2 images, by hand
        expected = model(images[:2], proposals=proposals[:2]) + model(images[2:], proposals=proposals[2:])
    assert len(out) == 3 and not model.training
    for got, want in zip(out, expected):
        assert all(torch.equal(got[k], want[k]) for k in ("boxes", "labels", "scores"))
