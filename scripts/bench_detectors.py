"""Benchmark: cvlib's FasterRCNN, MaskRCNN and SSD against torchvision's, built to match them.

    python scripts/bench_detectors.py --threads 1                 # the chapters' quick budget (600 steps)
    python scripts/bench_detectors.py --model ssd                 # one of faster_rcnn, ssd, mask_rcnn
    python scripts/bench_detectors.py --steps 200 --repeats 9 --out /tmp/bench.json
    python scripts/bench_detectors.py --device cuda               # on a GPU
    python scripts/bench_detectors.py --quick                     # a few steps: does it run (the test)

What it compares, per model. Two detectors that differ only in whose machinery runs between the
backbone and the losses / detections. SSD: cvlib's `SSD(SSDConfig())` against torchvision's `SSD`
around the same feature maps (`torchvision_twin.torchvision_ssd`: the same default boxes, head
shapes, matching, hard negatives and test-time settings, no resize, no normalisation). Faster R-CNN:
- cvlib: `cvlib.models.detection.FasterRCNN(config())`;
- torchvision: `torchvision.models.detection.FasterRCNN` on a fresh `cvlib.nn.Backbone` (built
  under the same seed), with the same anchors, RPN settings (IoU thresholds, sampling, pre / post
  NMS top-n for train and test, NMS and score thresholds), RoI pooler (`TorchvisionPooler` below:
  torchvision.ops.roi_pool / roi_align with the scale and output size of cvlib's RoIPooler),
  box head (TwoMLPHead), predictor (FastRCNNPredictor), RoI sampling, box weights (10, 10, 5, 5)
  and test-time settings; no resize (min_size = max_size = the image size) and no normalisation
  (mean 0, std 1), since cvlib does neither. The head weights are copied from cvlib's model, so
  the two start from the same weights; the script checks that they then give the same losses and
  the same detections ("agreement").
Mask R-CNN: cvlib's `MaskRCNN` with the Mask R-CNN chapter's config (`recipes.mask_rcnn.Recipe`,
RoIAlign) in torchvision's pixel convention (`MaskHeadConfig(aligned=False)`), against
`torchvision.models.detection.MaskRCNN` (`torchvision_twin.torchvision_mask_rcnn`: Faster R-CNN's
settings above plus the same mask RoIAlign, MaskRCNNHeads and MaskRCNNPredictor, weights copied);
its batches carry the masks, its agreement compares the pasted masks too, and it reports mask mAP.
It measures, in one run (`cvlib.cost.median_seconds` over --repeats calls, in --rounds rounds
where the two models take turns; the median of the rounds):
- the train step (forward + backward + AdamW step) on one batch of 4 scenes, the same for both;
- inference per image (eval mode, one image at a time, no grad) on held-out scenes, with the
  trained models (an untrained model keeps hundreds of low-scoring candidates, which a trained one
  does not, so its postprocessing cost would not be representative);
- held-out mAP@0.5 (`cvlib.metrics.detection_map`) after training both with `cvlib.train.fit`
  for --steps steps: the same lr, seed, initial weights and order of batches (the chapters' splits:
  Scenes(120, seed=1, size=96) to train, Scenes(50, seed=2, size=96) held out). The RoI and anchor
  samples still differ between the two runs: torchvision's transform draws one random number per
  image (its choice of resize size) before the RPN samples its anchors.

Measured (2-core CPU shared with other engineers' jobs, load average 3 to 5, --threads 1, 600 steps,
medians of 3 rounds x 7 repeats; torch 2.14.1, torchvision 0.29.1; default options). SSD:

                         cvlib   torchvision  cvlib / tv
    train ms/step        443.1         445.8        0.99
    inference ms/img     28.28         29.36        0.96
    mAP@0.5              0.649         0.649
    fit(), 600 steps     176 s         164 s        (the loop's own clock, under a changing load)

    agreement at the same weights: losses and detections identical (difference 0.0). SSD draws no
    random numbers, so both train on exactly the same steps and end at the same mAP.

Mask R-CNN (the chapter's config, RoIAlign, aligned=False; --model mask_rcnn --threads 1 --steps 300,
two runs under load 2 to 5 from other jobs; the ratios move by more than their gap to 1 between runs):

                         cvlib   torchvision  cvlib / tv     (second run: cvlib / tv)
    train ms/step        574.0         599.8        0.96      215.2 / 209.0 = 1.03
    inference ms/img     43.10         40.16        1.07      44.96 / 54.29 = 0.83
    mAP@0.5              0.672         0.670                  (the same)
    mask mAP@0.5         0.642         0.651

    agreement at the same weights: losses within 1.2e-7, detections and pasted masks identical.
    Where the inference time goes (cProfile, both alike): the convs, the mask head's transposed conv,
    and pasting 100 masks per image one by one (torchvision's paste_masks_in_image, and cvlib's
    aligned=False paste, loop over the masks).

Faster R-CNN (an earlier run, before SSD was added):

                         cvlib   torchvision  cvlib / tv
    train ms/step        210.3         214.6        0.98
    inference ms/img     23.35         23.93        0.98
    mAP@0.5              0.710         0.750
    mAP@0.5:0.95         0.370         0.437
    fit(), 600 steps     119 s         140 s        (the loop's own clock, under a changing load)

    agreement at the same weights: losses within 1.2e-7, detections identical.

The mAP gap looks like run-to-run variation, not a difference of the models: trained on torchvision's
random stream (a step_fn drawing the transform's one number per image before each step), cvlib
followed torchvision's losses exactly for the first steps, drifted apart by rounding after about
10, and ended at mAP@0.5 0.756 (mAP 0.392). Where the time goes (cProfile, 5 steps, the same for
both): backward about half, the backbone's convs and BatchNorm about a fifth, the RPN about an
eighth (NMS of 600 boxes per image about a third of it), the RoI heads about a tenth, AdamW 5 %.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import itertools
import json
import math
import statistics
import sys
from pathlib import Path

import torch
from torch import Tensor, nn

from cvlib import runtime
from cvlib.cost import median_seconds
from cvlib.data import Scenes
from cvlib.metrics import detection_map
from cvlib.models import detection
from cvlib.models.detection import SSD, FasterRCNN, FasterRCNNConfig, RPNConfig, SSDConfig, detect, detection_loader
from cvlib.models.detection.torchvision_twin import (copy_mask_weights, copy_ssd_weights, copy_weights,
                                                     torchvision_faster_rcnn, torchvision_mask_rcnn, torchvision_ssd)
from cvlib.models.instance import MaskRCNN, MaskRCNNConfig
from cvlib.recipes.mask_rcnn import KEYS as MASK_KEYS
from cvlib.recipes.mask_rcnn import Recipe as MaskRCNNRecipe
from cvlib.train import fit

SIZE = 96                         # scene side, pixels (the chapters' detection scenes)
BATCH = 4                         # images per training step
LR = 1e-3                         # the chapters' learning rate
SEED = 0


def config() -> FasterRCNNConfig:
    """The configuration the Faster R-CNN chapter trains: the package's quick config where there is one."""
    quick = getattr(detection, "quick_faster_rcnn_config", None)
    if quick is not None:
        return quick()
    return FasterRCNNConfig(rpn=RPNConfig(sizes=(12, 24, 48), pre_nms_top_n_train=600, post_nms_top_n_train=300,
                                          pre_nms_top_n_test=600, post_nms_top_n_test=300))


