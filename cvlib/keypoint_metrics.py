"""Keypoint AP by OKS (COCO's definition) and the matching of detected people to true ones.

    sims = oks(pred_keypoints, true_keypoints, areas)             # [D, G] object keypoint similarity
    ap = keypoint_ap(preds, targets)                              # {"map", "map_50", "map_75"}
    pred, true, found = matched_people(preds, targets)            # for PCK on the detected people
    misses = misses_at_others(pred, true, found, targets)         # {"joints", "missed", "at_other_person"}

OKS is to keypoints what IoU is to boxes: for a detection d and a true person g,

    OKS = mean over g's labelled joints i (v > 0) of exp(-d_i^2 / (2 s^2 k_i^2)),  k_i = 2 sigma_i,

with d_i the distance of joint i in pixels and s^2 the person's area (pycocotools' `computeOks`).
A joint a distance s k_i away scores exp(-1/2) = 0.61. sigma_i is how precisely joint i can be
placed, as a fraction of the person's scale s: COCO measured it from its annotators. The stick
figure's 14 joints get `SIGMAS` (see its comment), and its area is the box area (w h), not the
mask's: the drawing is a few thin lines, whose pixel count says little about the person's size.

Keypoint AP then is COCO's AP with OKS in place of IoU, exactly as pycocotools' COCOeval in
keypoint mode computes it: the best `max_dets` (20) detections of an image by score, each matched
greedily (best score first) to the unmatched true person of highest OKS >= the threshold,
precision made monotone and read at 101 recall points, averaged over the thresholds
0.5, 0.55, ..., 0.95. A true person without a labelled joint is ignored, as COCO does (a detection
matched to it counts neither way; `oks` says how it matches). Tested equal to COCOeval(iouType="keypoints").
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torchvision.ops import box_iou

from .data.person import JOINTS
from .data.scenes import CLASSES
from .metrics import IOU_THRESHOLDS, REC_THRESHOLDS, torso_lengths

# COCO's sigmas for the 12 joints COCO also has (shoulders 0.079, elbows 0.072, wrists 0.062,
# knees 0.087, ankles 0.089). The stick figure's hips are the corners of a drawn torso, as sharp as
# its shoulders, not hidden under clothes as COCO's (0.107): the shoulders' 0.079. The neck, at the
# top of the torso between the shoulders (COCO has none): 0.079. The head is the centre of a disc,
# less sharp than COCO's face points (0.025 to 0.035): the largest of them, the ears' 0.035.
SIGMAS = {"head": 0.035, "neck": 0.079, "shoulder": 0.079, "elbow": 0.072, "wrist": 0.062,
          "hip": 0.079, "knee": 0.087, "ankle": 0.089}
PERSON_SIGMAS = torch.tensor([SIGMAS[name.split("_")[-1]] for name in JOINTS], dtype=torch.float64)
PERSON = CLASSES.index("person")


def box_areas(boxes: Tensor) -> Tensor:
    """[N, 4] xyxy pixels -> [N] areas w h (the object area of OKS for the stick figure)."""
    return (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)


def oks(pred: Tensor, target: Tensor, areas: Tensor, sigmas: Tensor = PERSON_SIGMAS,
        boxes: Tensor | None = None) -> Tensor:
    """Object keypoint similarity of every detection with every true person.

    pred [D, K, 2 or more] (x, y in pixels), target [G, K, 3] (x, y, v; joints with v = 0 are not
    labelled and not counted), areas [G] > 0 (pixels^2), sigmas [K]. Returns float64 [D, G] in 0..1.
    A true person with no labelled joint scores, as in pycocotools, by each joint's distance outside
    its box [G, 4] (xyxy) grown by its width and height on every side (0 without `boxes`).
    Raises ValueError on shapes that do not match.
    """
    if pred.ndim != 3 or pred.shape[-1] < 2 or target.ndim != 3 or target.shape[-1] != 3 \
            or pred.shape[1] != target.shape[1] or areas.shape != (len(target),) or sigmas.shape != (target.shape[1],):
        raise ValueError(f"oks needs pred [D, K, 2], target [G, K, 3], areas [G] and sigmas [K], got "
                         f"{tuple(pred.shape)}, {tuple(target.shape)}, {tuple(areas.shape)}, {tuple(sigmas.shape)}")
    if len(target) and not (areas > 0).all():
        raise ValueError(f"areas must be > 0 (an empty box has no scale), got {areas.tolist()}")
    pred, target = pred.double(), target.double()
    k2 = (2 * sigmas.double().to(pred.device)) ** 2                      # [K]
    d2 = ((pred[:, None, :, :2] - target[None, :, :, :2]) ** 2).sum(-1)  # [D, G, K]
    e = d2 / k2 / (areas.double()[None, :, None] + np.spacing(1)) / 2
    labelled = (target[..., 2] > 0).double()[None]                       # [1, G, K]
    sims = (torch.exp(-e) * labelled).sum(-1) / labelled.sum(-1).clamp(min=1)
    none = labelled[0].sum(-1) == 0                                      # [G]: no labelled joint
    if none.any() and boxes is not None:
        b = boxes.double().to(pred.device)
        w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
        lo = torch.stack([b[:, 0] - w, b[:, 1] - h], -1)[None, :, None]   # [1, G, 1, 2]
        hi = torch.stack([b[:, 2] + w, b[:, 3] + h], -1)[None, :, None]
        xy = pred[:, None, :, :2]                                        # [D, 1, K, 2]
        out = (lo - xy).clamp(min=0) + (xy - hi).clamp(min=0)            # outside the grown box
        e = (out ** 2).sum(-1) / k2 / (areas.double()[None, :, None] + np.spacing(1)) / 2
        sims[:, none] = torch.exp(-e).mean(-1)[:, none]
    else:
        sims[:, none] = 0
    return sims


def _people(d: dict, label: int | None) -> dict:
    keep = slice(None) if label is None else d["labels"] == label
    return {k: d[k][keep] for k in ("boxes", "keypoints", "scores") if k in d}


def keypoint_ap(preds: list[dict], targets: list[dict], sigmas: Tensor = PERSON_SIGMAS,
                label: int | None = PERSON, max_dets: int = 20,
                thresholds: list[float] = IOU_THRESHOLDS) -> dict:
    """COCO keypoint AP (module docstring) of the detections of class `label` (None: all).

    preds: one dict per image with keypoints [D, K, 2 or 3] (pixels), scores [D], labels [D];
    targets: one dict per image with boxes [G, 4] (xyxy pixels; w h is the area), keypoints
    [G, K, 3] and labels [G]. Returns floats map (OKS 0.5:0.95), map_50, map_75 (NaN for a
    threshold not in `thresholds`), and people (the true people counted).
    """
    if len(preds) != len(targets) or not targets:
        raise ValueError(f"keypoint_ap needs one prediction dict per target dict, got {len(preds)} and "
                         f"{len(targets)}")
    thresholds = np.asarray(thresholds, dtype=np.float64)
    scores, matched, n_people = [], [], 0                  # per kept detection: score, [T] match flags
    for p, t in zip(preds, targets):
        p, t = _people(p, label), _people(t, label)
        ignored = (t["keypoints"][..., 2] > 0).sum(1) == 0                     # [G]
        n_people += int((~ignored).sum())
        order = torch.from_numpy(np.argsort(-p["scores"].detach().cpu().numpy(), kind="mergesort"))[:max_dets]
        gt_order = torch.from_numpy(np.argsort(ignored.numpy(), kind="mergesort"))   # real people first
        ignored = ignored[gt_order]
        true_boxes = t["boxes"][gt_order].cpu()
        sims = oks(p["keypoints"][order].detach().cpu(), t["keypoints"][gt_order].cpu(),
                   box_areas(true_boxes), sigmas, true_boxes)                          # [D, G]
        flags = np.zeros((len(order), len(thresholds)), dtype=np.int8)          # 1 tp, 0 fp, -1 ignored
        for ti, thr in enumerate(thresholds):
            taken = np.zeros(len(gt_order), dtype=bool)
            for d in range(len(order)):
                best, m = min(thr, 1 - 1e-10), -1
                for g in range(len(gt_order)):
                    if taken[g]:
                        continue
                    if m > -1 and not ignored[m] and ignored[g]:
                        break                                  # real people matched first
                    if sims[d, g] < best:
                        continue
                    best, m = float(sims[d, g]), g
                if m > -1:
                    taken[m] = True
                    flags[d, ti] = -1 if ignored[m] else 1
        scores.append(p["scores"].detach().cpu().double()[order])
        matched.append(flags)
    if n_people == 0:
        raise ValueError("the targets hold no person with a labelled joint: keypoint AP is undefined")
    scores = torch.cat(scores).numpy()
    flags = np.concatenate(matched) if matched else np.zeros((0, len(thresholds)), np.int8)
    order = np.argsort(-scores, kind="mergesort")
    ap = [_average_precision(flags[order, ti], n_people) for ti in range(len(thresholds))]
    at = {round(float(v), 2): a for v, a in zip(thresholds, ap)}
    return {"map": float(np.mean(ap)), "map_50": at.get(0.5, float("nan")), "map_75": at.get(0.75, float("nan")),
            "people": n_people}


def _average_precision(flags: np.ndarray, n_people: int) -> float:
    """COCOeval's accumulate for one threshold: flags [D] (1 tp, 0 fp, -1 ignored) in score order."""
    flags = flags[flags >= 0]
    tp = np.cumsum(flags == 1, dtype=np.float64)
    fp = np.cumsum(flags == 0, dtype=np.float64)
    recall = tp / n_people
    precision = (tp / (fp + tp + np.spacing(1))).tolist()
    for i in range(len(precision) - 1, 0, -1):               # monotone: the best precision to the right
        precision[i - 1] = max(precision[i - 1], precision[i])
    inds = np.searchsorted(recall, REC_THRESHOLDS, side="left")
    q = [precision[i] if i < len(precision) else 0.0 for i in inds]
    return float(np.mean(q))


