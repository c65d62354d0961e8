"""R-CNN and Fast R-CNN: torchvision's detection contract, warping, pooling, shared weights."""
import pytest
import torch

from cvlib.data import Scenes
from cvlib.models.fast_rcnn import FastRCNN, FastRCNNConfig, batch_images
from cvlib.models.rcnn import RCNN, RCNNConfig, warp

SMALL = dict(channels=(8, 16, 8), hidden=32, rois_per_image=16)


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


@pytest.mark.parametrize("make", [lambda: RCNN(RCNNConfig(**SMALL)),
                                  lambda: FastRCNN(FastRCNNConfig(**SMALL)),
                                  lambda: FastRCNN(FastRCNNConfig(pooler="roi_align", **SMALL))])
def test_contract(make):
    torch.manual_seed(0)
    model = make()
    images, targets, proposals = data()
    model.train()
    losses = model(images, targets, proposals)
    assert set(losses) == {"loss_classifier", "loss_box_reg"}
    assert all(v.ndim == 0 and torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert model.backbone[0][0].weight.grad is not None
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
    model = FastRCNN(FastRCNNConfig(**SMALL)).train()
    images, _, proposals = data()
    with pytest.raises(ValueError, match="targets"):
        model(images, proposals=proposals)
    with pytest.raises(ValueError, match="list"):
        model(torch.stack(images), proposals=proposals)
    with pytest.raises(ValueError, match="pooler"):
        FastRCNNConfig(pooler="max")


def test_proposal_function_from_the_config():
    calls = []

    def proposal_fn(image):
        calls.append(image.shape)
        return torch.tensor([[2.0, 2.0, 20.0, 20.0], [10.0, 5.0, 40.0, 30.0]])

    model = RCNN(RCNNConfig(proposal_fn=proposal_fn, **SMALL)).eval()
    images, _, _ = data()
    with torch.no_grad():
        out = model(images)
    assert len(calls) == 2 and len(out) == 2


def test_warp_resamples_each_proposal_to_a_fixed_size():
    image = torch.zeros(3, 32, 32)
    image[:, 8:16, 4:20] = 1.0                                  # a 16 x 8 white rectangle
    crops = warp([image], [torch.tensor([[4.0, 8.0, 20.0, 16.0], [0.0, 0.0, 32.0, 32.0]])], size=8)
    assert crops.shape == (2, 3, 8, 8)
    # the box exactly: white, stretched to 8 x 8 (the outer samples blend in a little of the border)
    torch.testing.assert_close(crops[0, :, 1:-1, 1:-1], torch.ones(3, 6, 6))
    assert crops[0].min() >= 0.75
    assert 0.05 < crops[1].mean() < 0.3                         # the whole image: mostly black


def test_same_network_two_ways():
    """R-CNN and Fast R-CNN share one network (same parameter names and shapes): weights load across."""
    torch.manual_seed(0)
    fast = FastRCNN(FastRCNNConfig(pooler="roi_align", **SMALL)).eval()
    rcnn = RCNN(RCNNConfig(**SMALL)).eval()
    rcnn.load_state_dict(fast.state_dict())
    assert fast.cfg.pool_size * fast.backbone.stride == rcnn.cfg.crop_size


def test_batch_images_pads():
    batch = batch_images([torch.ones(3, 10, 12), torch.ones(3, 14, 8)])
    assert batch.shape == (2, 3, 14, 12)
    assert batch[0, :, 10:].sum() == 0 and batch[1, :, :, 8:].sum() == 0


def test_proposal_loader_the_default_step_and_detect_with_proposals():
    from cvlib.models.detection import detect_with_proposals, proposal_loader
    from cvlib.train import detection_step
    torch.manual_seed(0)
    scenes = Scenes(3, seed=3, size=64)
    items = [scenes[i] for i in range(3)]
    _, _, proposals = data(3)
    images, targets, props = next(iter(proposal_loader(items, proposals, batch_size=2)))
    assert len(images) == len(targets) == len(props) == 2 and set(targets[0]) == {"boxes", "labels"}
    model = FastRCNN(FastRCNNConfig(**SMALL))
    losses = detection_step(model.train(), (images, targets, props), "cpu")   # the default step of fit
    assert set(losses) == {"loss_classifier", "loss_box_reg"}
    out = detect_with_proposals(model, items, proposals, batch_size=2)
    images = [image for image, _ in items]
    with torch.no_grad():                                     # the same batches of 2 images, by hand
        expected = model(images[:2], proposals=proposals[:2]) + model(images[2:], proposals=proposals[2:])
    assert len(out) == 3 and not model.training
    for got, want in zip(out, expected):
        assert all(torch.equal(got[k], want[k]) for k in ("boxes", "labels", "scores"))