def mask_config() -> MaskRCNNConfig:
    """The Mask R-CNN chapter's config (RoIAlign), in torchvision's pixel convention (aligned=False)."""
    cfg = MaskRCNNRecipe().config("roi_align")
    return dataclasses.replace(cfg, mask=dataclasses.replace(cfg.mask, aligned=False))


# ---------------------------------------------------------------- both models (torchvision_twin builds theirs)


# name: (cvlib's model, torchvision's twin, copy cvlib's weights into the twin, the backbone of each)
MODELS = {"faster_rcnn": (FasterRCNN, torchvision_faster_rcnn, copy_weights, lambda m: m.backbone),
          "ssd": (SSD, torchvision_ssd, copy_ssd_weights,
                  lambda m: m.features.backbone if isinstance(m, SSD) else m.backbone.features.backbone),
          "mask_rcnn": (MaskRCNN, torchvision_mask_rcnn, copy_mask_weights, lambda m: m.backbone)}
CONFIGS = {"faster_rcnn": config, "ssd": SSDConfig, "mask_rcnn": mask_config}
KEYS = {"faster_rcnn": ("boxes", "labels"), "ssd": ("boxes", "labels"), "mask_rcnn": MASK_KEYS}


def build(name: str, cfg, device) -> dict[str, nn.Module]:
    """Both models of `name` with the same initial weights: {"cvlib": ..., "torchvision": ...}."""
    ours_class, twin, copy_into, backbone = MODELS[name]
    runtime.seed(SEED)
    ours = ours_class(cfg)
    runtime.seed(SEED)
    theirs = twin(cfg, SIZE)          # a fresh backbone under the same seed: the same weights
    same_backbone = all(torch.equal(p, q) for p, q in zip(backbone(ours).state_dict().values(),
                                                        backbone(theirs).state_dict().values()))
    if not same_backbone:
        raise AssertionError("the two backbones differ after seeding: the seeds no longer line up")
    copy_into(ours, theirs)
    return {"cvlib": ours.to(device), "torchvision": theirs.to(device)}


