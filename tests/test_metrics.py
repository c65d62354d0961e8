import pytest
import torch
from torchmetrics.classification import MulticlassJaccardIndex

from cvlib.metrics import detection_map, miou, pck


def test_miou_equals_torchmetrics():
    g = torch.Generator().manual_seed(0)
    target = torch.randint(0, 4, (3, 16, 16), generator=g)
    pred = torch.where(torch.rand(3, 16, 16, generator=g) < 0.7, target, torch.randint(0, 4, (3, 16, 16), generator=g))
    mean, per_class = miou(pred, target, 4)
    reference = MulticlassJaccardIndex(num_classes=4, average="none")(pred, target)
    assert torch.allclose(per_class, reference, atol=1e-6)
    assert mean == pytest.approx(float(reference.mean()), abs=1e-6)
    assert miou(target, target, 4)[0] == 1.0


def test_miou_ignores_absent_classes():
    target = torch.zeros(4, 4, dtype=torch.long)
    mean, per_class = miou(target, target, 3)
    assert mean == 1.0 and torch.isnan(per_class[1:]).all()


def test_detection_map_perfect_and_wrong():
    boxes = torch.tensor([[10.0, 10, 40, 40], [50, 50, 90, 80]])
    target = [{"boxes": boxes, "labels": torch.tensor([1, 2])}]
    perfect = [{"boxes": boxes, "labels": torch.tensor([1, 2]), "scores": torch.tensor([0.9, 0.8])}]
    assert detection_map(perfect, target)["map_50"] == pytest.approx(1.0)
    wrong = [{"boxes": boxes + 100, "labels": torch.tensor([1, 2]), "scores": torch.tensor([0.9, 0.8])}]
    assert detection_map(wrong, target)["map_50"] == pytest.approx(0.0)


def test_mask_map():
    masks = torch.zeros(1, 32, 32, dtype=torch.uint8)
    masks[0, 4:20, 4:20] = 1
    target = [{"masks": masks, "labels": torch.tensor([1])}]
    pred = [{"masks": masks.float(), "labels": torch.tensor([1]), "scores": torch.tensor([0.9])}]
    assert detection_map(pred, target, iou_type="segm")["map"] == pytest.approx(1.0)


def test_pck_counts_labelled_joints_within_alpha_torso():
    target = torch.zeros(1, 14, 3)
    target[0, :, 0] = torch.arange(14.0) * 10
    target[0, :, 2] = 2
    target[0, 5, :2] = torch.tensor([0.0, 0.0])   # left shoulder
    target[0, 8, :2] = torch.tensor([0.0, 50.0])  # right hip: torso 50 px, threshold 10 px at alpha 0.2
    pred = target[..., :2].clone()
    pred[0, 0, 0] += 9    # inside
    pred[0, 1, 0] += 11   # outside
    target[0, 2, 2] = 0   # unlabelled: not counted
    pred[0, 2, 0] += 100
    mean, per_joint = pck(pred, target)
    assert per_joint[0] == 1 and per_joint[1] == 0 and torch.isnan(per_joint[2])   # joint 2: never labelled
    assert mean == pytest.approx(12 / 13)                                            # over the 13 labelled joints
    with pytest.raises(ValueError, match="must be"):
        pck(pred[..., :1], target)


# ---------------------------------------------------------------- honest metrics (issue 15)

def random_detections(n_images=12, seed=0):
    """Noisy detections of random objects (3 classes) on 100 x 100 images: some hits, some misses."""
    g = torch.Generator().manual_seed(seed)
    preds, targets = [], []
    for _ in range(n_images):
        m = int(torch.randint(1, 5, (1,), generator=g))
        xy = torch.rand(m, 2, generator=g) * 60
        boxes = torch.cat([xy, xy + 10 + torch.rand(m, 2, generator=g) * 30], 1)
        labels = torch.randint(1, 4, (m,), generator=g)
        k = m + int(torch.randint(0, 3, (1,), generator=g))
        pick = torch.randint(0, m, (k,), generator=g)
        noisy = (boxes[pick] + torch.randn(k, 4, generator=g) * 4).clamp(0, 100)
        noisy[:, 2:] = torch.maximum(noisy[:, 2:], noisy[:, :2] + 1)
        wrong = torch.rand(k, generator=g) < 0.2
        plabels = torch.where(wrong, torch.randint(1, 4, (k,), generator=g), labels[pick])
        preds.append({"boxes": noisy, "scores": torch.rand(k, generator=g), "labels": plabels})
        targets.append({"boxes": boxes, "labels": labels})
    return preds, targets