def matched_people(preds: list[dict], targets: list[dict], label: int = PERSON,
                   iou_threshold: float = 0.5) -> tuple[Tensor, Tensor, list[tuple[int, int, int]]]:
    """The detected people: each true person of class `label` with the best-scoring detection of
    that class whose box overlaps it at IoU >= iou_threshold and that no earlier person took
    (people in order of their best IoU). Returns (pred keypoints [M, K, 3], true keypoints
    [M, K, 3], [(image, true index, detection index)] of the M matches).
    """
    pred_kp, true_kp, found = [], [], []
    for i, (p, t) in enumerate(zip(preds, targets)):
        dets = torch.nonzero(p["labels"] == label).flatten()
        dets = dets[p["scores"][dets].argsort(descending=True, stable=True)]
        people = torch.nonzero(t["labels"] == label).flatten()
        if not len(dets) or not len(people):
            continue
        ious = box_iou(t["boxes"][people].float(), p["boxes"][dets].float())     # [G, D]
        taken = set()
        for g in ious.max(1).values.argsort(descending=True, stable=True).tolist():
            ok = [d for d in range(len(dets)) if ious[g, d] >= iou_threshold and d not in taken]
            if ok:
                taken.add(ok[0])                                  # dets are best score first
                found.append((i, int(people[g]), int(dets[ok[0]])))
                pred_kp.append(p["keypoints"][dets[ok[0]]])
                true_kp.append(t["keypoints"][people[g]])
    if not found:
        raise ValueError("no true person is detected (no detection of its class at the IoU threshold)")
    return torch.stack(pred_kp), torch.stack(true_kp), found