# ---------------------------------------------------------------- measurements


def agreement(models: dict[str, nn.Module], images: list[Tensor], targets: list[dict]) -> dict[str, float]:
    """With the same weights: the largest difference of the losses (train mode, the same random
    samples) and of the detections (eval mode) of the two models."""
    losses = {}
    for name, model in models.items():
        runtime.seed(SEED)
        if name == "cvlib":           # torchvision's transform draws one number per image first
            for _ in images:
                torch.empty(1).uniform_()
        with torch.no_grad():
            losses[name] = model.train()(images, targets)
    loss_diff = max(abs(float(losses["cvlib"][k] - losses["torchvision"][k])) for k in losses["cvlib"])
    with torch.no_grad():
        ours, theirs = (models[n].eval()(images) for n in ("cvlib", "torchvision"))
    box_diff, same_labels = 0.0, True
    for a, b in zip(ours, theirs):
        if len(a["boxes"]) != len(b["boxes"]) or not torch.equal(a["labels"], b["labels"]):
            same_labels, box_diff = False, math.inf
            break
        if len(a["boxes"]):
            box_diff = max(box_diff, float((a["boxes"] - b["boxes"]).abs().max()),
                           float((a["scores"] - b["scores"]).abs().max()))
            if "masks" in a:
                box_diff = max(box_diff, float((a["masks"] - b["masks"]).abs().max()))
    return {"loss_max_abs_diff": loss_diff, "detections_max_abs_diff": box_diff, "same_labels": same_labels,
            "detections_per_image": sum(len(d["boxes"]) for d in ours) / len(ours)}


