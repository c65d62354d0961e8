"""What every semantic segmentation model of the book shares: data, loss, prediction, mIoU, cost.

    train = SemanticData.from_scenes(2000, seed=1, size=64)     # rendered once, kept as tensors
    history = fit(model, train.loader(batch_size=32), steps=400, step_fn=segmentation_step)
    result = evaluate(model, test)                                # held-out scenes: mIoU, per class

A segmentation model maps images [N, 3, H, W] to class scores [N, C, H, W] (C = 6: background
and the five object classes of Scenes). Its prediction is the arg-max over C per pixel.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from ..data import CLASSES, Scenes
from ..metrics import miou

NUM_CLASSES = len(CLASSES)


@dataclass
class SemanticData:
    """Scenes rendered once into tensors: images float [N, 3, H, W] in 0..1, labels int64 [N, H, W]."""
    images: Tensor
    labels: Tensor

    @classmethod
    def from_scenes(cls, n: int, seed: int, size: int = 64, indices: range | None = None,
                    **scene_options) -> "SemanticData":
        """Scenes(n, seed, size=size, **scene_options), all of them or those at `indices`."""
        scenes = Scenes(n, seed=seed, size=size, **scene_options)
        images, labels = zip(*((image, target["semantic"]) for image, target in
                               (scenes[i] for i in (indices if indices is not None else range(n)))))
        return cls(torch.stack(images), torch.stack(labels))

    def __len__(self) -> int:
        return len(self.images)

    def loader(self, batch_size: int = 32, seed: int = 0) -> DataLoader:
        """Shuffled batches (images, labels), repeatable from `seed`."""
        return DataLoader(TensorDataset(self.images, self.labels), batch_size=batch_size, shuffle=True,
                          drop_last=True, generator=torch.Generator().manual_seed(seed))

    def class_fractions(self) -> Tensor:
        """float [C]: the fraction of pixels of each class."""
        return torch.bincount(self.labels.flatten(), minlength=NUM_CLASSES).float() / self.labels.numel()


def segmentation_step(model: nn.Module, batch, device, weight: Tensor | None = None) -> Tensor:
    """Per-pixel cross-entropy of model(images) [N, C, H, W] against labels [N, H, W].

    weight: float [C], the weight of each class in the loss (`class_weights`), or None.
    Batches are flipped left-right at random (a scene mirrored is still a scene).
    Pass weights with `functools.partial(segmentation_step, weight=w)`.
    """
    images, labels = (t.to(device, non_blocking=True) for t in batch)
    if torch.rand(()) < 0.5:
        images, labels = images.flip(-1), labels.flip(-1)
    return F.cross_entropy(model(images), labels, weight=None if weight is None else weight.to(device))


def class_weights(data: SemanticData, power: float = 0.5) -> Tensor:
    """float [C]: weights proportional to (pixel fraction) ** -power, averaging 1 over the pixels.

    Background covers most pixels; mIoU counts every class equally, so rare classes get a
    larger weight in the loss (power 0.5: a class 100 times rarer weighs 10 times more).
    """
    fractions = data.class_fractions().clamp(min=1e-4)
    w = fractions ** -power
    return w / (w * fractions).sum()


@torch.no_grad()
def predict(model: nn.Module, images: Tensor, batch_size: int = 64) -> Tensor:
    """Class per pixel: images float [N, 3, H, W] -> int64 [N, H, W] (on the CPU)."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be [N, 3, H, W], got {tuple(images.shape)}")
    model.eval()
    device = next(model.parameters()).device
    out = [model(images[i:i + batch_size].to(device)).argmax(1).cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(out)


def evaluate(model: nn.Module, data: SemanticData, batch_size: int = 64) -> dict:
    """mIoU on `data` (held-out scenes): {"miou": float, "per_class": float [C], "pred": int64 [N, H, W]}."""
    pred = predict(model, data.images, batch_size)
    mean, per_class = miou(pred, data.labels, NUM_CLASSES)
    return {"miou": mean, "per_class": per_class, "pred": pred}


# ---------------------------------------------------------------- cost: multiply-adds, memory, time

def count_macs(model: nn.Module, images: Tensor) -> int:
    """Multiply-accumulates of the convolution and linear layers in one forward pass of `images`."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            per_output = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            total += output.numel() * per_output
        elif isinstance(module, nn.ConvTranspose2d):  # every input value stamps Cout x kh x kw products
            total += inputs[0].numel() * module.out_channels // module.groups * \
                module.kernel_size[0] * module.kernel_size[1]
        elif isinstance(module, nn.Linear):
            total += output.numel() * module.in_features

    _forward_with_hook(model, images, hook, [m for m in model.modules()
                                             if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))])
    return int(total)


def activation_bytes(model: nn.Module, images: Tensor) -> int:
    """Bytes of every layer's output in one forward pass: the activations training must keep."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        outputs = output if isinstance(output, tuple) else (output,)
        total += sum(o.numel() * o.element_size() for o in outputs if torch.is_tensor(o))

    _forward_with_hook(model, images, hook, [m for m in model.modules() if not list(m.children())])
    return int(total)


def _forward_with_hook(model: nn.Module, images: Tensor, hook, modules) -> None:
    """One no-grad eval forward pass of `images` with `hook` on each of `modules`, removed afterwards."""
    handles = [m.register_forward_hook(hook) for m in modules]
    try:
        with torch.no_grad():
            model.eval()(images)
    finally:
        for h in handles:
            h.remove()


def seconds_per_call(fn, *args, repeat: int = 3) -> float:
    """Best wall time of `repeat` calls of fn(*args) after one warm-up (synchronising a GPU)."""
    def sync():
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    fn(*args)
    best = float("inf")
    for _ in range(repeat):
        sync()
        start = time.perf_counter()
        fn(*args)
        sync()
        best = min(best, time.perf_counter() - start)
    return best


# ---------------------------------------------------------------- pictures and tables of results

def show_predictions(images: Tensor, truth: Tensor, predictions: dict[str, Tensor], n: int = 4, size: float = 1.9):
    """A figure: one row per image, columns image | ground truth | each model's prediction.

    images float [N, 3, H, W]; truth and each prediction int64 [N, H, W]; shows the first n.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from ..viz import CLASS_COLOURS, semantic_to_rgb, to_numpy_image

    cols = 2 + len(predictions)
    fig, axes = plt.subplots(n, cols, figsize=(size * cols, size * n + 0.4), squeeze=False)
    for r in range(n):
        panels = [to_numpy_image(images[r]), semantic_to_rgb(truth[r])]
        panels += [semantic_to_rgb(p[r]) for p in predictions.values()]
        for c, (ax, panel) in enumerate(zip(axes[r], panels)):
            ax.imshow(panel, interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(["image", "ground truth", *predictions][c], fontsize=9)
    handles = [Patch(color=CLASS_COLOURS[k], label=name) for k, name in enumerate(CLASSES)]
    fig.legend(handles=handles, loc="lower center", ncol=len(CLASSES), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


class Table:
    """A small table that shows itself as HTML in a notebook and as aligned text elsewhere.
    Floats show with 3 decimals, None as a dash (no value)."""

    def __init__(self, rows: list[list], header: list[str]):
        self.rows, self.header = rows, header

    @staticmethod
    def _fmt(v) -> str:
        if v is None:
            return "—"
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{self._fmt(v)}</td>" for v in row) + "</tr>" for row in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        cells = [self.header] + [[self._fmt(v) for v in row] for row in self.rows]
        widths = [max(len(r[k]) for r in cells) for k in range(len(self.header))]
        return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells)


def iou_table(results: dict[str, dict]) -> Table:
    """Per-class IoU and mIoU of several models: results maps a name to evaluate()'s dict."""
    rows = [[name, *[float(v) for v in r["per_class"]], float(r["miou"])] for name, r in results.items()]
    return Table(rows, ["model", *CLASSES, "mIoU"])
