"""A plain training loop: a step budget, a progress bar, a loss history, checkpoints.

    history = fit(model, loader, steps=300, lr=1e-3)
    history.plot()   # or cvlib.viz.plot_losses(history)

`fit` cycles over `data` (any iterable of batches, e.g. a DataLoader) until the budget
is spent. Each step calls `step_fn(model, batch, device)`, which returns a scalar loss or a
dict of named losses (torchvision's detection models return such a dict in train
mode); their sum is minimised. Budgets count steps so that results repeat; a time
budget (`seconds=`) is there for interactive exploration.
"""
from __future__ import annotations

import dataclasses
import importlib
import math
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from .checks import check_number
from .progress import progress_bar


@dataclass
class History:
    """Losses per step. losses["total"] is the minimised sum; other keys are its parts."""
    losses: dict[str, list[float]] = field(default_factory=dict)
    steps: int = 0
    seconds: float = 0.0

    def last(self, key: str = "total", n: int = 20) -> float:
        """Mean of the last `n` values of a loss."""
        check_number(n, "n", integer=True, low=1)
        if not self.losses.get(key):
            raise ValueError(f"no {key!r} loss recorded yet; the history holds {sorted(self.losses) or 'no losses'}")
        values = self.losses[key][-n:]
        return sum(values) / len(values)

    def plot(self, ax=None):
        from .viz import plot_losses
        return plot_losses(self, ax=ax)


def to_device(obj, device):
    """Move tensors, and lists / tuples / dicts of them, to `device`."""
    if torch.is_tensor(obj):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


def detection_step(model, batch, device):
    """Default step: batch = (images, targets) in torchvision's format, or with more parts, e.g.
    (images, targets, proposals), passed to the model in that order; the model returns losses."""
    return model(*(to_device(part, device) for part in batch))


def fit(model: torch.nn.Module, data: Iterable, steps: int | None = None, *, seconds: float | None = None,
        step_fn: Callable = detection_step, optimizer: torch.optim.Optimizer | None = None, lr: float = 1e-3,
        weight_decay: float = 1e-4, schedule: str = "cosine", clip: float | None = 10.0,
        device: torch.device | str | None = None, progress: bool = True, desc: str = "train") -> History:
    """Train `model` for `steps` steps (or `seconds`); returns the History.

    optimizer defaults to AdamW(lr, weight_decay); schedule "cosine" decays the learning rate
    to 0 over `steps` ("constant" keeps it). Raises FloatingPointError naming the step and
    the loss when a loss becomes NaN or infinite.
    """
    if steps is None and seconds is None:
        raise ValueError("give a budget: steps=N or seconds=S")
    if steps is not None:
        check_number(steps, "steps", integer=True, low=1)
    if seconds is not None:
        check_number(seconds, "seconds", low=0, low_open=True)
    check_number(lr, "lr", low=0, low_open=True)
    check_number(weight_decay, "weight_decay", low=0)
    if clip is not None:
        check_number(clip, "clip (the largest gradient norm; None: no clipping)", low=0, low_open=True)
    params = list(model.parameters())
    if not params:
        raise ValueError(f"the {type(model).__name__} has no parameters to train")
    device = torch.device(device) if device is not None else params[0].device
    model.to(device).train()
    optimizer = optimizer or torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = None
    if schedule == "cosine" and steps is not None:
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    elif schedule not in ("cosine", "constant"):
        raise ValueError(f"schedule must be 'cosine' or 'constant', got {schedule!r}")

    history = History()
    start = time.perf_counter()
    bar = progress_bar(total=steps, desc=desc, enabled=progress)
    batches = _cycle(data)
    while True:
        if steps is not None and history.steps >= steps:
            break
        if seconds is not None and time.perf_counter() - start >= seconds:
            break
        try:
            parts = _losses(step_fn(model, next(batches), device), history.steps + 1)
        except BaseException:
            bar.close()
            raise
        total = sum(parts.values())
        for name, value in {**parts, "total": total}.items():
            history.losses.setdefault(name, []).append(float(value.detach()))
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        history.steps += 1
        bar.update(1)
        if history.steps % 10 == 0:
            bar.set_postfix(loss=f"{history.last():.3f}", refresh=False)
    bar.close()
    history.seconds = time.perf_counter() - start
    model.eval()
    return history


def _losses(out, step: int) -> dict[str, torch.Tensor]:
    """What a step returned, as named scalar losses that backpropagate to the model; a clear error
    for anything else (a list of detections from a model in eval mode, a per-sample loss, NaN)."""
    parts = out if isinstance(out, dict) else {"loss": out}
    if not parts:
        raise ValueError(f"step {step}: step_fn returned an empty dict of losses")
    for name, value in parts.items():
        if not torch.is_tensor(value) or value.numel() != 1:
            got = f"a Tensor of shape {tuple(value.shape)}" if torch.is_tensor(value) else type(value).__name__
            raise TypeError(f"step {step}: loss {name!r} must be a scalar Tensor, got {got} (reduce it with "
                            ".mean(); a list means the model ran in eval mode)")
        v = float(value.detach())
        if not math.isfinite(v):
            raise FloatingPointError(f"loss {name!r} became {v} at step {step}; "
                                     "try a lower learning rate or check the inputs")
    if not any(value.requires_grad for value in parts.values()):
        raise ValueError(f"step {step}: the loss does not depend on the model's parameters "
                         "(computed under torch.no_grad(), or detached?)")
    return parts


