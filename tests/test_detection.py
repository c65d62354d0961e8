"""Shared detection pieces: box coder, matcher, sampler, heads, loss, postprocess, RoI heads, proposals."""
import math

import pytest
import torch
from torchvision.ops import box_iou

from cvlib.models.detection import (BalancedSampler, BoxCoder, BoxHead, GivenProposals, Matcher, Predictor,
                                    RoIHeads, RoIHeadsConfig, SelectiveSearchProposals, detection_loss,
                                    postprocess)
from cvlib.nn import Backbone
from cvlib.ops import BoxCoder as OpsBoxCoder


def random_boxes(n, size=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * (size - 20)
    wh = torch.rand(n, 2, generator=g) * 30 + 2
    return torch.cat([xy, xy + wh], dim=1)


def test_the_one_box_coder():
    assert BoxCoder is OpsBoxCoder


def test_box_coder_round_trip():
    coder = BoxCoder()
    boxes, proposals = random_boxes(50, seed=1), random_boxes(50, seed=2)
    offsets = coder.encode(boxes, proposals)
    assert offsets.shape == (50, 4)
    torch.testing.assert_close(coder.decode(offsets, proposals), boxes, atol=1e-4, rtol=1e-5)


def test_box_coder_values_and_per_class_decode():
    coder = BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
    proposal = torch.tensor([[10.0, 10.0, 30.0, 20.0]])       # centre (20, 15), 20 x 10
    box = torch.tensor([[12.0, 10.0, 52.0, 30.0]])            # centre (32, 20), 40 x 20
    offsets = coder.encode(box, proposal)
    torch.testing.assert_close(offsets, torch.tensor([[12 / 20, 5 / 10, math.log(2), math.log(2)]]))
    assert torch.equal(coder.encode(proposal, proposal), torch.zeros(1, 4))
    per_class = torch.stack([torch.zeros(1, 4), offsets], dim=1)   # [1, K=2, 4]
    decoded = coder.decode(per_class, proposal)
    assert decoded.shape == (1, 2, 4)
    torch.testing.assert_close(decoded[:, 0], proposal)
    torch.testing.assert_close(decoded[:, 1], box)


def test_box_coder_clamps_huge_sizes():
    boxes = BoxCoder().decode(torch.tensor([[0.0, 0.0, 1e4, 1e4]]), torch.tensor([[0.0, 0.0, 10.0, 10.0]]))
    assert torch.isfinite(boxes).all()


def test_matcher_thresholds():
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 40.0, 40.0]])
    proposals = torch.tensor([[0.0, 0.0, 10.0, 10.0],    # IoU 1 with box 0
                              [21.0, 21.0, 40.0, 40.0],  # IoU 0.9 with box 1
                              [0.0, 0.0, 10.0, 5.0],     # IoU 0.5 with box 0
                              [0.0, 0.0, 10.0, 3.0],     # IoU 0.3 with box 0
                              [60.0, 60.0, 70.0, 70.0]])  # nothing
    iou = box_iou(gt, proposals)
    assert Matcher(0.5, 0.5)(iou).tolist() == [0, 1, 0, -1, -1]
    assert Matcher(0.6, 0.2)(iou).tolist() == [0, 1, Matcher.IGNORE, Matcher.IGNORE, Matcher.BACKGROUND]
    assert Matcher()(torch.zeros(0, 5)).tolist() == [-1] * 5
    with pytest.raises(ValueError, match="low"):
        Matcher(high=0.3, low=0.5)


def test_sampler_balances_positives_and_negatives():
    torch.manual_seed(0)
    labels = torch.cat([torch.full((30,), 2), torch.zeros(200, dtype=torch.int64), torch.full((10,), -1)])
    pos, neg = BalancedSampler(batch_size=64, positive_fraction=0.25)(labels)
    assert len(pos) == 16 and len(neg) == 48
    assert (labels[pos] > 0).all() and (labels[neg] == 0).all()
    assert len(set(pos.tolist())) == 16 and len(set(neg.tolist())) == 48
    pos, neg = BalancedSampler(batch_size=64, positive_fraction=0.25)(labels[25:])   # only 5 positives left
    assert len(pos) == 5 and len(neg) == 59                                  # negatives fill the batch
    pos, neg = BalancedSampler(batch_size=64)(torch.full((10,), -1))
    assert len(pos) == 0 and len(neg) == 0


def test_heads_shapes():
    backbone = Backbone((8, 16, 8))
    features = backbone(torch.rand(2, 3, 96, 64))
    assert features.shape == (2, 8, 24, 16)
    head = BoxHead(8 * 7 * 7, hidden=32)
    logits, offsets = Predictor(32, num_classes=6)(head(torch.rand(5, 8, 7, 7)))
    assert logits.shape == (5, 6) and offsets.shape == (5, 6, 4)