def pycocotools_map(preds, targets):
    """COCOeval's stats[0], stats[1] (mAP, mAP@0.5), straight from pycocotools."""
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    def xywh(b):
        return [b[0], b[1], b[2] - b[0], b[3] - b[1]]

    images = [{"id": i} for i in range(len(targets))]
    gts = [{"id": len(images) * 100 + k * 10 + j, "image_id": k, "category_id": int(l), "bbox": xywh(b.tolist()),
            "area": float((b[2] - b[0]) * (b[3] - b[1])), "iscrowd": 0}
           for k, t in enumerate(targets) for j, (b, l) in enumerate(zip(t["boxes"], t["labels"]))]
    dts = [{"image_id": k, "category_id": int(l), "bbox": xywh(b.tolist()), "score": float(s)}
           for k, p in enumerate(preds) for b, l, s in zip(p["boxes"], p["labels"], p["scores"])]
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = {"images": images, "annotations": gts, "categories": [{"id": c} for c in (1, 2, 3)]}
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(dts), "bbox")
        ev.evaluate(), ev.accumulate(), ev.summarize()
    return ev.stats[0], ev.stats[1]


@pytest.mark.parametrize("seed", [0, 1, 4])   # sets where torchmetrics' float32 thresholds move mAP by 2e-4 .. 5e-4
def test_detection_map_equals_plain_pycocotools(seed):
    preds, targets = random_detections(n_images=20, seed=seed)
    ours = detection_map(preds, targets)
    expected_map, expected_50 = pycocotools_map(preds, targets)
    # float32 rounding of the result only (torchmetrics' own float32 thresholds were off by up to 3e-3)
    assert ours["map"] == pytest.approx(expected_map, abs=1e-7) and ours["map_50"] == pytest.approx(expected_50, abs=1e-7)


NAN = float("nan")
GT = [{"boxes": torch.tensor([[10.0, 10, 50, 50]]), "labels": torch.tensor([1])}]
PRED = [{"boxes": torch.tensor([[10.0, 10, 50, 50]]), "scores": torch.tensor([0.9]), "labels": torch.tensor([1])}]


def change(items, **values):
    return [{**items[0], **values}]


@pytest.mark.parametrize("preds,targets,error,match", [
    (change(PRED, boxes=torch.full((1, 4), NAN)), GT, ValueError, r"preds\[0\]\['boxes'\]\[0\] = \[nan, nan, nan, nan\] is not finite"),
    (PRED, change(GT, boxes=torch.full((1, 4), NAN)), ValueError, r"targets\[0\]\['boxes'\]\[0\] = \[nan.* is not finite"),
    (change(PRED, scores=torch.tensor([NAN])), GT, ValueError, r"preds\[0\]\['scores'\] holds NaN"),
    (PRED, change(GT, boxes=torch.tensor([[10, 10, 50, 50]])), TypeError, r"targets\[0\]\['boxes'\] has dtype torch\.int64"),
    (PRED, change(GT, boxes=torch.tensor([[30.0, 10, 20, 40]])), ValueError, r"x1 < x2 and y1 < y2 \(xywh boxes"),
    (change(PRED, labels=torch.tensor([1.0])), GT, TypeError, r"preds\[0\]\['labels'\] has dtype torch\.float32"),
    (PRED, change(GT, labels=torch.tensor([0])), ValueError, r"targets\[0\]\['labels'\]\[0\] = 0.*background"),
    (change(PRED, scores=torch.tensor([0.9, 0.8])), GT, ValueError, r"scores'\] must be a floating Tensor\[N\] with N = 1"),
    ([], [], ValueError, r"empty: mAP needs at least one image"),
    (PRED, GT + GT, ValueError, r"1 predictions for 2 targets"),
    (PRED, change(GT, boxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.int64)), ValueError,
     r"hold no object, so mAP is undefined"),
    (PRED[0], GT, TypeError, r"preds must be a list"),
], ids=["nan_pred_boxes", "nan_target_boxes", "nan_scores", "int_target_boxes", "target_xywh",
        "float_labels", "background_target", "scores_count", "no_images", "count_differs", "no_objects", "dict_not_list"])
def test_detection_map_refuses_input_it_would_score_wrongly(preds, targets, error, match):
    with pytest.raises(error, match=match):
        detection_map(preds, targets)


def test_detection_map_scores_a_flipped_prediction_as_a_miss():
    flipped = change(PRED, boxes=torch.tensor([[50.0, 50, 10, 10]]))
    assert detection_map(flipped, GT)["map"] == 0.0


@pytest.mark.parametrize("entry", ["miou", "confusion_matrix"])
@pytest.mark.parametrize("pred,target,error,match", [
    (torch.tensor([3, 1]), torch.tensor([1, 1]), ValueError, r"pred\[0\] = 3 is not a class index: classes are 0\.\.2"),
    (torch.tensor([1.7, 1.0]), torch.tensor([1, 1]), TypeError, r"pred has dtype torch\.float32.*argmax\(1\)"),
    (torch.tensor([1, 1]), torch.tensor([255, 1]), ValueError, r"target\[0\] = 255 is not a class index.*ignore_index"),
    (torch.tensor([1, -1]), torch.tensor([1, 1]), ValueError, r"pred\[1\] = -1"),
    (torch.zeros(2, 4, 4, dtype=torch.long), torch.full((2, 4, 4), 7), ValueError, r"target\[0, 0, 0\] = 7 \(image 0\)"),
    (torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long), ValueError, r"empty"),
    (torch.zeros(2, 3, dtype=torch.long), torch.zeros(3, 2, dtype=torch.long), ValueError, r"differ in shape"),
], ids=["pred_equals_num_classes", "float_pred", "ignore_label_255", "negative", "image_named", "empty", "shapes"])
def test_class_maps_must_hold_class_indices(entry, pred, target, error, match):
    from cvlib.metrics import confusion_matrix
    fn = {"miou": miou, "confusion_matrix": confusion_matrix}[entry]
    with pytest.raises(error, match=match):
        fn(pred, target, 3)


