"""The sliding-window detector: torchvision's I/O contract, window labelling, the face helpers."""
import pytest
import torch

from cvlib.data import Scenes
from cvlib.data import faces
from cvlib.models.detection import SlidingWindowConfig, SlidingWindowDetector, face_config


@pytest.fixture(scope="module")
def batch():
    ds = Scenes(2, seed=3, size=64)
    return Scenes.collate([ds[0], ds[1]])


def test_train_mode_returns_losses(batch):
    torch.manual_seed(0)
    model = SlidingWindowDetector(SlidingWindowConfig()).train()
    images, targets = batch
    losses = model(images, targets)
    assert set(losses) == {"loss_classifier"} and losses["loss_classifier"].ndim == 0
    losses["loss_classifier"].backward()
    assert model.predictor.weight.grad is not None


def test_eval_mode_returns_detections(batch):
    model = SlidingWindowDetector(SlidingWindowConfig(score_thresh=0.0)).eval()
    images, _ = batch
    out = model(images)
    assert len(out) == 2
    for d in out:
        assert set(d) == {"boxes", "labels", "scores"}
        k = len(d["boxes"])
        assert d["boxes"].shape == (k, 4) and d["labels"].shape == (k,) and d["scores"].shape == (k,)
        assert d["labels"].dtype == torch.int64 and (d["labels"] >= 1).all()   # background is never reported
        assert k <= model.cfg.detections_per_img
        assert (d["scores"][:-1] >= d["scores"][1:]).all()               # best first


def test_window_labels(batch):
    torch.manual_seed(0)
    model = SlidingWindowDetector(SlidingWindowConfig(samples_per_image=64, positive_fraction=0.5))
    images, targets = batch
    windows = model.windows(images[0].shape[-2:])
    boxes, labels = model.sample(windows, targets[0])
    assert len(boxes) == len(labels) <= 64
    assert (labels > 0).sum() <= 32 and (labels > 0).any() and (labels == 0).any()
    assert (labels >= 0).all()                                     # ambiguous windows are never sampled
    from torchvision.ops import box_iou
    best = box_iou(boxes, targets[0]["boxes"]).max(1).values
    assert (best[labels > 0] >= 0.5).all() and (best[labels == 0] < 0.3).all()
    # an image with no objects gives background only
    empty = {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)}
    _, labels = model.sample(windows, empty)
    assert (labels == 0).all() and len(labels) == 64


def test_bad_inputs(batch):
    model = SlidingWindowDetector()
    images, targets = batch
    with pytest.raises(ValueError, match="target"):
        model.train()(images)
    with pytest.raises(ValueError, match=r"images\[0\] must have 1 channels"):
        SlidingWindowDetector(face_config()).eval()(images)
    with pytest.raises(TypeError, match="list"):
        model.eval()(images[0])
    with pytest.raises(ValueError, match="patch"):
        SlidingWindowDetector(SlidingWindowConfig(patch=4))


def test_face_helpers():
    train_x, train_y, test_x, test_y = faces.face_patches(negatives_per_photo=20)
    assert train_x.shape[1:] == (1, 25, 25) and len(train_x) == len(train_y)
    assert int(train_y.sum()) == 70 and int(test_y.sum()) == 30
    assert train_x.min() >= 0 and train_x.max() <= 1
    assert faces.augment(train_x[:8]).shape == (8, 1, 25, 25)
    crops = faces.random_crops(torch.rand(3, 40, 50), 3, 25, torch.Generator().manual_seed(0))
    assert crops.shape == (3, 3, 25, 25)
    grey = faces.greyscale(torch.ones(3, 5, 7) * 0.5)
    assert grey.shape == (1, 5, 7) and torch.allclose(grey, torch.full((1, 5, 7), 0.5))
    model = SlidingWindowDetector(face_config()).eval()
    assert model.classify(train_x[:4]).shape == (4, 2)
    out = model([torch.rand(1, 96, 96)])[0]
    assert out["boxes"].shape[1] == 4