def shuffled_batches(*tensors: torch.Tensor, batch_size: int, seed: int = 0):
    """Endless mini-batches (tuples, one slice of each tensor) of data kept as tensors.

    Every pass over the data is a fresh shuffle (repeatable from `seed`); the last batch of a
    pass is dropped when it would be short. All tensors must have the same length [N, ...].
    """
    n = len(tensors[0]) if tensors else 0
    if not tensors or any(len(t) != n for t in tensors):
        raise ValueError(f"give one or more tensors of the same length, got lengths {[len(t) for t in tensors]}")
    check_number(batch_size, f"batch_size (at most the {n} samples)", integer=True, low=1, high=n)
    g = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(n, generator=g)
        for i in range(0, n - batch_size + 1, batch_size):
            index = order[i:i + batch_size]
            yield tuple(t[index] for t in tensors)


def _cycle(data):
    """Iterate over `data` forever (a fresh pass each time, so a shuffling loader reshuffles)."""
    passes = 0
    while True:
        empty = True
        for batch in data:
            empty = False
            yield batch
        if empty:
            raise ValueError("the training data is empty" if passes == 0 else
                             f"the training data was used up after {passes} pass: an iterator or generator can "
                             "be read only once; pass a DataLoader, a list, or an endless generator")
        passes += 1


# ---------------------------------------------------------------- checkpoints

FORMAT = "cvlib-checkpoint-1"
PLAIN = (type(None), bool, int, float, str, torch.Tensor)   # what torch.load(weights_only=True) reads


def _encode(value, where: str):
    """meta -> data that torch.load(weights_only=True) reads: a dataclass config becomes a dict
    {"__dataclass__": "module:QualName", "fields": {...}}; TypeError naming the value it cannot store."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {"__dataclass__": f"{cls.__module__}:{cls.__qualname__}",
                "fields": {f.name: _encode(getattr(value, f.name), f"{where}.{f.name}")
                           for f in dataclasses.fields(value) if f.init}}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, PLAIN):
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_encode(v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(value, dict) and all(isinstance(k, (str, int)) for k in value):
        return {k: _encode(v, f"{where}[{k!r}]") for k, v in value.items()}
    hint = " (convert with torch.from_numpy)" if isinstance(value, np.ndarray) else ""
    raise TypeError(f"{where} is a {type(value).__name__}{hint}, which a checkpoint cannot hold: load reads only "
                    "tensors, numbers, str, None, lists, tuples, dicts and dataclass configs of those")


def _decode(value):
    """The inverse of _encode: dataclass configs of cvlib (or of a module already imported) rebuilt,
    any other one left as its dict."""
    if isinstance(value, dict) and set(value) == {"__dataclass__", "fields"}:
        fields = {k: _decode(v) for k, v in value["fields"].items()}
        module, _, name = value["__dataclass__"].partition(":")
        if module == "cvlib" or module.startswith("cvlib."):
            importlib.import_module(module)
        cls = sys.modules.get(module)
        for part in name.split("."):
            cls = getattr(cls, part, None)
        if not dataclasses.is_dataclass(cls):
            return value
        try:
            return cls(**fields)
        except (TypeError, ValueError) as e:
            raise ValueError(f"cannot rebuild the {name} saved in the checkpoint ({e}); has the class changed "
                             "since it was saved?") from e
    if isinstance(value, (list, tuple)):
        return type(value)(_decode(v) for v in value)
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    return value


def save(model: torch.nn.Module, path: str | Path, **meta) -> Path:
    """Save the model's weights, its class name and `meta` (e.g. config=model.cfg, metrics) to `path`.

    meta values: tensors, numbers, str, None, lists, tuples, dicts, and dataclass configs of those
    (stored as dicts, rebuilt by `load`); anything else is a TypeError naming the key, before any
    file is touched. The file is written next to `path` and renamed onto it once complete, so an
    existing checkpoint stays intact until the new one is whole.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; give a file name, e.g. {path / 'model.pt'}")
    ckpt = {"format": FORMAT, "model": type(model).__name__, "state_dict": model.state_dict(),
            "meta": {k: _encode(v, f"meta[{k!r}]") for k, v in meta.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as f:
            torch.save(ckpt, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)                     # atomic: readers see the old file or the new one
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(model: torch.nn.Module, path: str | Path, map_location="cpu") -> dict:
    """Load weights saved by `save` into `model`; returns the saved meta (dataclass configs rebuilt).

    Raises FileNotFoundError for a missing file and ValueError for a file that is not a
    cvlib checkpoint (corrupt, truncated) or does not match the model's parameters.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # truncated zip, random bytes, pickle errors ...
        raise ValueError(f"{path} is not a readable checkpoint (corrupt or truncated?): {e}") from e
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT or not isinstance(ckpt.get("state_dict"), dict):
        raise ValueError(f"{path} is not a cvlib checkpoint (written by cvlib.train.save)")
    if ckpt["model"] != type(model).__name__:
        raise ValueError(f"{path} holds a {ckpt['model']}, not a {type(model).__name__}")
    own = model.state_dict()
    missing = sorted(set(own) - set(ckpt["state_dict"]))
    unexpected = sorted(set(ckpt["state_dict"]) - set(own))
    wrong = [f"{k}: {tuple(v.shape)} in file, {tuple(own[k].shape)} in model"
             for k, v in ckpt["state_dict"].items() if k in own and v.shape != own[k].shape]
    if missing or unexpected or wrong:
        raise ValueError(f"{path} does not match the model: missing {missing[:5]}, unexpected "
                         f"{unexpected[:5]}, shape mismatches {wrong[:5]}")
    model.load_state_dict(ckpt["state_dict"])
    return _decode(ckpt.get("meta", {}))