def test_miou_leaves_ignored_pixels_out():
    target = torch.tensor([[1, 1, 255, 2]])
    pred = torch.tensor([[1, 1, 2, 2]])
    mean, per_class = miou(pred, target, 3, ignore_index=255)
    assert mean == 1.0 and per_class[1] == 1 and per_class[2] == 1
    with pytest.raises(ValueError, match="every target pixel equals ignore_index"):
        miou(pred, torch.full_like(target, 255), 3, ignore_index=255)


def person_target(n=2):
    target = torch.zeros(n, 14, 3)
    target[..., 0] = torch.arange(14.0) * 5
    target[..., 2] = 2
    target[:, 8, 1] = 50.0                          # right hip 50 px below the left shoulder at (25, 0)
    target[:, 5, :2] = torch.tensor([40.0, 0.0])
    return target


@pytest.mark.parametrize("pred,target,kwargs,error,match", [
    (torch.zeros(0, 14, 2), torch.zeros(0, 14, 3), {}, ValueError, r"no people \(N = 0\)"),
    (None, "no_labels", {}, ValueError, r"no joint of target is labelled"),
    ("nan_pred", None, {}, ValueError, r"pred\[1\] holds NaN or infinite coordinates"),
    (None, "nan_joint", {}, ValueError, r"target\[0\] has a labelled joint that is not finite"),
    (None, "zero_torso", {}, ValueError, r"reference\[0\] is not a positive length"),
    (None, None, dict(alpha=0), ValueError, r"alpha must be a number with 0 < alpha"),
    (None, None, dict(reference=torch.ones(3)), ValueError, r"reference must be a Tensor\[N\] with N = 2"),
    ("int_pred", None, {}, TypeError, r"pred must be a floating Tensor"),
], ids=["empty", "no_labelled_joint", "nan_prediction", "nan_target", "zero_torso", "alpha_0", "reference_shape",
        "int_pred"])
def test_pck_refuses_input_it_would_score_wrongly(pred, target, kwargs, error, match):
    good = person_target()
    t = good.clone() if target is None or isinstance(target, str) else target
    if target == "no_labels":
        t[..., 2] = 0
    if target == "nan_joint":
        t[0, 3, 0] = NAN
    if target == "zero_torso":
        t[0, 8, :2] = t[0, 5, :2]
    p = good[..., :2].clone() if pred is None or isinstance(pred, str) else pred
    if pred == "nan_pred":
        p[1, 4, 1] = NAN
    if pred == "int_pred":
        p = p.long()
    with pytest.raises(error, match=match):
        pck(p, t, **kwargs)


def test_pck_averages_labelled_joints_only():
    target = person_target(3)
    target[:, 0, 2] = 0                             # the head is labelled in no image
    target[0, 1, 2] = 0                             # the neck only in images 1 and 2
    pred = target[..., :2].clone()
    pred[:, 0] += 1000                              # wrong where nobody labelled: must not count
    pred[1, 1] += 1000                              # one of the two labelled necks wrong
    mean, per_joint = pck(pred, target)
    assert torch.isnan(per_joint[0]) and per_joint[1] == 0.5 and (per_joint[2:] == 1).all()
    assert mean == pytest.approx((0.5 + 12) / 13)


def test_localization_metrics_bad_input():
    from cvlib.metrics import localization_metrics
    box, label = torch.tensor([[5.0, 5, 20, 20]]), torch.tensor([1])
    with pytest.raises(ValueError, match=r"pred_boxes\[0\] = \[nan, .* is not finite"):
        localization_metrics(torch.tensor([[NAN, 5, 20, 20]]), label, box, label)
    with pytest.raises(ValueError, match=r"true_boxes\[0\] .* x1 < x2"):
        localization_metrics(box, label, torch.tensor([[5.0, 5, 3, 20]]), label)
    with pytest.raises(ValueError, match=r"N >= 1"):
        localization_metrics(torch.zeros(0, 4), label[:0], torch.zeros(0, 4), label[:0])
    flipped = localization_metrics(torch.tensor([[20.0, 20, 5, 5]]), label, box, label)
    assert flipped["mean_iou"] == 0.0 and flipped["accuracy"] == 1.0 and flipped["correct"] == 0.0
