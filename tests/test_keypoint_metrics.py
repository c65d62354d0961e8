"""cvlib.keypoint_metrics: OKS and keypoint AP on hand-made cases, equal to pycocotools' COCOeval in
keypoint mode; the matching of detected people."""
import contextlib
import io
import math

import numpy as np
import pytest
import torch

from cvlib.keypoint_metrics import (PERSON, PERSON_SIGMAS, box_areas, keypoint_ap, matched_people,
                                    misses_at_others, oks)

K = 14


def person(x, y, w=20.0, h=50.0, gen=None):
    """A true person: box [4] at (x, y) of w x h, 14 joints inside it, all visible."""
    gen = gen or torch.Generator().manual_seed(0)
    xy = torch.rand(K, 2, generator=gen) * torch.tensor([w, h]) + torch.tensor([x, y])
    return torch.tensor([x, y, x + w, y + h]), torch.cat([xy, torch.full((K, 1), 2.0)], 1)


def scene(people):
    boxes, kps = zip(*people)
    return {"boxes": torch.stack(boxes), "keypoints": torch.stack(kps),
            "labels": torch.full((len(people),), PERSON)}


def as_detections(target, scores, shift=0.0):
    kp = target["keypoints"].clone()
    kp[..., :2] += shift
    kp[..., 2] = 1
    return {"boxes": target["boxes"].clone(), "keypoints": kp, "scores": torch.tensor(scores),
            "labels": target["labels"].clone()}


def test_perfect_prediction_gives_ap_one():
    targets = [scene([person(5, 5), person(50, 20, gen=torch.Generator().manual_seed(1))]), scene([person(10, 30)])]
    preds = [as_detections(t, [0.9] * len(t["boxes"])) for t in targets]
    result = keypoint_ap(preds, targets)
    assert result["map"] == pytest.approx(1.0) and result["map_50"] == pytest.approx(1.0)
    assert result["people"] == 3


def test_oks_of_displaced_joints_is_the_formula():
    box, kp = person(0, 0)
    area = box_areas(box[None])                                   # 20 x 50 = 1000
    assert area.item() == 1000
    shifts = [0.0, 1.0, 2.0, 4.0, 8.0]
    sims = [float(oks((kp[:, :2] + torch.tensor([d, 0.0]))[None], kp[None], area)) for d in shifts]
    for d, s in zip(shifts, sims):
        expected = float(torch.exp(-d ** 2 / (2 * 1000 * (2 * PERSON_SIGMAS) ** 2)).mean())
        assert s == pytest.approx(expected)
    assert sims[0] == 1.0 and all(a > b for a, b in zip(sims, sims[1:]))   # further off, lower
    hidden = kp.clone()
    hidden[3:, 2] = 0                                             # only 3 joints labelled
    moved = kp[:, :2].clone()
    moved[3:] += 30                                               # the unlabelled ones far off: not counted
    assert float(oks(moved[None], hidden[None], area)) == pytest.approx(1.0)


def test_displaced_joints_lower_ap_as_they_should():
    targets = [scene([person(5, 5, gen=torch.Generator().manual_seed(i))]) for i in range(4)]
    shifts = [0.0, 2.0, 4.0, 8.0, 16.0]
    aps = [keypoint_ap([as_detections(t, [0.9], d) for t in targets], targets) for d in shifts]
    assert all(a["map"] >= b["map"] for a, b in zip(aps, aps[1:])) and aps[-1]["map"] < aps[1]["map"]
    # one OKS value for every person: AP is 1 at the thresholds below it, 0 above it
    first = targets[0]
    sim = float(oks(first["keypoints"][..., :2] + 4.0, first["keypoints"], box_areas(first["boxes"])))
    thresholds = np.linspace(0.5, 0.95, 10)
    assert aps[2]["map"] == pytest.approx(float((thresholds <= sim).mean()))
    assert aps[2]["map_50"] == (1.0 if sim >= 0.5 else 0.0)


def test_a_false_positive_above_the_true_one_lowers_ap():
    t = scene([person(5, 5)])
    good = as_detections(t, [0.5])
    bad = as_detections(t, [0.9], shift=25.0)
    both = {k: torch.cat([bad[k], good[k]]) for k in good}
    assert keypoint_ap([both], [t])["map_50"] == pytest.approx(0.5, abs=0.01)   # recall 1 at precision 1/2
    worse_first = {k: torch.cat([good[k], bad[k]]) for k in good}
    worse_first["scores"] = torch.tensor([0.9, 0.5])
    assert keypoint_ap([worse_first], [t])["map_50"] == pytest.approx(1.0)


def coco_keypoint_ap(preds, targets):
    """pycocotools' COCOeval(iouType="keypoints") on the same people; area = box area."""
    coco_mod = pytest.importorskip("pycocotools.coco")
    from pycocotools.cocoeval import COCOeval
    images, anns, dets = [], [], []
    for i, (p, t) in enumerate(zip(preds, targets)):
        images.append({"id": i, "width": 200, "height": 200})
        for g in range(len(t["boxes"])):
            x1, y1, x2, y2 = t["boxes"][g].tolist()
            kp = t["keypoints"][g]
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": 1, "iscrowd": 0,
                         "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1),
                         "keypoints": kp.flatten().tolist(), "num_keypoints": int((kp[:, 2] > 0).sum())})
        for d in range(len(p["scores"])):
            dets.append({"image_id": i, "category_id": 1, "score": float(p["scores"][d]),
                         "keypoints": p["keypoints"][d].flatten().tolist()})
    gt = coco_mod.COCO()
    gt.dataset = {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "person"}]}
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        dt = gt.loadRes(dets)
        ev = COCOeval(gt, dt, iouType="keypoints")
        ev.params.kpt_oks_sigmas = PERSON_SIGMAS.numpy()
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats[0], ev.stats[1], ev.stats[2]


