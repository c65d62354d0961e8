"""Probe cvlib's public entry points with bad or unusual inputs (issue 15); classify each outcome.

expect "raise": a mistake; outcome "clear" if a ValueError/TypeError/... raised from cvlib code names it,
"deep" if it fails inside torch/numpy, "silent" if it returns.
expect "ok": legitimate odd input; outcome "works" if it returns, else "deep"/"clear" (refused).
"""
import math, os, sys, tempfile, traceback, collections, warnings
from dataclasses import dataclass
warnings.filterwarnings("ignore")
import numpy as np
import torch
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torchvision

from cvlib import metrics, train, ops, viz, widgets, checks
from cvlib.ops import boxes as B
from cvlib.ops.nms import batched_nms
from cvlib.data import Scenes, ScenesConfig, photos, faces, to_coco
from cvlib.proposals import selective_search, group, Strategy, sliding_windows, window_shapes, all_windows, proposal_recall
from cvlib.models.detection import (RCNN, RCNNConfig, FastRCNN, FastRCNNConfig, RoIHeadsConfig, SlidingWindowDetector,
                                    SlidingWindowConfig, detect)
from cvlib.models.localization.localizer import Localizer, LocalizerConfig
from cvlib.models.localization.pose import PoseRegressor, PoseConfig
from cvlib.models.segmentation.fcn import DownUpFCN, FullResFCN, FCNConfig
from cvlib.models.segmentation.patch_classifier import PatchClassifier, PatchConfig, sliding_window
from cvlib.models.segmentation.semantic import predict

NAN, INF = float("nan"), float("inf")
results = []


import signal


class Hang(Exception):
    pass


def _alarm(*_):
    raise Hang("no answer within 20 s")


signal.signal(signal.SIGALRM, _alarm)


def case(kind, name, expect, fn):
    signal.alarm(20)
    try:
        fn()
        outcome = "works" if expect == "ok" else "silent"
        msg = ""
    except Hang as e:
        outcome, msg = "hang", str(e)
        results.append((kind, name, expect, outcome, msg))
        return
    except Exception as e:
        tb = traceback.extract_tb(e.__traceback__)
        origin = tb[-1].filename
        ours = "/cvlib/" in origin
        named = isinstance(e, (ValueError, TypeError, IndexError, KeyError, FileNotFoundError, IsADirectoryError,
                               FloatingPointError))
        outcome = "clear" if ours and named else "deep"
        msg = f"{type(e).__name__}: {e}"[:150]
    finally:
        signal.alarm(0)
    results.append((kind, name, expect, outcome, msg))


im = torch.rand(3, 32, 32)
im8 = (im * 255).to(torch.uint8)
box = torch.tensor([[2.0, 3.0, 20.0, 25.0]])
gt = [{"boxes": box, "labels": torch.tensor([1])}]
pr = [{"boxes": box, "scores": torch.tensor([0.9]), "labels": torch.tensor([1])}]

