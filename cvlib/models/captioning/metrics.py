"""How good dense captions are: the DenseCap paper's mAP, exact match, per-attribute accuracy.

    dense_captioning_map(preds, targets)      # {"map", "ap": {(iou, sim): AP}, "box_ap": {iou: AP}}
    caption_accuracy(preds, targets)          # exact match and per-attribute accuracy at IoU 0.5

preds: one dict per image with boxes [N, 4] (xyxy pixels), scores [N] and captions (N str);
targets: one dict per image with boxes [G, 4] and captions (G str).

Dense-captioning AP (Johnson et al., 2016): the predictions of all images in order of score; each
takes the ground-truth box of highest IoU; if that IoU is at least t_iou and the box is not yet
taken, it is taken (a match), and the prediction is a true positive when, moreover, its caption's
similarity with that box's caption is at least t_sim. AP is the area under the precision-recall
curve (every recall step, precision made monotone, as VOC / COCO do), the recall counting all
ground-truth boxes. mAP averages AP over every pair of IOU_THRESHOLDS x SIM_THRESHOLDS.

The paper's similarity is METEOR, which runs in Java (pycocoevalcap's METEOR 1.5 jar); this
machine has no Java runtime and the book installs none, so the similarity here is BLEU-4 of the
two sentences (torchmetrics' `bleu_score`, smoothed so that a caption without a shared 4-gram
scores above 0), in 0..1 like METEOR: 1 for the same caption, about 0.6 for one wrong word in
seven. Its thresholds are therefore higher than the paper's METEOR ones (0 .. 0.25).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor
from torchvision.ops import box_iou

from ...checks import check_targets

IOU_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
SIM_THRESHOLDS = (0.0, 0.25, 0.5, 0.75, 1.0)


def caption_similarity(pred: str, truth: str) -> float:
    """BLEU-4 (smoothed, torchmetrics) of a predicted caption against the true one, in 0..1;
    exactly 1.0 for the same words, 0.0 for an empty prediction."""
    from torchmetrics.functional.text import bleu_score

    if pred.split() == truth.split():
        return 1.0
    if not pred.split():
        return 0.0
    return float(bleu_score([pred], [[truth]], n_gram=4, smooth=True))


def _check(preds, targets) -> None:
    if not isinstance(preds, (list, tuple)) or not all(isinstance(p, dict) for p in preds):
        raise TypeError(f"preds must be a list of dicts (boxes, scores, captions), got {type(preds).__name__}")
    for i, p in enumerate(preds):
        missing = [k for k in ("boxes", "scores", "captions") if k not in p]
        if missing:
            raise ValueError(f"preds[{i}] has no {missing}; a prediction has boxes, scores and captions")
        boxes, scores = p["boxes"], p["scores"]
        if not (torch.is_tensor(boxes) and boxes.is_floating_point() and boxes.ndim == 2 and boxes.shape[1] == 4):
            raise ValueError(f"preds[{i}]['boxes'] must be a floating Tensor[N, 4] (xyxy pixels)")
        if not (torch.is_tensor(scores) and scores.is_floating_point() and scores.shape == (len(boxes),)):
            raise ValueError(f"preds[{i}]['scores'] must be a floating Tensor[N] with N = {len(boxes)}")
        if not (torch.isfinite(boxes).all() and torch.isfinite(scores).all()):
            raise ValueError(f"preds[{i}] holds NaN or infinite boxes or scores (a diverged model?)")
    check_targets(targets, None, num_classes=None, keys=("boxes", "captions"))
    for name, items in (("preds", preds), ("targets", targets)):
        for i, d in enumerate(items):
            caps = d.get("captions")
            if not isinstance(caps, (list, tuple)) or len(caps) != len(d["boxes"]) or \
                    not all(isinstance(c, str) for c in caps):
                raise ValueError(f"{name}[{i}]['captions'] must be a list of {len(d['boxes'])} str, one per box")
            if name == "targets" and any(not c.split() for c in caps):
                raise ValueError(f"{name}[{i}]['captions'] holds an empty caption; every true box needs words")
    if len(preds) != len(targets):
        raise ValueError(f"{len(preds)} predictions for {len(targets)} targets; pass one dict per image to each")
    if sum(len(t["boxes"]) for t in targets) == 0:
        raise ValueError("the targets hold no box, so AP is undefined; evaluate on images with objects")


def _matches(preds: list[dict], targets: list[dict], iou_threshold: float):
    """The greedy matching of the module docstring at one IoU threshold: a list over all predictions in
    order of score of (image, prediction index, matched true index or -1)."""
    order = sorted(((float(s), i, j) for i, p in enumerate(preds) for j, s in enumerate(p["scores"])),
                   key=lambda x: -x[0])
    ious = [box_iou(p["boxes"].float(), t["boxes"].float()) if len(t["boxes"]) and len(p["boxes"]) else None
            for p, t in zip(preds, targets)]
    taken = [torch.zeros(len(t["boxes"]), dtype=torch.bool) for t in targets]
    out = []
    for _, i, j in order:
        g = -1
        if ious[i] is not None:
            best = int(ious[i][j].argmax())
            if float(ious[i][j, best]) >= iou_threshold and not taken[i][best]:
                taken[i][best], g = True, best
        out.append((i, j, g))
    return out


def average_precision(hits: list[bool], n_true: int) -> float:
    """Area under the precision-recall curve of predictions in order of score (hits: true positive
    or not), recall over n_true ground-truth objects; precision made monotone (VOC, all points)."""
    if n_true <= 0:
        raise ValueError(f"n_true must be >= 1, got {n_true}")
    tp = torch.tensor(hits, dtype=torch.float64).cumsum(0)
    precision = tp / torch.arange(1, len(hits) + 1, dtype=torch.float64)
    recall = tp / n_true
    ap, prev = 0.0, 0.0
    for k in range(len(hits)):
        if hits[k]:
            ap += (float(recall[k]) - prev) * float(precision[k:].max())
            prev = float(recall[k])
    return ap


def dense_captioning_map(preds: list[dict], targets: list[dict], iou_thresholds=IOU_THRESHOLDS,
                         sim_thresholds=SIM_THRESHOLDS) -> dict:
    """The dense-captioning mAP of the module docstring. Returns {"map": the mean of "ap",
    "ap": {(t_iou, t_sim): AP}, "box_ap": {t_iou: AP of the boxes alone (captions ignored)}}."""
    _check(preds, targets)
    n_true = sum(len(t["boxes"]) for t in targets)
    ap, box_ap = {}, {}
    for t_iou in iou_thresholds:
        matched = _matches(preds, targets, t_iou)
        sims = [caption_similarity(preds[i]["captions"][j], targets[i]["captions"][g]) if g >= 0 else -math.inf
                for i, j, g in matched]
        box_ap[t_iou] = average_precision([g >= 0 for _, _, g in matched], n_true)
        for t_sim in sim_thresholds:
            ap[(t_iou, t_sim)] = average_precision([s >= t_sim for s in sims], n_true)
    return {"map": sum(ap.values()) / len(ap), "ap": ap, "box_ap": box_ap}


def matched_captions(preds: list[dict], targets: list[dict], iou_threshold: float = 0.5) -> list[tuple[str, str]]:
    """(predicted, true) caption of every true box matched at iou_threshold (the matching of the
    module docstring: each box taken by the best-scored prediction that overlaps it most)."""
    _check(preds, targets)
    return [(preds[i]["captions"][j], targets[i]["captions"][g]) for i, j, g in
            _matches(preds, targets, iou_threshold) if g >= 0]


def caption_accuracy(preds: list[dict], targets: list[dict], iou_threshold: float = 0.5, parse=None) -> dict:
    """Exact match and per-attribute accuracy of the captions of true boxes matched at iou_threshold.

    parse: caption -> {attribute: value or None} (default: the Scenes grammar's `captions.parse`,
    lenient on predictions); an attribute is scored on the pairs whose true caption has it.
    Returns {"matched": pairs, "boxes": true boxes, "exact_match": fraction of pairs with the same
    words, "attributes": {attribute: accuracy}, "counts": {attribute: pairs scored}}."""
    if parse is None:
        from ...data.captions import parse as scenes_parse
        parse = scenes_parse
    pairs = matched_captions(preds, targets, iou_threshold)
    if not pairs:
        raise ValueError(f"no true box is matched at IoU {iou_threshold}: caption accuracy is undefined")
    right, counts = {}, {}
    for pred, truth in pairs:
        p, t = parse(pred, strict=False), parse(truth)
        for key, value in t.items():
            if value is None:
                continue
            counts[key] = counts.get(key, 0) + 1
            right[key] = right.get(key, 0) + (p.get(key) == value)
    exact = sum(p.split() == t.split() for p, t in pairs) / len(pairs)
    return {"matched": len(pairs), "boxes": sum(len(t["boxes"]) for t in targets), "exact_match": exact,
            "attributes": {k: right[k] / counts[k] for k in counts}, "counts": counts}