@pytest.mark.parametrize("seed", range(6))
def test_keypoint_ap_equals_cocoeval(seed):
    gen = torch.Generator().manual_seed(seed)
    targets, preds = [], []
    for i in range(5):
        n = int(torch.randint(1, 4, (1,), generator=gen))
        t = scene([person(float(torch.rand(1, generator=gen)) * 100, float(torch.rand(1, generator=gen)) * 100,
                          20 + 30 * float(torch.rand(1, generator=gen)), 40 + 40 * float(torch.rand(1, generator=gen)),
                          gen) for _ in range(n)])
        t["keypoints"][..., 2] = torch.randint(0, 3, (n, K), generator=gen).float()   # some joints unlabelled
        if i == 2:
            t["keypoints"][0, :, 2] = 0                        # a person without a labelled joint: ignored
        targets.append(t)
        m = int(torch.randint(0, 6, (1,), generator=gen))      # up to 5 detections, around the people
        src = t["keypoints"][torch.randint(0, n, (m,), generator=gen)]
        kp = src.clone()
        kp[..., :2] += torch.randn(m, K, 2, generator=gen) * (1 + 4 * torch.rand(m, 1, 1, generator=gen))
        kp[..., 2] = 1
        preds.append({"keypoints": kp, "scores": torch.rand(m, generator=gen).round(decimals=1),   # ties too
                      "labels": torch.full((m,), PERSON), "boxes": torch.zeros(m, 4)})
    ours = keypoint_ap(preds, targets)
    theirs = coco_keypoint_ap(preds, targets)
    assert ours["map"] == pytest.approx(theirs[0], abs=1e-9)
    assert ours["map_50"] == pytest.approx(theirs[1], abs=1e-9)
    assert ours["map_75"] == pytest.approx(theirs[2], abs=1e-9)


def test_more_than_twenty_detections_keep_the_best_twenty():
    t = scene([person(5, 5)])
    bad = as_detections(t, [0.9], shift=40.0)
    many = {k: torch.cat([bad[k]] * 20 + [as_detections(t, [0.1])[k]]) for k in bad}
    assert keypoint_ap([many], [t])["map"] == 0.0                      # the 21st, the right one, is cut
    assert keypoint_ap([many], [t])["map"] == pytest.approx(coco_keypoint_ap([many], [t])[0])


def test_bad_inputs_raise():
    t = scene([person(5, 5)])
    with pytest.raises(ValueError, match="oks needs pred"):
        oks(torch.zeros(1, 13, 2), t["keypoints"], box_areas(t["boxes"]))
    with pytest.raises(ValueError, match="areas must be > 0"):
        oks(torch.zeros(1, K, 2), t["keypoints"], torch.zeros(1))
    with pytest.raises(ValueError, match="one prediction dict per target"):
        keypoint_ap([], [t])
    none = scene([person(5, 5)])
    none["keypoints"][..., 2] = 0
    with pytest.raises(ValueError, match="no person with a labelled joint"):
        keypoint_ap([as_detections(none, [0.5])], [none])


def test_matched_people_takes_the_best_scoring_overlapping_detection():
    t = scene([person(5, 5), person(60, 10, gen=torch.Generator().manual_seed(3))])
    det = as_detections(t, [0.6, 0.8])
    far = {"boxes": torch.tensor([[150.0, 150.0, 170.0, 190.0]]), "keypoints": torch.zeros(1, K, 3),
           "scores": torch.tensor([0.99]), "labels": torch.tensor([PERSON])}
    other = {"boxes": t["boxes"][:1], "keypoints": torch.zeros(1, K, 3), "scores": torch.tensor([0.95]),
             "labels": torch.tensor([1])}                        # another class on person 0: not a person
    pred = {k: torch.cat([det[k], far[k], other[k]]) for k in det}
    pk, tk, found = matched_people([pred], [t])
    assert sorted(found) == [(0, 0, 0), (0, 1, 1)]
    for (i, g, d), p_, t_ in zip(found, pk, tk):
        assert torch.equal(t_, t["keypoints"][g]) and torch.equal(p_, pred["keypoints"][d])
    assert math.isclose(float(oks(pk[:, :, :2], tk, box_areas(t["boxes"])).diagonal().min()), 1.0)
    with pytest.raises(ValueError, match="no true person is detected"):
        matched_people([far], [t])


def test_misses_at_others_counts_the_misses_on_another_persons_joints():
    from cvlib.data.person import J
    t = scene([person(5, 5), person(40, 5, gen=torch.Generator().manual_seed(3))])
    det = as_detections(t, [0.9, 0.8])
    pk, tk, found = matched_people([det], [t])
    assert misses_at_others(pk, tk, found, [t]) == {"joints": 2 * K, "missed": 0, "at_other_person": 0}
    m = next(m for m, (_, g, _) in enumerate(found) if g == 0)
    other = t["keypoints"][1]
    pk[m, J["left_wrist"], :2] = other[J["right_wrist"], :2]          # on the other person's joint
    pk[m, J["head"], :2] = torch.tensor([500.0, 500.0])                # far from everyone
    tk[m, J["neck"], 2] = 0                                           # not labelled: not counted
    pk[m, J["neck"], :2] = torch.tensor([500.0, 500.0])
    out = misses_at_others(pk, tk, found, [t])
    assert out == {"joints": 2 * K - 1, "missed": 2, "at_other_person": 1}
    with pytest.raises(ValueError, match="misses_at_others needs"):
        misses_at_others(pk[:1], tk, found, [t])
