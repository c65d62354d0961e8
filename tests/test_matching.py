"""Matcher, BalancedSampler and match_labels against torchvision's Matcher, SSDMatcher,
BalancedPositiveNegativeSampler and the label assignment of its RoI heads and RPN."""
import pytest
import torch
from torchvision.models.detection import _utils as tv
from torchvision.models.detection.roi_heads import RoIHeads as TorchRoIHeads
from torchvision.models.detection.rpn import RegionProposalNetwork as TorchRPN
from torchvision.ops import box_iou

from cvlib.models.detection import BalancedSampler, Matcher, match_labels

THRESHOLDS = [(0.5, 0.5), (0.7, 0.3), (0.6, 0.4), (0.5, 0.0), (1.0, 0.5)]


def random_boxes(n, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * (size - 16)
    wh = torch.rand(n, 2, generator=g) * 24 + 1
    return torch.cat([xy, xy + wh], dim=1)


def iou_matrices():
    """[G, P] matrices: IoUs of random boxes, uniform noise, and coarse values full of ties (and of
    values exactly at the thresholds), including rows of zeros (objects that overlap nothing)."""
    out = []
    for seed, (g, p) in enumerate([(1, 1), (1, 30), (3, 50), (7, 200), (20, 40), (5, 3)]):
        out.append(box_iou(random_boxes(g, seed=2 * seed), random_boxes(p, seed=2 * seed + 1)))
        gen = torch.Generator().manual_seed(100 + seed)
        out.append(torch.rand(g, p, generator=gen))
        coarse = torch.randint(0, 5, (g, p), generator=gen).float() / 4     # 0, .25, .5, .75, 1: ties
        coarse[0] = 0.0 if g > 1 else coarse[0]                              # an object with no overlap
        out.append(coarse)
    out.append(torch.full((4, 10), 0.5))                                      # everything tied
    return out


MATRICES = iou_matrices()


@pytest.mark.parametrize("low_quality", [False, True])
@pytest.mark.parametrize("high,low", THRESHOLDS)
def test_matcher_equals_torchvision(high, low, low_quality):
    ours = Matcher(high, low, allow_low_quality_matches=low_quality)
    theirs = tv.Matcher(high, low, allow_low_quality_matches=low_quality)
    for i, iou in enumerate(MATRICES):
        got = ours(iou)
        assert got.dtype == torch.int64 and got.shape == (iou.shape[1],)
        assert torch.equal(got, theirs(iou.clone())), f"matrix {i}"
    assert (Matcher.BACKGROUND, Matcher.IGNORE) == (tv.Matcher.BELOW_LOW_THRESHOLD, tv.Matcher.BETWEEN_THRESHOLDS)


def test_low_quality_matches_keep_every_tie():
    iou = torch.tensor([[0.2, 0.4, 0.4, 0.1],       # object 0: best IoU 0.4, tied between boxes 1 and 2
                        [0.0, 0.1, 0.3, 0.3]])      # object 1: best 0.3 at boxes 2 and 3; box 2 prefers object 0
    assert Matcher(0.7, 0.3)(iou).tolist() == [-1, -2, -2, -2]
    assert Matcher(0.7, 0.3, allow_low_quality_matches=True)(iou).tolist() == [-1, 0, 0, 1]
    assert torch.equal(Matcher(0.7, 0.3, allow_low_quality_matches=True)(iou),
                       tv.Matcher(0.7, 0.3, allow_low_quality_matches=True)(iou))


@pytest.mark.parametrize("threshold", [0.5, 0.3, 0.9])
def test_force_match_equals_torchvision_ssd_matcher(threshold):
    ours = Matcher(threshold, threshold, force_match=True)
    theirs = tv.SSDMatcher(threshold)
    for i, iou in enumerate(MATRICES):
        assert torch.equal(ours(iou), theirs(iou.clone())), f"matrix {i}"


def test_force_match_gives_every_object_its_best_box():
    iou = torch.tensor([[0.1, 0.3, 0.2],      # object 0's best box (1) prefers object 1, and IoU < 0.5
                        [0.0, 0.4, 0.1]])
    assert Matcher(0.5, 0.5)(iou).tolist() == [-1, -1, -1]
    assert Matcher(0.5, 0.5, force_match=True)(iou).tolist() == [-1, 1, -1]      # the later object wins box 1
    assert Matcher(0.5, 0.5, force_match=True)(iou[:1]).tolist() == [-1, 0, -1]


@pytest.mark.parametrize("kwargs", [{}, {"allow_low_quality_matches": True}, {"force_match": True}])
def test_empty_ground_truth_and_empty_references(kwargs):
    """torchvision's Matcher raises on an empty matrix (its RoI heads and RPN label an image
    without objects as background before calling it); ours returns that labelling itself."""
    matcher = Matcher(0.7, 0.3, **kwargs)
    assert matcher(torch.zeros(0, 6)).tolist() == [Matcher.BACKGROUND] * 6
    empty = matcher(torch.zeros(3, 0))
    assert empty.dtype == torch.int64 and empty.shape == (0,)
    assert matcher(torch.zeros(0, 0)).shape == (0,)
    with pytest.raises(ValueError, match="No ground-truth boxes"):
        tv.Matcher(0.7, 0.3)(torch.zeros(0, 6))


def test_matcher_checks_its_arguments():
    for high, low in [(0.3, 0.5), (1.5, 0.5), (0.5, -0.1)]:
        with pytest.raises(ValueError, match="low <= high"):
            Matcher(high, low)
    with pytest.raises(ValueError, match=r"\[G, P\]"):
        Matcher()(torch.zeros(5))


# ---------------------------------------------------------------- the sampler

def label_sets():
    """Per-image labels: objects (>= 1, several classes), background (0), ignored (-1)."""
    g = torch.Generator().manual_seed(0)
    out = [torch.randint(-1, 4, (n,), generator=g) for n in (10, 100, 500, 2000)]
    out += [torch.zeros(300, dtype=torch.int64),                                   # background only
            torch.full((50,), 2), torch.full((20,), -1),                           # objects only; ignored only
            torch.cat([torch.full((3,), 1), torch.zeros(5, dtype=torch.int64)]),   # fewer than the batch
            torch.zeros(0, dtype=torch.int64)]
    return out


@pytest.mark.parametrize("batch_size,fraction", [(256, 0.5), (64, 0.25), (16, 0.75), (1, 1.0), (7, 0.3)])
def test_sampler_picks_what_torchvision_picks(batch_size, fraction):
    labels = label_sets()
    torch.manual_seed(3)
    theirs_pos, theirs_neg = tv.BalancedPositiveNegativeSampler(batch_size, fraction)(labels)   # masks per image
    torch.manual_seed(3)
    sampler = BalancedSampler(batch_size, fraction)
    ours = [sampler(lab) for lab in labels]                    # the same random stream, image by image
    for (pos, neg), t_pos, t_neg, lab in zip(ours, theirs_pos, theirs_neg, labels):
        assert set(pos.tolist()) == set(t_pos.nonzero().flatten().tolist())
        assert set(neg.tolist()) == set(t_neg.nonzero().flatten().tolist())
        assert len(set(pos.tolist())) == len(pos) and len(set(neg.tolist())) == len(neg)
        assert (lab[pos] >= 1).all() and (lab[neg] == 0).all()
        assert len(pos) <= int(batch_size * fraction) and len(pos) + len(neg) <= batch_size


def test_sampler_checks_its_arguments():
    for batch_size, fraction in [(0, 0.5), (64, 0.0), (64, 1.5)]:
        with pytest.raises(ValueError, match="BalancedSampler"):
            BalancedSampler(batch_size, fraction)


# ---------------------------------------------------------------- match_labels

def scene(seed=0, g=4, p=120):
    gt_boxes = random_boxes(g, seed=seed)
    gt_labels = torch.randint(1, 6, (g,), generator=torch.Generator().manual_seed(seed))
    boxes = torch.cat([random_boxes(p, seed=seed + 1), gt_boxes + 1.0])      # some close to the objects
    return gt_boxes, gt_labels, boxes


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_match_labels_equals_torchvision_roi_heads(seed):
    gt_boxes, gt_labels, boxes = scene(seed)
    heads = TorchRoIHeads(None, None, None, 0.5, 0.3, 64, 0.25, None, 0.05, 0.5, 100)
    (matched_idx,), (t_labels,) = heads.assign_targets_to_proposals([boxes], [gt_boxes], [gt_labels])
    labels, matched_boxes = match_labels(Matcher(0.5, 0.3), gt_boxes, gt_labels, boxes)
    assert labels.dtype == torch.int64 and torch.equal(labels, t_labels)
    assert {0, -1} <= set(labels.tolist()) and (labels > 0).any()
    fg = labels > 0
    assert torch.equal(matched_boxes[fg], gt_boxes[matched_idx[fg]])
    assert torch.equal(matched_boxes[~fg], boxes[~fg])          # unmatched: the box itself


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_match_labels_equals_torchvision_rpn(seed):
    gt_boxes, gt_labels, anchors = scene(seed, p=400)
    rpn = TorchRPN(None, None, 0.7, 0.3, 256, 0.5, dict(training=1, testing=1), dict(training=1, testing=1), 0.7)
    (t_labels,), (t_matched,) = rpn.assign_targets_to_anchors([anchors], [{"boxes": gt_boxes}])
    labels, matched_boxes = match_labels(Matcher(0.7, 0.3, allow_low_quality_matches=True), gt_boxes, gt_labels,
                                         anchors)
    objectness = torch.where(labels > 0, 1, labels).float()       # torchvision's RPN: 1 object, 0 bg, -1 ignored
    assert torch.equal(objectness, t_labels)
    assert torch.equal(matched_boxes[labels > 0], t_matched[labels > 0])


def test_match_labels_without_objects_is_background():
    boxes = random_boxes(10)
    for matcher in (Matcher(0.5, 0.3), Matcher(0.7, 0.3, allow_low_quality_matches=True)):
        labels, matched = match_labels(matcher, torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64), boxes)
        assert labels.dtype == torch.int64 and labels.tolist() == [0] * 10
        assert torch.equal(matched, boxes)
    heads = TorchRoIHeads(None, None, None, 0.5, 0.3, 64, 0.25, None, 0.05, 0.5, 100)
    _, (t_labels,) = heads.assign_targets_to_proposals([boxes], [torch.zeros(0, 4)], [torch.zeros(0).long()])
    assert torch.equal(t_labels, torch.zeros(10, dtype=torch.int64))


def test_match_labels_known_values():
    gt_boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 40.0, 40.0]])
    gt_labels = torch.tensor([4, 2])
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0],      # IoU 1 with object 0
                          [21.0, 21.0, 40.0, 40.0],    # IoU 0.9 with object 1
                          [0.0, 0.0, 10.0, 4.0],       # IoU 0.4: ignored
                          [60.0, 60.0, 70.0, 70.0]], dtype=torch.float64)   # nothing: background
    labels, matched = match_labels(Matcher(0.5, 0.3), gt_boxes, gt_labels, boxes)
    assert labels.tolist() == [4, 2, -1, 0]
    assert matched.dtype == torch.float64                           # the reference boxes' dtype
    assert matched.tolist() == [[0, 0, 10, 10], [20, 20, 40, 40], [0, 0, 10, 4], [60, 60, 70, 70]]
