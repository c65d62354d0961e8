"""YOLO v1: the S x S x (5B + C) tensor, the cell each object belongs to, the loss against a plain loop."""
import pytest
import torch

from cvlib.data import CLASSES, Scenes
from cvlib.models.detection import YOLO, YOLOConfig
from cvlib.ops import box_iou


def test_the_lectures_grid():
    model = YOLO(YOLOConfig(boxes_per_cell=2)).eval()
    out = model.predict(torch.zeros(1, 3, 112, 112))     # 112 px / 16 px per cell = the paper's 7 x 7
    assert out.shape == (1, 7, 7, 5 * 2 + len(CLASSES) - 1)
    assert model.predict(torch.zeros(2, 3, 96, 64)).shape == (2, 6, 4, 15)


def test_decode_places_boxes_in_their_cells():
    model = YOLO()
    out = torch.zeros(1, 6, 6, 15)                        # sigmoid(0) = 0.5: centred, sqrt size 0.5
    d = model.decode(out, (96, 96))
    assert d["boxes"].shape == (1, 6, 6, 2, 4) and d["class_probs"].shape == (1, 6, 6, 5)
    torch.testing.assert_close(d["boxes"][0, 2, 3, 0], torch.tensor([56 - 12, 40 - 12, 56 + 12, 40 + 12.0]))
    torch.testing.assert_close(d["class_probs"].sum(-1), torch.ones(1, 6, 6))


def test_assign_one_object_per_cell_the_largest_wins():
    model = YOLO()
    boxes = torch.tensor([[2.0, 2, 14, 14],              # centre (8, 8): cell (0, 0)
                          [0.0, 0, 30, 30],              # centre (15, 15): cell (0, 0) too, and larger
                          [60.0, 40, 90, 95]])           # centre (75, 67.5): cell (4, 4)
    owner, params = model.assign({"boxes": boxes}, (6, 6), (96, 96))
    assert owner[0, 0] == 1 and owner[4, 4] == 2 and (owner >= 0).sum() == 2
    torch.testing.assert_close(params[2], torch.tensor([75 / 16 - 4, 67.5 / 16 - 4, (30 / 96) ** 0.5, (55 / 96) ** 0.5]))


def loop_loss(model, out, targets, size):
    """The v1 loss written cell by cell and box by box (the reference)."""
    cfg, nb, (H, W) = model.cfg, model.boxes_per_cell, size
    B, S, _, _ = out.shape
    coord = obj = noobj = cls = 0.0
    for b in range(B):
        boxes, labels = targets[b]["boxes"], targets[b]["labels"]
        owner = {}
        for g in sorted(range(len(boxes)), key=lambda g: float((boxes[g, 2:] - boxes[g, :2]).prod())):
            cx, cy = float(boxes[g, 0] + boxes[g, 2]) / 2, float(boxes[g, 1] + boxes[g, 3]) / 2
            owner[(min(int(cy / (H / S)), S - 1), min(int(cx / (W / S)), S - 1))] = g
        for i in range(S):
            for j in range(S):
                cell = out[b, i, j]
                probs = cell[5 * nb:].softmax(0)
                preds = []
                for k in range(nb):
                    x, y, sw, sh, c = cell[5 * k:5 * k + 5].sigmoid()
                    cx, cy, w, h = (j + x) * W / S, (i + y) * H / S, sw ** 2 * W, sh ** 2 * H
                    preds.append((torch.stack([x, y, sw, sh]), c, torch.stack([cx - w / 2, cy - h / 2, cx + w / 2,
                                                                               cy + h / 2])))
                g = owner.get((i, j))
                best = -1
                if g is not None:
                    gt = boxes[g]
                    ious = [float(box_iou(p[2].detach()[None], gt[None])) for p in preds]
                    best = max(range(nb), key=lambda k: ious[k])
                    cx, cy = float(gt[0] + gt[2]) / 2 / (W / S), float(gt[1] + gt[3]) / 2 / (H / S)
                    target = torch.tensor([cx - j, cy - i, (float(gt[2] - gt[0]) / W) ** 0.5,
                                           (float(gt[3] - gt[1]) / H) ** 0.5])
                    coord += ((preds[best][0] - target) ** 2).sum()
                    obj += (preds[best][1] - ious[best]) ** 2
                    cls += -probs[labels[g] - 1].log()          # cross-entropy of the cell's class scores
                noobj += sum(preds[k][1] ** 2 for k in range(nb) if k != best)
    return {"loss_box_reg": cfg.lambda_coord * coord / B, "loss_objectness": obj / B,
            "loss_noobject": cfg.lambda_noobj * noobj / B, "loss_classifier": cls / B}


@pytest.mark.parametrize("seed", range(3))
def test_loss_equals_the_loop(seed):
    items = [Scenes(3, seed=seed, n_objects=(2, 4), size=96)[i] for i in range(3)]
    targets = [{"boxes": t["boxes"], "labels": t["labels"]} for _, t in items]
    targets[2] = {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)}   # no objects
    model = YOLO(YOLOConfig(boxes_per_cell=1 + seed))
    torch.manual_seed(seed)
    out = torch.randn(3, 6, 6, 5 * model.boxes_per_cell + 5)
    ours, reference = model.loss(out, targets, (96, 96)), loop_loss(model, out, targets, (96, 96))
    assert ours.keys() == reference.keys()
    for k in ours:
        torch.testing.assert_close(ours[k], torch.as_tensor(reference[k], dtype=torch.float32), msg=k)


def test_yolo_contract_and_bad_input():
    items = [Scenes(2, seed=1, size=96)[i] for i in range(2)]
    images, targets = [im for im, _ in items], [{"boxes": t["boxes"], "labels": t["labels"]} for _, t in items]
    model = YOLO()
    losses = model.train()(images, targets)
    assert set(losses) == {"loss_box_reg", "loss_objectness", "loss_noobject", "loss_classifier"}
    sum(losses.values()).backward()
    with pytest.raises(ValueError, match="targets"):
        model(images)
    with pytest.raises(ValueError, match=r"targets\[1\]"):
        model(images, [targets[0], {"boxes": targets[1]["boxes"], "labels": targets[1]["labels"] + 10}])
    out = model.eval()(images)
    assert [set(d) for d in out] == [{"boxes", "labels", "scores"}] * 2
    d = out[0]
    assert len(d["boxes"]) <= model.cfg.detections_per_img and (d["scores"] > model.cfg.score_thresh).all()
    assert ((d["labels"] >= 1) & (d["labels"] < len(CLASSES))).all()
    assert (d["boxes"] >= 0).all() and (d["boxes"] <= 96).all()


@pytest.mark.parametrize("kwargs,match", [({"num_classes": 1}, "num_classes"), ({"boxes_per_cell": 0}, "boxes_per_cell"),
                                          ({"lambda_coord": -1.0}, "loss weights"),
                                          ({"score_thresh": 1.0}, "score_thresh")])
def test_yolo_config_checks(kwargs, match):
    with pytest.raises(ValueError, match=match):
        YOLOConfig(**kwargs)
