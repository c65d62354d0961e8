"""scripts/bench_detectors.py runs (--quick) and writes the times and mAPs of cvlib's and torchvision's models."""
import importlib.util
import json
import math
from pathlib import Path

import torch


def bench_script():
    path = Path(__file__).resolve().parent.parent / "scripts" / "bench_detectors.py"
    spec = importlib.util.spec_from_file_location("bench_detectors", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_benchmark_writes_finite_times_and_maps_of_both_models(tmp_path):
    """Faster R-CNN, SSD and Mask R-CNN, each against its torchvision twin."""
    threads = torch.get_num_threads()
    try:
        result = bench_script().main(["--quick", "--threads", "1", "--device", "cpu", "--out", str(tmp_path / "b.json")])
    finally:
        torch.set_num_threads(threads)
    everything = json.loads((tmp_path / "b.json").read_text())
    assert everything == json.loads(json.dumps(result)) and set(everything) == {"faster_rcnn", "ssd", "mask_rcnn"}
    for written in everything.values():
        check(written)


def check(written: dict):
    keys = ("train_ms_per_step", "inference_ms_per_image", "map_50", "map")
    for key in keys + (("mask_map_50", "mask_map") if written["model"] == "mask_rcnn" else ()):
        for model in ("cvlib", "torchvision"):
            value = written[key][model]
            assert isinstance(value, float) and math.isfinite(value), (key, model, value)
            assert value > 0 if "ms" in key else 0 <= value <= 1
    assert written["train_ms_per_step"]["ratio"] > 0 and written["inference_ms_per_image"]["ratio"] > 0
    # the same weights give the same losses and detections: the two models are built to match
    assert written["agreement"]["same_labels"] and written["agreement"]["loss_max_abs_diff"] < 1e-4
    assert written["agreement"]["detections_max_abs_diff"] < 1e-4