def test_loss_counts_boxes_of_objects_only():
    logits = torch.zeros(3, 3)
    offsets = torch.zeros(3, 3, 4)
    labels = torch.tensor([0, 2, 0])
    targets = torch.tensor([[5.0, 5.0, 5.0, 5.0], [1.0, 0.0, 0.0, 0.0], [9.0, 9.0, 9.0, 9.0]])
    losses = detection_loss(logits, offsets, labels, targets)
    torch.testing.assert_close(losses["loss_classifier"], torch.tensor(math.log(3)))
    torch.testing.assert_close(losses["loss_box_reg"], torch.tensor((1 - 0.5 / 9) / 3))


def test_postprocess_applies_offsets_and_suppresses_duplicates():
    coder = BoxCoder()
    proposals = [torch.tensor([[10.0, 10.0, 30.0, 30.0], [11.0, 10.0, 31.0, 30.0], [50.0, 50.0, 60.0, 90.0]])]
    logits = torch.tensor([[0.0, 5.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 5.0]])
    offsets = torch.zeros(3, 3, 4)
    offsets[2, 2] = coder.encode(torch.tensor([[50.0, 50.0, 70.0, 70.0]]), proposals[0][2:])[0]
    out = postprocess(logits, offsets, proposals, [(64, 64)], coder, RoIHeadsConfig(score_thresh=0.5))
    assert len(out) == 1
    assert out[0]["labels"].tolist() == [1, 2]                            # the duplicate is gone
    torch.testing.assert_close(out[0]["boxes"], torch.tensor([[10.0, 10.0, 30.0, 30.0], [50.0, 50.0, 64.0, 64.0]]))
    assert (out[0]["scores"] > 0.5).all()


def test_roi_heads_training_samples_include_ground_truth():
    torch.manual_seed(0)
    cfg = RoIHeadsConfig(rois_per_image=16, positive_fraction=0.5)
    heads = RoIHeads(torch.nn.Identity(), BoxHead(4, 8), Predictor(8, 6), cfg)
    target = {"boxes": torch.tensor([[10.0, 10.0, 30.0, 30.0]]), "labels": torch.tensor([3])}
    far = torch.tensor([[60.0, 60.0, 90.0, 90.0]]).repeat(40, 1)
    props, labels, offsets, objects = heads.select_training_samples([far], [target])
    assert len(props[0]) == 16 and labels.tolist().count(3) == 1        # the added ground truth box
    assert offsets[labels == 3].abs().max() < 1e-6
    assert objects[0][labels == 3].tolist() == [0] and (objects[0][labels == 0] < 0).all()


def test_given_proposals_checks_and_drops_empty_boxes():
    images = [torch.rand(3, 32, 32)]
    given = GivenProposals()
    props, losses = given(images, None, [(32, 32)], None,
                          [torch.tensor([[0.0, 0.0, 5.0, 5.0], [3.0, 3.0, 3.0, 9.0]])])
    assert props[0].tolist() == [[0.0, 0.0, 5.0, 5.0]] and losses == {}
    with pytest.raises(ValueError, match="1 images but 0 proposals"):
        given(images, None, [(32, 32)], None, [])
    with pytest.raises(ValueError, match=r"Tensor\[R, 4\] xyxy in pixels"):
        given(images, None, [(32, 32)], None, [torch.zeros(3, 5)])
    with pytest.raises(ValueError, match="NaN"):
        given(images, None, [(32, 32)], None, [torch.tensor([[0.0, 0.0, float("nan"), 5.0]])])
    with pytest.raises(ValueError, match="needs proposals"):
        given(images, None, [(32, 32)], None, None)


def test_selective_search_proposals_call_the_function_unless_given():
    images = [torch.rand(3, 32, 32)]
    generator = SelectiveSearchProposals(lambda image: torch.tensor([[1.0, 1.0, 9.0, 9.0]]))
    called, losses = generator(images, None, [(32, 32)])
    assert called[0].shape == (1, 4) and losses == {}
    given, _ = generator(images, None, [(32, 32)], None, [torch.tensor([[2.0, 2.0, 5.0, 5.0]])])
    assert given[0].tolist() == [[2.0, 2.0, 5.0, 5.0]]
    with pytest.raises(ValueError, match=r"Tensor\[R, 4\] xyxy in pixels"):   # the function's output is checked too
        SelectiveSearchProposals(lambda image: torch.zeros(4))(images, None, [(32, 32)])