# ---- 1 metrics
K = "1 metrics"
case(K, "map NaN pred box", "raise", lambda: metrics.detection_map([{**pr[0], "boxes": torch.full((1, 4), NAN)}], gt))
case(K, "map NaN target box", "raise", lambda: metrics.detection_map(pr, [{**gt[0], "boxes": torch.full((1, 4), NAN)}]))
case(K, "map inf pred box", "raise", lambda: metrics.detection_map([{**pr[0], "boxes": torch.tensor([[0, 0, INF, 5.]])}], gt))
case(K, "map NaN score", "raise", lambda: metrics.detection_map([{**pr[0], "scores": torch.tensor([NAN])}], gt))
case(K, "map xywh target", "raise", lambda: metrics.detection_map(pr, [{**gt[0], "boxes": torch.tensor([[20., 3, 5, 8]])}]))
case(K, "map int boxes", "raise", lambda: metrics.detection_map(pr, [{**gt[0], "boxes": box.long()}]))
case(K, "map float labels", "raise", lambda: metrics.detection_map([{**pr[0], "labels": torch.tensor([1.])}], gt))
case(K, "map background gt", "raise", lambda: metrics.detection_map(pr, [{**gt[0], "labels": torch.tensor([0])}]))
case(K, "map scores count", "raise", lambda: metrics.detection_map([{**pr[0], "scores": torch.tensor([.9, .8])}], gt))
case(K, "map labels count", "raise", lambda: metrics.detection_map(pr, [{**gt[0], "labels": torch.tensor([1, 2])}]))
case(K, "map empty lists", "raise", lambda: metrics.detection_map([], []))
case(K, "map no objects", "raise", lambda: metrics.detection_map(pr, [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}]))
case(K, "map count differs", "raise", lambda: metrics.detection_map(pr, gt + gt))
case(K, "map dict not list", "raise", lambda: metrics.detection_map(pr[0], gt))
case(K, "map missing scores", "raise", lambda: metrics.detection_map([{"boxes": box, "labels": torch.tensor([1])}], gt))
case(K, "map iou_type", "raise", lambda: metrics.detection_map(pr, gt, iou_type="mask"))
case(K, "map no predictions", "ok", lambda: metrics.detection_map([{"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "labels": torch.zeros(0, dtype=torch.long)}], gt))
case(K, "map flipped pred", "ok", lambda: metrics.detection_map([{**pr[0], "boxes": torch.tensor([[20., 25, 2, 3]])}], gt))
case(K, "segm mask size", "raise", lambda: metrics.detection_map([{"masks": torch.ones(2, 8, 8), "scores": torch.tensor([.9]), "labels": torch.tensor([1])}], [{"masks": torch.ones(1, 8, 8), "labels": torch.tensor([1])}], iou_type="segm"))
case(K, "miou pred == C", "raise", lambda: metrics.miou(torch.tensor([3, 1]), torch.tensor([1, 1]), 3))
case(K, "miou float pred", "raise", lambda: metrics.miou(torch.tensor([1.7, 1.]), torch.tensor([1, 1]), 3))
case(K, "miou 255 target", "raise", lambda: metrics.miou(torch.tensor([1, 1]), torch.tensor([255, 1]), 3))
case(K, "miou ignore_index", "ok", lambda: metrics.miou(torch.tensor([1, 1]), torch.tensor([255, 1]), 3, ignore_index=255))
case(K, "miou negative", "raise", lambda: metrics.miou(torch.tensor([-1, 1]), torch.tensor([1, 1]), 3))
case(K, "miou empty", "raise", lambda: metrics.miou(torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long), 3))
case(K, "miou shapes", "raise", lambda: metrics.miou(torch.zeros(2, 3, dtype=torch.long), torch.zeros(3, 2, dtype=torch.long), 3))
case(K, "miou scores not argmax", "raise", lambda: metrics.miou(torch.rand(2, 3, 4, 4), torch.zeros(2, 4, 4, dtype=torch.long), 3))
case(K, "miou num_classes 0", "raise", lambda: metrics.miou(torch.zeros(2, dtype=torch.long), torch.zeros(2, dtype=torch.long), 0))
case(K, "miou numpy", "raise", lambda: metrics.miou(np.zeros(4, int), torch.zeros(4, dtype=torch.long), 3))
tp = torch.zeros(2, 14, 3); tp[..., 0] = torch.arange(14.) * 3; tp[..., 2] = 2; tp[:, 8, 1] = 30
case(K, "pck empty", "raise", lambda: metrics.pck(torch.zeros(0, 14, 2), torch.zeros(0, 14, 3)))
case(K, "pck NaN pred", "raise", lambda: metrics.pck(torch.full((2, 14, 2), NAN), tp))
case(K, "pck no labels", "raise", lambda: metrics.pck(tp[..., :2], tp * torch.tensor([1., 1, 0])))
case(K, "pck zero torso", "raise", lambda: metrics.pck(tp[..., :2], tp.clone().index_fill_(1, torch.tensor([8]), 0) * 0 + tp * torch.tensor([0., 0, 1])))
case(K, "pck alpha 0", "raise", lambda: metrics.pck(tp[..., :2], tp, alpha=0))
case(K, "pck alpha negative", "raise", lambda: metrics.pck(tp[..., :2], tp, alpha=-0.2))
case(K, "pck unlabelled joint", "ok", lambda: metrics.pck(tp[..., :2], tp.clone().index_fill_(1, torch.tensor([3]), 0) + tp * torch.tensor([1., 1, 0]) * 0))
case(K, "pck shapes", "raise", lambda: metrics.pck(tp[..., :1], tp))
case(K, "pck int", "raise", lambda: metrics.pck(tp[..., :2].long(), tp))
case(K, "pck reference shape", "raise", lambda: metrics.pck(tp[..., :2], tp, reference=torch.ones(5)))
case(K, "locmetrics NaN pred", "raise", lambda: metrics.localization_metrics(torch.full((1, 4), NAN), torch.tensor([1]), box, torch.tensor([1])))
case(K, "locmetrics flipped truth", "raise", lambda: metrics.localization_metrics(box, torch.tensor([1]), torch.tensor([[20., 3, 2, 25]]), torch.tensor([1])))
case(K, "locmetrics empty", "raise", lambda: metrics.localization_metrics(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, 4), torch.zeros(0)))
case(K, "locmetrics iou 50", "raise", lambda: metrics.localization_metrics(box, torch.tensor([1]), box, torch.tensor([1]), iou_threshold=50))
case(K, "locmetrics flipped pred", "ok", lambda: metrics.localization_metrics(torch.tensor([[20., 25, 2, 3]]), torch.tensor([1]), box, torch.tensor([1])))

# ---- 2 checkpoints and fit
K = "2 checkpoints, fit"
d = tempfile.mkdtemp()
m = torch.nn.Linear(2, 2)
p = os.path.join(d, "k.pt")
train.save(m, p)
case(K, "save lambda meta", "raise", lambda: train.save(m, p, f=lambda x: x))
case(K, "load after failed save", "ok", lambda: train.load(m, p))
case(K, "save numpy array meta", "raise", lambda: train.save(m, p, a=np.zeros(3)))
case(K, "save numpy scalar meta", "ok", lambda: train.save(m, p, a=np.float64(0.5)))
case(K, "save Path meta", "raise", lambda: train.save(m, p, a=__import__("pathlib").Path("x")))
case(K, "save set meta", "raise", lambda: train.save(m, p, a={1, 2}))
case(K, "save dataclass config", "ok", lambda: train.save(m, p, config=LocalizerConfig()))
case(K, "load dataclass config", "ok", lambda: train.load(m, p)["config"].num_classes)
case(K, "save to a directory", "raise", lambda: train.save(m, d))
case(K, "save a dict", "raise", lambda: train.save({"w": torch.zeros(1)}, p))
case(K, "save twice", "ok", lambda: (train.save(m, p), train.save(m, p)))
case(K, "load missing", "raise", lambda: train.load(m, os.path.join(d, "none.pt")))
case(K, "load wrong model", "raise", lambda: train.load(torch.nn.Linear(3, 2), p))
case(K, "load other class", "raise", lambda: train.load(torch.nn.Conv2d(2, 2, 1), p))
open(os.path.join(d, "junk.pt"), "wb").write(b"junk")
case(K, "load junk", "raise", lambda: train.load(m, os.path.join(d, "junk.pt")))
data = [(torch.randn(4, 2), torch.randn(4, 2))]
step = lambda model, b, dev: torch.nn.functional.mse_loss(model(b[0]), b[1])
case(K, "fit seconds -3", "raise", lambda: train.fit(m, data, seconds=-3, step_fn=step, progress=False))
case(K, "fit seconds nan", "raise", lambda: train.fit(m, data, seconds=NAN, step_fn=step, progress=False))
case(K, "fit steps 0", "raise", lambda: train.fit(m, data, steps=0, step_fn=step, progress=False))
case(K, "fit steps 2.5", "raise", lambda: train.fit(m, data, steps=2.5, step_fn=step, progress=False))
case(K, "fit steps True", "raise", lambda: train.fit(m, data, steps=True, step_fn=step, progress=False))
case(K, "fit no budget", "raise", lambda: train.fit(m, data, step_fn=step, progress=False))
case(K, "fit lr 0", "raise", lambda: train.fit(m, data, steps=2, lr=0, step_fn=step, progress=False))
case(K, "fit lr nan", "raise", lambda: train.fit(m, data, steps=2, lr=NAN, step_fn=step, progress=False))
case(K, "fit clip 0", "raise", lambda: train.fit(m, data, steps=2, clip=0, step_fn=step, progress=False))
case(K, "fit weight_decay -1", "raise", lambda: train.fit(m, data, steps=2, weight_decay=-1, step_fn=step, progress=False))
case(K, "fit schedule", "raise", lambda: train.fit(m, data, steps=2, schedule="linear", step_fn=step, progress=False))
case(K, "fit empty data", "raise", lambda: train.fit(m, [], steps=2, step_fn=step, progress=False))
case(K, "fit used-up generator", "raise", lambda: train.fit(m, (b for b in data), steps=3, step_fn=step, progress=False))
case(K, "fit step returns list", "raise", lambda: train.fit(m, data, steps=2, step_fn=lambda *a: [1], progress=False))
case(K, "fit per-sample loss", "raise", lambda: train.fit(m, data, steps=2, step_fn=lambda mm, b, dv: (mm(b[0]) - b[1]) ** 2, progress=False))
case(K, "fit no_grad loss", "raise", lambda: train.fit(m, data, steps=2, step_fn=lambda mm, b, dv: step(mm, b, dv).detach(), progress=False))
case(K, "fit NaN loss", "raise", lambda: train.fit(m, data, steps=2, step_fn=lambda mm, b, dv: step(mm, b, dv) * NAN, progress=False))
case(K, "fit no parameters", "raise", lambda: train.fit(torch.nn.ReLU(), data, steps=2, step_fn=step, progress=False))
case(K, "shuffled_batches 0", "raise", lambda: next(train.shuffled_batches(torch.zeros(4), batch_size=0)))
case(K, "shuffled_batches too big", "raise", lambda: next(train.shuffled_batches(torch.zeros(4), batch_size=5)))
case(K, "History.last empty", "raise", lambda: train.History().last())
case(K, "History.last n=0", "raise", lambda: train.History(losses={"total": [1.0]}).last(n=0))

# ---- 3 targets (one validator) and 4 train mode
K = "3 targets, 4 train mode"
HEADS = RoIHeadsConfig(hidden=8, rois_per_image=8)
det_models = {
    "rcnn": RCNN(RCNNConfig(channels=(4, 8, 4), roi_heads=HEADS)).train(),
    "fast_rcnn": FastRCNN(FastRCNNConfig(channels=(4, 8, 4), roi_heads=HEADS)).train(),
    "sliding_window": SlidingWindowDetector(SlidingWindowConfig(width=4, samples_per_image=8)).train(),
}
props = [torch.tensor([[0., 0, 20, 20], [5, 5, 30, 30]])]
bad_targets = {
    "xywh": {"boxes": torch.tensor([[20., 3, 5, 8]]), "labels": torch.tensor([1])},
    "x2<x1": {"boxes": torch.tensor([[20., 3, 10, 25]]), "labels": torch.tensor([1])},
    "NaN box": {"boxes": torch.tensor([[NAN, 3, 10, 25]]), "labels": torch.tensor([1])},
    "outside": {"boxes": torch.tensor([[2., 3, 90, 25]]), "labels": torch.tensor([1])},
    "len differs": {"boxes": box, "labels": torch.tensor([1, 2])},
    "label 6": {"boxes": box, "labels": torch.tensor([6])},
    "label 0": {"boxes": box, "labels": torch.tensor([0])},
    "float labels": {"boxes": box, "labels": torch.tensor([1.])},
    "int boxes": {"boxes": box.long(), "labels": torch.tensor([1])},
}
for mname, model in det_models.items():
    kw = {} if mname == "sliding_window" else {"proposals": props}
    for tname, t in bad_targets.items():
        case(K, f"{mname} {tname}", "raise", lambda model=model, t=t, kw=kw: model([im], [t], **kw))
    case(K, f"{mname} train mode, no targets", "raise", lambda model=model, kw=kw: model([im], **kw))
loc, pose = Localizer(LocalizerConfig(widths=(4, 8))).train(), PoseRegressor(PoseConfig(widths=(4, 8))).train()
for tname, t in bad_targets.items():
    case(K, f"localizer {tname}", "raise", lambda t=t: loc([im], [t]))
case(K, "localizer two objects", "raise", lambda: loc([im], [{"boxes": torch.cat([box, box]), "labels": torch.tensor([1, 1])}]))
case(K, "localizer train mode, no targets", "raise", lambda: loc([im]))
kp = torch.rand(1, 14, 3) * 20; kp[..., 2] = 2
case(K, "pose NaN keypoints", "raise", lambda: pose([im], [{"keypoints": kp * NAN}]))
case(K, "pose int keypoints", "raise", lambda: pose([im], [{"keypoints": kp.long()}]))
case(K, "pose [1, 14, 2]", "raise", lambda: pose([im], [{"keypoints": kp[..., :2]}]))
case(K, "pose 5 joints", "raise", lambda: pose([im], [{"keypoints": kp[:, :5]}]))
case(K, "pose train mode, no targets", "raise", lambda: pose([im]))
case(K, "zero objects target", "ok", lambda: det_models["fast_rcnn"]([im], [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}], proposals=props))

# ---- 5 images
K = "5 images"
image_cases = {
    "uint8": im8, "0..255 float": im * 255, "NaN": im.clone().index_put_((torch.tensor(0),) * 3, torch.tensor(NAN)),
    "HWC": im.permute(1, 2, 0), "grey HW": im[0], "float64": im.double(), "negative": im - 0.5, "numpy": im.numpy(),
}
for iname, bad in image_cases.items():
    for mname, model in det_models.items():
        kw = {} if mname == "sliding_window" else {"proposals": props}
        case(K, f"{mname} eval {iname}", "raise", lambda model=model, bad=bad, kw=kw: model.eval()([bad], **kw))
    case(K, f"localizer eval {iname}", "raise", lambda bad=bad: loc.eval()([bad]))
    case(K, f"pose eval {iname}", "raise", lambda bad=bad: pose.eval()([bad]))
    batch = bad[None] if torch.is_tensor(bad) and bad.ndim == 3 else bad
    case(K, f"DownUpFCN {iname}", "raise", lambda batch=batch: DownUpFCN(FCNConfig(width=4))(batch))
    case(K, f"predict {iname}", "raise", lambda batch=batch: predict(FullResFCN(FCNConfig(width=4)), batch))
    if iname != "uint8":
        case(K, f"selective_search {iname}", "raise" if iname != "float64" else "ok",
             lambda bad=bad: selective_search(bad, cache=False))
        case(K, f"viz.draw {iname}", "raise" if iname not in ("HWC", "grey HW", "float64", "numpy") else "ok",
             lambda bad=bad: (viz.draw(bad), plt.close("all")))
        case(K, f"Stepper {iname}", "raise" if iname not in ("HWC", "grey HW", "float64", "numpy") else "ok",
             lambda bad=bad: widgets.Stepper([bad]))
case(K, "selective_search uint8", "ok", lambda: selective_search(im8, cache=False))
case(K, "viz.draw uint8", "ok", lambda: (viz.draw(im8), plt.close("all")))
case(K, "Stepper uint8", "ok", lambda: widgets.Stepper([im8]))
case(K, "greyscale uint8", "ok", lambda: faces.greyscale(im8))
case(K, "images not a list", "raise", lambda: det_models["fast_rcnn"].eval()(im, proposals=props))
case(K, "empty image 0x0", "raise", lambda: det_models["fast_rcnn"].eval()([torch.zeros(3, 0, 0)], proposals=[torch.zeros(0, 4)]))
case(K, "localizer sizes differ", "raise", lambda: loc.eval()([im, im[:, :16, :16]]))
case(K, "semantic_to_rgb negative", "raise", lambda: viz.semantic_to_rgb(torch.tensor([[-1, 2]])))
case(K, "semantic_to_rgb float", "raise", lambda: viz.semantic_to_rgb(torch.tensor([[0.5, 2.0]])))

# ---- 6 arguments that cannot make sense
K = "6 arguments"
case(K, "Scenes noise=nan", "raise", lambda: Scenes(2, noise=NAN))
case(K, "Scenes noise=-1", "raise", lambda: Scenes(2, noise=-1))
case(K, "Scenes[1.7]", "raise", lambda: Scenes(3)[1.7])
case(K, "Scenes[True]", "raise", lambda: Scenes(3)[True])
case(K, "Scenes['1']", "raise", lambda: Scenes(3)["1"])
case(K, "Scenes[np.int64]", "ok", lambda: Scenes(3)[np.int64(1)])
case(K, "Scenes[1:3]", "ok", lambda: Scenes(3, size=32)[1:3])
case(K, "Scenes[5] of 3", "raise", lambda: Scenes(3)[5])
case(K, "Scenes classes='circle'", "raise", lambda: Scenes(3, classes="circle"))
case(K, "Scenes classes=['circle']", "ok", lambda: Scenes(3, classes=["circle"]))
case(K, "Scenes size=600 texture", "ok", lambda: Scenes(1, size=600, background="texture")[0])
case(K, "Scenes size=64.0", "raise", lambda: Scenes(1, size=64.0))
case(K, "Scenes size=8", "raise", lambda: Scenes(1, size=8))
case(K, "Scenes n=-1", "raise", lambda: Scenes(-1))
case(K, "Scenes n=2.5", "raise", lambda: Scenes(2.5))
case(K, "Scenes seed=-1", "raise", lambda: Scenes(2, seed=-1))
case(K, "Scenes unknown option", "raise", lambda: Scenes(2, colour="red"))
case(K, "Scenes n_objects=(0, 2)", "raise", lambda: Scenes(2, n_objects=(0, 2)))
case(K, "Scenes n_objects=3", "raise", lambda: Scenes(2, n_objects=3))
case(K, "Scenes shape_scale reversed", "raise", lambda: Scenes(2, shape_scale=(0.5, 0.2)))
case(K, "Scenes shape_scale > 1", "raise", lambda: Scenes(2, shape_scale=(0.5, 2)))
case(K, "Scenes max_occlusion 2", "raise", lambda: Scenes(2, max_occlusion=2))
case(K, "Scenes background lava", "raise", lambda: Scenes(2, background="lava"))
case(K, "photos.load size 0", "raise", lambda: photos.load("coins", size=0))
case(K, "photos.load unknown", "raise", lambda: photos.load("mona"))
case(K, "face_patches n_train 200", "raise", lambda: faces.face_patches(n_train=200))
case(K, "sliding_windows sizes -5", "raise", lambda: sliding_windows((64, 64), sizes=(-5,)))
case(K, "sliding_windows sizes 32", "raise", lambda: sliding_windows((64, 64), sizes=32))
case(K, "sliding_windows image_size -64", "raise", lambda: sliding_windows((64, -64)))
case(K, "sliding_windows image_size 64", "raise", lambda: sliding_windows(64))
case(K, "sliding_windows stride 0", "raise", lambda: sliding_windows((64, 64), stride=0))
case(K, "sliding_windows window > image", "ok", lambda: sliding_windows((8, 8), sizes=(64,)))
case(K, "all_windows -3", "raise", lambda: all_windows(-3, 4))
case(K, "selective_search max_proposals -3", "raise", lambda: selective_search(im, max_proposals=-3))
case(K, "selective_search max_proposals 2.5", "raise", lambda: selective_search(im, max_proposals=2.5))
case(K, "selective_search mode slow", "raise", lambda: selective_search(im, mode="slow"))
case(K, "selective_search sigma nan", "raise", lambda: selective_search(im, sigma=NAN))
case(K, "selective_search min_size 0", "raise", lambda: selective_search(im, min_size=0))
case(K, "selective_search seed -1", "raise", lambda: selective_search(im, seed=-1))
case(K, "selective_search 1x1 image", "raise", lambda: selective_search(torch.rand(3, 1, 1)))
case(K, "Strategy k=-5", "raise", lambda: Strategy(k=-5))
case(K, "Strategy k nan", "raise", lambda: Strategy(k=NAN))
case(K, "group strategy str", "raise", lambda: group(im, "hsv"))
case(K, "recall counts -1", "raise", lambda: proposal_recall([box], [box], counts=(-1,)))
case(K, "recall iou 50", "raise", lambda: proposal_recall([box], [box], iou_threshold=50))
case(K, "recall no objects", "raise", lambda: proposal_recall([box], [torch.zeros(0, 4)]))
case(K, "recall NaN proposals", "raise", lambda: proposal_recall([box * NAN], [box]))
case(K, "FastRCNNConfig num_classes=1", "raise", lambda: FastRCNNConfig(num_classes=1))
case(K, "RoIHeads pool_size=0", "raise", lambda: FastRCNNConfig(roi_heads=RoIHeadsConfig(pool_size=0)))
case(K, "RoIHeads score_thresh=2", "raise", lambda: FastRCNNConfig(roi_heads=RoIHeadsConfig(score_thresh=2.0)))
case(K, "RoIHeads nms_thresh=50", "raise", lambda: FastRCNNConfig(roi_heads=RoIHeadsConfig(nms_thresh=50)))
case(K, "RoIHeads bg > fg", "raise", lambda: FastRCNNConfig(roi_heads=RoIHeadsConfig(fg_iou=0.3, bg_iou=0.6)))
case(K, "RoIHeads rois -8", "raise", lambda: FastRCNNConfig(roi_heads=RoIHeadsConfig(rois_per_image=-8)))
case(K, "SlidingWindowConfig sizes -1", "raise", lambda: SlidingWindowConfig(sizes=(-1,)))
case(K, "SlidingWindowConfig patch 4", "raise", lambda: SlidingWindowConfig(patch=4))
case(K, "SlidingWindowConfig stride 2", "raise", lambda: SlidingWindowConfig(stride=2))
case(K, "LocalizerConfig box_weight nan", "raise", lambda: LocalizerConfig(box_weight=NAN))
case(K, "LocalizerConfig widths (8, 0)", "raise", lambda: LocalizerConfig(widths=(8, 0)))
case(K, "PoseConfig num_joints 0", "raise", lambda: PoseConfig(num_joints=0))
case(K, "FCNConfig width 0", "raise", lambda: FCNConfig(width=0))
case(K, "FCNConfig num_classes 1", "raise", lambda: FCNConfig(num_classes=1))
case(K, "PatchConfig width -4", "raise", lambda: PatchConfig(width=-4))
case(K, "viz.grid ncols 0", "raise", lambda: viz.grid([im], ncols=0))
case(K, "viz.grid anns count", "raise", lambda: viz.grid([im, im], [gt[0]]))
case(K, "show_predictions n too big", "raise", lambda: viz.show_predictions(im[None], torch.zeros(1, 32, 32, dtype=torch.long), {}, n=3))
case(K, "Stepper no frames", "raise", lambda: widgets.Stepper([]))
case(K, "Stepper titles count", "raise", lambda: widgets.Stepper([im], titles=["a", "b"]))
case(K, "Stepper image_format gif", "raise", lambda: widgets.Stepper([im], image_format="gif"))
case(K, "Table row length", "raise", lambda: viz.Table([[1]], ["a", "b"]))

# ---- 7 empty and odd inputs
K = "7 empty, odd"
for mname, model in det_models.items():
    kw = {} if mname == "sliding_window" else {"proposals": []}
    case(K, f"{mname} empty image list", "raise", lambda model=model, kw=kw: model.eval()([], **kw))
case(K, "detect on a Scenes", "ok", lambda: detect(det_models["fast_rcnn"], Scenes(2, size=32), proposals=props * 2))
case(K, "fast_rcnn no proposals", "ok", lambda: det_models["fast_rcnn"].eval()([im], proposals=[torch.zeros(0, 4)]))
f = torch.rand(1, 2, 8, 8)
for op in ("roi_pool", "roi_align"):
    case(K, f"{op} NaN box", "ok", lambda op=op: getattr(ops, op)(f, [torch.tensor([[NAN, 0, 4, 4.]])], 2))
    case(K, f"{op} inf box", "ok", lambda op=op: getattr(ops, op)(f, [torch.tensor([[0, 0, INF, 4.]])], 2))
    case(K, f"{op} no boxes", "ok", lambda op=op: getattr(ops, op)(f, [torch.zeros(0, 4)], 2))
    case(K, f"{op} box outside map", "ok", lambda op=op: getattr(ops, op)(f, [torch.tensor([[50., 50, 60, 60]])], 2))
    case(K, f"{op} batch index 3 of 1", "raise", lambda op=op: getattr(ops, op)(f, torch.tensor([[3., 0, 0, 4, 4]]), 2))
    case(K, f"{op} output_size 0", "raise", lambda op=op: getattr(ops, op)(f, [box], 0))
    case(K, f"{op} spatial_scale -1", "raise", lambda op=op: getattr(ops, op)(f, [box], 2, -1.0))
    case(K, f"{op} 3-d features", "raise", lambda op=op: getattr(ops, op)(f[0], [box], 2))
    case(K, f"{op} boxes [N, 3]", "raise", lambda op=op: getattr(ops, op)(f, [box[:, :3]], 2))
case(K, "nms iou 50", "raise", lambda: ops.nms(box, torch.tensor([1.]), 50))
case(K, "nms iou -0.1", "raise", lambda: ops.nms(box, torch.tensor([1.]), -0.1))
case(K, "batched_nms iou 50", "raise", lambda: batched_nms(box, torch.tensor([1.]), torch.tensor([0]), 50))
case(K, "nms no boxes", "ok", lambda: ops.nms(torch.zeros(0, 4), torch.zeros(0), 0.5))
case(K, "nms scores count", "raise", lambda: ops.nms(box, torch.tensor([1., 2.]), 0.5))
case(K, "nms NaN box", "ok", lambda: ops.nms(torch.tensor([[NAN, 0, 4, 4.]]), torch.tensor([1.]), 0.5))
case(K, "box_iou no boxes", "ok", lambda: ops.box_iou(torch.zeros(0, 4), box))
case(K, "box_iou [4]", "raise", lambda: ops.box_iou(box[0], box))
case(K, "box_convert yxyx", "raise", lambda: B.box_convert(box, "xyxy", "yxyx"))
case(K, "BoxCoder weight 0", "raise", lambda: ops.BoxCoder((1, 1, 0, 1)))
case(K, "max_unpool output 7", "raise", lambda: ops.max_unpool(*torch.nn.functional.max_pool2d(torch.rand(1, 1, 4, 4), 2, return_indices=True), output_size=(7, 7)))
case(K, "max_unpool int32 indices", "raise", lambda: (lambda x, i: ops.max_unpool(x, i.int()))(*torch.nn.functional.max_pool2d(torch.rand(1, 1, 4, 4), 2, return_indices=True)))
case(K, "max_unpool stride 0", "raise", lambda: (lambda x, i: ops.max_unpool(x, i, 2, 0))(*torch.nn.functional.max_pool2d(torch.rand(1, 1, 4, 4), 2, return_indices=True)))
case(K, "nearest_unpool scale 0", "raise", lambda: ops.nearest_unpool(torch.rand(1, 1, 2, 2), 0))
case(K, "nearest_unpool scale 1.5", "raise", lambda: ops.nearest_unpool(torch.rand(1, 1, 2, 2), 1.5))
case(K, "bed_of_nails position out", "raise", lambda: ops.bed_of_nails_unpool(torch.rand(1, 1, 2, 2), 2, (2, 0)))
case(K, "transpose_conv2d weight", "raise", lambda: ops.transpose_conv2d(torch.rand(1, 2, 3, 3), torch.rand(3, 1, 2, 2)))
case(K, "transpose_conv2d padding crops all", "raise", lambda: ops.transpose_conv2d(torch.rand(1, 1, 1, 1), torch.rand(1, 1, 2, 2), padding=3))
case(K, "to_coco empty dataset", "ok", lambda: to_coco(Scenes(0)))
case(K, "labels_at step -1", "raise", lambda: group(torch.rand(3, 16, 16)).labels_at(-1))
case(K, "labels_at step > merges", "raise", lambda: group(torch.rand(3, 16, 16)).labels_at(10 ** 6))

# ---- 8 dtypes
K = "8 dtypes"
for dt in (torch.uint8, torch.int8, torch.int16, torch.float16, torch.bfloat16, torch.float64):
    b = torch.tensor([[0, 0, 100, 100], [10, 10, 110, 110]]).to(dt)
    case(K, f"box_area {dt}", "ok", lambda b=b: torch.equal(B.box_area(b), torchvision.ops.box_area(b)) or (_ for _ in ()).throw(AssertionError("differs")))
    case(K, f"box_iou {dt}", "ok", lambda b=b: torch.allclose(ops.box_iou(b, b), torchvision.ops.box_iou(b, b)) or (_ for _ in ()).throw(AssertionError("differs")))
b16 = (torch.rand(200, 2) * 700).repeat(1, 2).half(); b16[:, 2:] += 50
s16 = torch.rand(200).half()
case(K, "nms float16 vs float32", "ok", lambda: torch.equal(ops.nms(b16, s16, 0.5), torchvision.ops.nms(b16.float(), s16.float(), 0.5)) or (_ for _ in ()).throw(AssertionError("differs")))
bt = torch.rand(200, 2) * 100; bt = torch.cat([bt, bt + 30], 1); st = (torch.rand(200) * 3).round()
case(K, "nms tied scores", "ok", lambda: torch.equal(ops.nms(bt, st, 0.5), torchvision.ops.nms(bt, st, 0.5)) or (_ for _ in ()).throw(AssertionError("differs")))
case(K, "nms float64", "ok", lambda: torch.equal(ops.nms(bt.double(), st.double(), 0.5), torchvision.ops.nms(bt.double(), st.double(), 0.5)) or (_ for _ in ()).throw(AssertionError("differs")))
case(K, "roi_align float64", "ok", lambda: torch.allclose(ops.roi_align(f.double(), [box.double()], 2, 0.25), torchvision.ops.roi_align(f.double(), [box.double()], 2, 0.25)) or (_ for _ in ()).throw(AssertionError("differs")))
case(K, "roi_pool float64", "ok", lambda: torch.allclose(ops.roi_pool(f.double(), [box.double()], 2, 0.25), torchvision.ops.roi_pool(f.double(), [box.double()], 2, 0.25)) or (_ for _ in ()).throw(AssertionError("differs")))
xx = torch.rand(1, 2, 4, 4, dtype=torch.float64)
case(K, "nearest_unpool float64", "ok", lambda: torch.equal(ops.nearest_unpool(xx, 2), torch.nn.functional.interpolate(xx, scale_factor=2)) or (_ for _ in ()).throw(AssertionError("differs")))
pp, ii = torch.nn.functional.max_pool2d(xx, 2, return_indices=True)
case(K, "max_unpool float64", "ok", lambda: torch.equal(ops.max_unpool(pp, ii, 2), torch.nn.functional.max_unpool2d(pp, ii, 2)) or (_ for _ in ()).throw(AssertionError("differs")))
ww = torch.rand(2, 3, 3, 3, dtype=torch.float64)
case(K, "transpose_conv2d float64", "ok", lambda: torch.allclose(ops.transpose_conv2d(xx, ww, stride=2), torch.nn.functional.conv_transpose2d(xx, ww, stride=2)) or (_ for _ in ()).throw(AssertionError("differs")))


if __name__ == "__main__":
    by = collections.Counter((r[0], r[2], r[3]) for r in results)
    print(len(results), "cases")
    for kind in sorted({r[0] for r in results}):
        row = {k[1:]: v for k, v in by.items() if k[0] == kind}
        print(kind, dict(row))
    bad = [r for r in results if (r[2] == "raise" and r[3] != "clear") or (r[2] == "ok" and r[3] != "works")]
    print("\nNOT HANDLED:", len(bad))
    for r in bad:
        print(" ", r[0], "|", r[1], "|", r[3], "|", r[4])
    if "-v" in sys.argv:
        for r in results:
            print(" ", r[0], "|", r[1], "|", r[2], r[3], "|", r[4][:110])
