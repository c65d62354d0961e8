"""SSD against torchvision's: default boxes, hard negative mining, losses and detections on the same inputs."""
import pytest
import torch
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator as TorchDefaultBoxes
from torchvision.models.detection.image_list import ImageList

from cvlib.data import Scenes
from cvlib.models.detection import SSD, DefaultBoxGenerator, SSDConfig, hard_negatives
from cvlib.models.detection.torchvision_twin import copy_ssd_weights, torchvision_ssd

CONFIGS = [([[2], [2, 3], [2, 3]], 0.15, 0.75, True),     # the book's SSD
           ([[2, 3]], 0.2, 0.9, False),                    # one map, unclipped
           ([[2], [2, 3], [2, 3], [2], [2]], 0.1, 0.95, True),
           ([[], [1.5]], 0.3, 0.6, True)]                  # no extra ratio on the first map
SIZES = [(96, 96), (64, 96), (128, 80)]


@pytest.mark.parametrize("ratios,lo,hi,clip", CONFIGS)
@pytest.mark.parametrize("image_size", SIZES)
def test_default_boxes_equal_torchvision(ratios, lo, hi, clip, image_size):
    H, W = image_size
    maps = [torch.zeros(2, 8, -(-H // s), -(-W // s)) for s in (8, 16, 32, 64, 128)[:len(ratios)]]
    ours = DefaultBoxGenerator(ratios, lo, hi, clip)(image_size, maps)
    theirs = TorchDefaultBoxes(ratios, lo, hi, clip=clip)(ImageList(torch.zeros(2, 3, H, W), [image_size] * 2), maps)
    counts = DefaultBoxGenerator(ratios, lo, hi, clip).num_anchors_per_location()
    assert ours.shape == (sum(m.shape[-2] * m.shape[-1] * a for m, a in zip(maps, counts)), 4)
    for per_image in theirs:
        assert torch.equal(ours, per_image)


def test_default_boxes_check_their_arguments():
    with pytest.raises(ValueError, match="aspect_ratios"):
        DefaultBoxGenerator([])
    with pytest.raises(ValueError, match="positive"):
        DefaultBoxGenerator([[2, -1]])
    with pytest.raises(ValueError, match="min_ratio"):
        DefaultBoxGenerator([[2]], min_ratio=0.9, max_ratio=0.2)
    with pytest.raises(ValueError, match="2 feature maps for 3"):
        DefaultBoxGenerator([[2], [2], [2]])((96, 96), [torch.zeros(1, 8, 12, 12)] * 2)


def torchvision_hard_negatives(losses, positive, ratio):
    """The mining in torchvision's SSD.compute_loss, line for line."""
    num_negative = ratio * positive.sum(1, keepdim=True)
    negative_loss = losses.clone()
    negative_loss[positive] = -float("inf")
    values, idx = negative_loss.sort(1, descending=True)
    return idx.sort(1)[1] < num_negative


@pytest.mark.parametrize("seed", range(5))
def test_hard_negatives_equal_torchvision(seed):
    g = torch.Generator().manual_seed(seed)
    losses = torch.rand(3, 200, generator=g)
    positive = torch.rand(3, 200, generator=g) < 0.03
    positive[2] = False                                   # an image without objects keeps no negatives
    ours = hard_negatives(losses, positive, 3.0)
    assert torch.equal(ours, torchvision_hard_negatives(losses, positive, 3.0))
    assert not (ours & positive).any()
    assert torch.equal(ours.sum(1), (3 * positive.sum(1)).clamp(max=200))
    hardest = losses.masked_fill(positive | ours, -1).max(1).values
    assert all(losses[b][ours[b]].min() >= hardest[b] for b in range(2))   # the kept ones are the hardest


def test_hard_negatives_check_shapes():
    with pytest.raises(ValueError, match=r"\[B, P\]"):
        hard_negatives(torch.rand(10), torch.zeros(10, dtype=torch.bool))


def scenes(n=6, size=96):
    items = [Scenes(n, seed=1, size=size)[i] for i in range(n)]
    return [im for im, _ in items], [{"boxes": t["boxes"], "labels": t["labels"]} for _, t in items]


def twins(cfg=None, size=96):
    torch.manual_seed(0)
    ours = SSD(cfg)
    theirs = torchvision_ssd(ours.cfg, size)
    copy_ssd_weights(ours, theirs)
    return ours, theirs


@pytest.mark.parametrize("cfg", [None, SSDConfig(neg_to_pos=1.0, min_ratio=0.2, aspect_ratios=((2.0,),) * 3),
                                 SSDConfig(backbone_map=True, extra_depth=1, aspect_ratios=((2.0,),) * 4)])
def test_ssd_losses_equal_torchvision(cfg):
    images, targets = scenes()
    targets[1] = {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)}   # a scene without objects
    ours, theirs = twins(cfg)
    a, b = ours.train()(images, targets), theirs.train()(images, targets)
    assert a.keys() == b.keys() == {"bbox_regression", "classification"}
    for k in a:
        torch.testing.assert_close(a[k], b[k])


def test_ssd_detections_equal_torchvision():
    images, _ = scenes()
    ours, theirs = twins()
    with torch.no_grad():
        a, b = ours.eval()(images), theirs.eval()(images)
    for x, y in zip(a, b):
        assert len(x["boxes"]) > 0
        torch.testing.assert_close(x["boxes"], y["boxes"])
        torch.testing.assert_close(x["scores"], y["scores"])
        assert torch.equal(x["labels"], y["labels"])


def test_ssd_contract_and_bad_input():
    images, targets = scenes(2)
    model = SSD()
    losses = model.train()(images, targets)
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in model.parameters())
    with pytest.raises(ValueError, match="targets"):
        model(images)                                    # train mode needs targets
    bad = [{"boxes": torch.tensor([[10.0, 10, 5, 20]]), "labels": torch.tensor([1])}, targets[1]]
    with pytest.raises(ValueError, match=r"targets\[0\]"):
        model(images, bad)
    out = model.eval()(images)
    assert [set(d) for d in out] == [{"boxes", "labels", "scores"}] * 2
    assert out[0]["boxes"].shape[1:] == (4,) and out[0]["labels"].dtype == torch.int64


@pytest.mark.parametrize("kwargs,match", [({"num_classes": 1}, "num_classes"),
                                          ({"extra_channels": (64, 64)}, "aspect ratios"),
                                          ({"iou_thresh": 0.0}, "iou_thresh"),
                                          ({"nms_thresh": 1.5}, "nms_thresh"),
                                          ({"topk_candidates": 0}, "topk_candidates")])
def test_ssd_config_checks(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SSDConfig(**kwargs)


def test_hflip_mirrors_image_and_boxes():
    from cvlib.models.detection.batching import hflip
    image = torch.rand(3, 8, 10)
    target = {"boxes": torch.tensor([[1.0, 2, 4, 6]]), "labels": torch.tensor([1])}
    flipped, t = hflip(image, target)
    assert torch.equal(flipped, image.flip(-1)) and torch.equal(t["boxes"], torch.tensor([[6.0, 2, 9, 6]]))
    again, t2 = hflip(flipped, t)
    assert torch.equal(again, image) and torch.equal(t2["boxes"], target["boxes"])
    assert torch.equal(target["boxes"], torch.tensor([[1.0, 2, 4, 6]]))       # the input is not changed