def misses_at_others(pred: Tensor, true: Tensor, found: list[tuple[int, int, int]], targets: list[dict],
                     alpha: float = 0.2, label: int = PERSON) -> dict:
    """Where the misses of PCK@alpha went: pred [M, K, 2 or 3] and true [M, K, 3] keypoints of the
    matched people, found their (image, true index, detection index) (`matched_people`), targets one
    dict per image (labels, keypoints). A miss is a labelled joint farther than alpha torso lengths
    (`metrics.pck`'s reference) from its truth; it is "at another person" when it lies that close to a
    labelled joint of another true person of class `label` in the same image. Returns ints
    {"joints": the labelled joints, "missed", "at_other_person"}; ValueError on shapes that do not
    match."""
    if pred.ndim != 3 or true.ndim != 3 or pred.shape[:2] != true.shape[:2] or len(found) != len(true):
        raise ValueError(f"misses_at_others needs pred [M, K, 2], true [M, K, 3] and M matches, got "
                         f"{tuple(pred.shape)}, {tuple(true.shape)} and {len(found)}")
    reference = alpha * torso_lengths(true)                                                    # [M]
    labelled = true[..., 2] > 0
    missed = labelled & ((pred[..., :2] - true[..., :2]).norm(dim=-1) > reference[:, None])      # [M, K]
    at_other = 0
    for m, (i, g, _) in enumerate(found):
        t = targets[i]
        others = [o for o in torch.nonzero(t["labels"] == label).flatten().tolist() if o != g]
        if not others or not missed[m].any():
            continue
        joints = t["keypoints"][others].reshape(-1, 3)
        joints = joints[joints[:, 2] > 0, :2]                                                    # [N, 2]
        near = torch.cdist(pred[m, missed[m], :2].float(), joints.float()) <= reference[m]       # [misses, N]
        at_other += int(near.any(dim=1).sum())
    return {"joints": int(labelled.sum()), "missed": int(missed.sum()), "at_other_person": at_other}
