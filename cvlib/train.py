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

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import torch
from tqdm.auto import tqdm


@dataclass
class History:
    """Losses per step. losses["total"] is the minimised sum; other keys are its parts."""
    losses: dict[str, list[float]] = field(default_factory=dict)
    steps: int = 0
    seconds: float = 0.0

    def last(self, key: str = "total", n: int = 20) -> float:
        """Mean of the last `n` values of a loss."""
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
    if steps is not None and (not isinstance(steps, int) or steps < 1):
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device).train()
    optimizer = optimizer or torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = None
    if schedule == "cosine" and steps is not None:
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    elif schedule not in ("cosine", "constant"):
        raise ValueError(f"schedule must be 'cosine' or 'constant', got {schedule!r}")

    history = History()
    start = time.perf_counter()
    bar = tqdm(total=steps, desc=desc, disable=not progress, leave=True)
    batches = _cycle(data)
    while True:
        if steps is not None and history.steps >= steps:
            break
        if seconds is not None and time.perf_counter() - start >= seconds:
            break
        out = step_fn(model, next(batches), device)
        parts = out if isinstance(out, dict) else {"loss": out}
        total = sum(parts.values())
        for name, value in {**parts, "total": total}.items():
            v = float(value.detach())
            if not math.isfinite(v):
                bar.close()
                raise FloatingPointError(f"loss {name!r} became {v} at step {history.steps + 1}; "
                                         "try a lower learning rate or check the inputs")
            history.losses.setdefault(name, []).append(v)
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
            bar.set_postfix(loss=f"{history.last():.3f}")
    bar.close()
    history.seconds = time.perf_counter() - start
    model.eval()
    return history


def shuffled_batches(*tensors: torch.Tensor, batch_size: int, seed: int = 0):
    """Endless mini-batches (tuples, one slice of each tensor) of data kept as tensors.

    Every pass over the data is a fresh shuffle (repeatable from `seed`); the last batch of a
    pass is dropped when it would be short. All tensors must have the same length [N, ...].
    """
    n = len(tensors[0]) if tensors else 0
    if not tensors or any(len(t) != n for t in tensors):
        raise ValueError(f"give one or more tensors of the same length, got lengths {[len(t) for t in tensors]}")
    if not 0 < batch_size <= n:
        raise ValueError(f"batch_size must be between 1 and the {n} samples, got {batch_size}")
    g = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(n, generator=g)
        for i in range(0, n - batch_size + 1, batch_size):
            index = order[i:i + batch_size]
            yield tuple(t[index] for t in tensors)


def _cycle(data):
    """Iterate over `data` forever (a fresh pass each time, so a shuffling loader reshuffles)."""
    while True:
        empty = True
        for batch in data:
            empty = False
            yield batch
        if empty:
            raise ValueError("the training data is empty")


# ---------------------------------------------------------------- checkpoints

def save(model: torch.nn.Module, path: str | Path, **meta) -> Path:
    """Save the model's weights, its class name and `meta` (e.g. config, metrics) to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": "cvlib-checkpoint-1", "model": type(model).__name__,
                "state_dict": model.state_dict(), "meta": meta}, path)
    return path


def load(model: torch.nn.Module, path: str | Path, map_location="cpu") -> dict:
    """Load weights saved by `save` into `model`; returns the saved meta.

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
    if not isinstance(ckpt, dict) or ckpt.get("format") != "cvlib-checkpoint-1":
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
    return ckpt["meta"]