def train_step(model: nn.Module, images: list[Tensor], targets: list[dict]):
    """A function that runs one training step (forward, backward, AdamW step) on a copy of `model`."""
    model = copy.deepcopy(model).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)

    def step():
        loss = sum(model(images, targets).values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return step


def inference(model: nn.Module, images: list[Tensor]):
    """A function that runs model([image]) in eval mode, no grad, on each image, one at a time."""
    model.eval()

    @torch.no_grad()
    def run():
        for image in images:
            model([image])
    return run


def interleaved_seconds(fns: dict, repeats: int, rounds: int) -> dict[str, float]:
    """Median seconds per call of each function: `rounds` rounds, each timing every function in turn
    (median_seconds over `repeats` calls), so that a change of load on a shared machine hits both;
    the median of the rounds' medians."""
    times = {name: [] for name in fns}
    for r in range(rounds):
        for name, fn in fns.items():
            runtime.seed(SEED)
            times[name].append(median_seconds(fn, repeat=repeats, warmup=2 if r == 0 else 0))
    return {name: statistics.median(t) for name, t in times.items()}


def fixed_batches(data, steps: int, keys: tuple[str, ...] = ("boxes", "labels")) -> list:
    """The first `steps` batches of detection_loader(data, BATCH, keys=keys), its shuffle seeded (SEED),
    reshuffled at each pass as fit's loop does: both models train on exactly these, in this order. The
    batches hold references to the scenes' tensors, not copies."""
    loader = detection_loader(data, BATCH, keys=keys)
    loader.sampler.generator = torch.Generator().manual_seed(SEED)
    out = []
    while len(out) < steps:
        out += list(itertools.islice(iter(loader), steps - len(out)))
    return out


# ---------------------------------------------------------------- the run


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=600, help="training steps of each model (default: the "
                   "chapters' quick budget, 600)")
    p.add_argument("--repeats", type=int, default=7, help="timing repeats (the median is reported)")
    p.add_argument("--rounds", type=int, default=3, help="rounds of timing, the models taking turns")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: cvlib.runtime.device())")
    p.add_argument("--train-scenes", type=int, default=120, help="training scenes, seed 1 (default 120)")
    p.add_argument("--test-scenes", type=int, default=50, help="held-out scenes, seed 2 (default 50)")
    p.add_argument("--timed-images", type=int, default=10, help="held-out images timed for inference")
    p.add_argument("--model", choices=("all", *MODELS), default="all", help="which detector (default: all)")
    p.add_argument("--out", type=Path, default=None, help="write the figures to this JSON file")
    p.add_argument("--quick", action="store_true", help="tiny run (a few steps and scenes): does it work")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.repeats, args.rounds, args.train_scenes, args.test_scenes, args.timed_images = 3, 2, 1, 8, 4, 2
    for name in ("steps", "repeats", "rounds", "train_scenes", "test_scenes", "timed_images"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    return args


def main(argv=None) -> dict:
    """{model name: its figures} for every model asked for; written to --out."""
    args = parse(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device) if args.device else runtime.device()
    names = list(MODELS) if args.model == "all" else [args.model]
    results = {detector: bench(detector, args, device) for detector in names}
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return results


def bench(detector: str, args: argparse.Namespace, device: torch.device) -> dict:
    """The figures of one detector, "faster_rcnn", "ssd" or "mask_rcnn" (see the module docstring)."""
    cfg = CONFIGS[detector]()
    log = (lambda *a: None) if args.quick else (lambda *a: print(*a, flush=True))

    train_set, test_set = Scenes(args.train_scenes, seed=1, size=SIZE), Scenes(args.test_scenes, seed=2, size=SIZE)
    train = [train_set[i] for i in range(len(train_set))]
    test = [test_set[i] for i in range(len(test_set))]
    batches = fixed_batches(train, args.steps, KEYS[detector])
    images = [image.to(device) for image in batches[0][0]]                       # the timed batch
    targets = [{k: v.to(device) for k, v in t.items()} for t in batches[0][1]]
    timed = [image.to(device) for image, _ in test[:args.timed_images]]
    log(f"{detector}: device {device}, {torch.get_num_threads()} threads; {len(train)} train / {len(test)} held-out "
        f"scenes of {SIZE} px; {args.steps} steps of {BATCH} images; cfg {cfg}")

    models = build(detector, cfg, device)
    params = {n: sum(p.numel() for p in m.parameters()) for n, m in models.items()}
    if params["cvlib"] != params["torchvision"]:
        raise AssertionError(f"the two models have different parameter counts: {params}")
    agree = agreement(models, images, targets)
    log(f"same weights, same batch: losses differ by {agree['loss_max_abs_diff']:.2e}, detections by "
        f"{agree['detections_max_abs_diff']:.2e} (labels {'equal' if agree['same_labels'] else 'DIFFER'})")

    train_s = interleaved_seconds({n: train_step(m, images, targets) for n, m in models.items()},
                                  args.repeats, args.rounds)
    log("train step: " + ", ".join(f"{n} {s * 1e3:.1f} ms" for n, s in train_s.items()))

    histories, maps = {}, {}
    for name, model in models.items():
        runtime.seed(SEED)
        histories[name] = fit(model, batches, steps=args.steps, lr=LR, device=device, progress=not args.quick,
                              desc=name)
        runtime.seed(SEED)
        preds = detect(model, test)
        maps[name] = detection_map(preds, [t for _, t in test])
        if detector == "mask_rcnn":
            maps[name]["mask"] = detection_map([{**p, "masks": p["masks"][:, 0] > 0.5} for p in preds],
                                               [t for _, t in test], iou_type="segm")
        log(f"{name}: {args.steps} steps in {histories[name].seconds:.0f} s, final loss "
            f"{histories[name].last():.3f}, held-out mAP@0.5 {maps[name]['map_50']:.3f}")

    infer_s = interleaved_seconds({n: inference(m, timed) for n, m in models.items()}, args.repeats, args.rounds)
    infer_s = {n: t / len(timed) for n, t in infer_s.items()}
    log("inference per image: " + ", ".join(f"{n} {s * 1e3:.2f} ms" for n, s in infer_s.items()))

    result = {
        "model": detector, "device": str(device), "threads": torch.get_num_threads(), "steps": args.steps, "repeats": args.repeats,
        "rounds": args.rounds,
        "batch_size": BATCH, "image_size": SIZE, "train_scenes": len(train), "test_scenes": len(test),
        "torch": torch.__version__, "config": repr(cfg), "parameters": params["cvlib"], "agreement": agree,
        "train_ms_per_step": {**{n: s * 1e3 for n, s in train_s.items()},
                              "ratio": train_s["cvlib"] / train_s["torchvision"]},
        "inference_ms_per_image": {**{n: s * 1e3 for n, s in infer_s.items()},
                                   "ratio": infer_s["cvlib"] / infer_s["torchvision"]},
        "fit_seconds": {n: h.seconds for n, h in histories.items()},
        "final_loss": {n: h.last() for n, h in histories.items()},
        "map_50": {n: m["map_50"] for n, m in maps.items()},
        "map": {n: m["map"] for n, m in maps.items()},
    }
    if detector == "mask_rcnn":
        result["mask_map_50"] = {n: m["mask"]["map_50"] for n, m in maps.items()}
        result["mask_map"] = {n: m["mask"]["map"] for n, m in maps.items()}
    print(report(result))
    return result


def report(r: dict) -> str:
    """The figures as a small table."""
    t, i, m = r["train_ms_per_step"], r["inference_ms_per_image"], r["map_50"]
    return "\n".join([
        f"{r['model']:18}{'cvlib':>12}{'torchvision':>14}{'cvlib / tv':>12}",
        f"{'train ms/step':18}{t['cvlib']:12.1f}{t['torchvision']:14.1f}{t['ratio']:12.2f}",
        f"{'inference ms/img':18}{i['cvlib']:12.2f}{i['torchvision']:14.2f}{i['ratio']:12.2f}",
        f"{'mAP@0.5':18}{m['cvlib']:12.3f}{m['torchvision']:14.3f}",
        *([f"{'mask mAP@0.5':18}{r['mask_map_50']['cvlib']:12.3f}{r['mask_map_50']['torchvision']:14.3f}"]
          if "mask_map_50" in r else []),
        f"({r['device']}, {r['threads']} threads, {r['steps']} steps, medians of {r['rounds']} x {r['repeats']})"])


if __name__ == "__main__":
    main(sys.argv[1:])
