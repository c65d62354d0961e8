"""What a model costs: multiply-adds, activation memory, time per call (every speed table uses it).

    macs = count_macs(model, images)                 # conv, transpose-conv and linear multiply-adds
    per_layer = macs_by_layer(model, images)         # the same, {layer name: multiply-adds}
    nbytes = activation_bytes(model, images)         # every layer's output in one forward pass
    seconds = median_seconds(lambda: model([image]), repeat=5)

The first two count one no-grad forward pass in eval mode through forward hooks. Timings are
medians over repeats after a warm-up call, with the GPU synchronised, so that a loaded machine
or a first call that allocates memory does not decide a table.
"""
from __future__ import annotations

import statistics
import time
from typing import Callable

import torch
from torch import Tensor, nn

# ---------------------------------------------------------------- multiply-adds and memory


def count_macs(model: nn.Module, images: Tensor) -> int:
    """Multiply-accumulates of the convolution and linear layers in one forward pass of `images`."""
    return sum(macs_by_layer(model, images).values())


def macs_by_layer(model: nn.Module, images: Tensor) -> dict[str, int]:
    """{layer name: multiply-accumulates} of each convolution, transpose-convolution and linear layer
    in one forward pass of `images`, in the order they ran (a layer run twice counts twice)."""
    macs: dict[nn.Module, int] = {}

    def hook(module, inputs, output):
        kh, kw = getattr(module, "kernel_size", (1, 1))
        if isinstance(module, nn.Conv2d):             # every output value: C_in / groups x kh x kw products
            n = output.numel() * module.in_channels // module.groups * kh * kw
        elif isinstance(module, nn.ConvTranspose2d):  # every input value stamps C_out / groups x kh x kw
            n = inputs[0].numel() * module.out_channels // module.groups * kh * kw
        else:                                         # nn.Linear
            n = output.numel() * module.in_features
        macs[module] = macs.get(module, 0) + int(n)

    _forward_with_hook(model, images, hook, lambda m: isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)))
    names = {m: name for name, m in model.named_modules()}
    return {names[m]: n for m, n in macs.items()}


def activation_bytes(model: nn.Module, images: Tensor) -> int:
    """Bytes of every layer's output in one forward pass: the activations training must keep."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        outputs = output if isinstance(output, tuple) else (output,)
        total += sum(o.numel() * o.element_size() for o in outputs if torch.is_tensor(o))

    _forward_with_hook(model, images, hook, lambda m: not list(m.children()))   # the leaf modules
    return int(total)


def _forward_with_hook(model: nn.Module, images: Tensor, hook, hooked: Callable[[nn.Module], bool]) -> None:
    """One no-grad eval forward pass of `images` with `hook` on each module of `model` for which
    `hooked(module)` is true; the hooks are removed afterwards."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    handles = [m.register_forward_hook(hook) for m in model.modules() if hooked(m)]
    try:
        with torch.no_grad():
            model.eval()(images)
    finally:
        for h in handles:
            h.remove()


# ---------------------------------------------------------------- time


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed_call(fn: Callable, *args, **kwargs):
    """(seconds, result) of one call fn(*args, **kwargs), the GPU synchronised before and after."""
    _sync()
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    _sync()
    return time.perf_counter() - start, out


def median_seconds(fn: Callable, *args, repeat: int = 5, warmup: int = 1, **kwargs) -> float:
    """Median wall-clock seconds of fn(*args, **kwargs) over `repeat` calls, after `warmup` calls."""
    if repeat < 1 or warmup < 0:
        raise ValueError(f"median_seconds needs repeat >= 1 and warmup >= 0, got {repeat}, {warmup}")
    for _ in range(warmup):
        fn(*args, **kwargs)
    return statistics.median(timed_call(fn, *args, **kwargs)[0] for _ in range(repeat))
