import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from cvlib import viz
from cvlib.data import Scenes
from cvlib.train import History
from cvlib.widgets import Stepper


def test_stepper_steps_live_and_renders_static_html():
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    frames = [fig, np.zeros((8, 8, 3)), torch.rand(3, 8, 8)]
    stepper = Stepper(frames, titles=["a", "b", "c"], texts=["first", "second", "third"])
    assert len(stepper) == 3 and stepper.index == 0
    assert stepper.step() == 1 and stepper.step(5) == 2 and stepper.step(-10) == 0
    html = stepper.to_html()
    assert html.count("data:image/png;base64,") >= 2 and "<script" in html and "button" in html
    bundle = stepper._repr_mimebundle_()
    assert "text/html" in bundle and "application/vnd.jupyter.widget-view+json" in bundle


def test_stepper_errors():
    with pytest.raises(ValueError, match="at least one frame"):
        Stepper([])
    with pytest.raises(ValueError, match="titles"):
        Stepper([np.zeros((4, 4))], titles=["a", "b"])
    with pytest.raises(ValueError, match="frame must be"):
        Stepper([np.zeros((2, 2, 2, 2))])
    with pytest.raises(ValueError, match="image_format"):
        Stepper([np.zeros((4, 4))], image_format="gif")


def test_draw_grid_and_losses():
    ds = Scenes(4, seed=1)
    images, targets = zip(*[ds[i] for i in range(4)])
    fig = viz.grid(images, targets, titles=list("abcd"), ncols=2)
    assert len(fig.axes) == 4
    array = viz.figure_to_array(fig)
    assert array.dtype == np.uint8 and array.ndim == 3
    history = History(losses={"total": list(np.linspace(2, 1, 30)), "box": list(np.linspace(1, 0.5, 30))})
    ax = viz.plot_losses(history)
    assert len(ax.lines) == 2
    plt.close("all")
    assert viz.semantic_to_rgb(targets[0]["semantic"]).shape == (128, 128, 3)


# ---------------------------------------------------------------- images in the wrong range or type (issue 15)

def dark_image():
    g = torch.Generator().manual_seed(0)
    return torch.rand(3, 12, 16, generator=g) * 0.5          # float in 0..0.5: a dark picture


def drawn(image):
    """What viz.draw puts on the axis: the imshow array."""
    ax = viz.draw(image)
    array = ax.get_images()[0].get_array()
    plt.close("all")
    return np.asarray(array)


def stepped(image):
    """The frame the Stepper stores, decoded again: float [H, W, 3 or 4] in 0..1."""
    import io
    png = Stepper([image]).images[0]
    return plt.imread(io.BytesIO(png))[..., :3]


ENTRY_POINTS = {"to_numpy_image": viz.to_numpy_image, "draw": drawn, "stepper": stepped}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("layout", ["tensor_chw", "array_hwc"])
def test_uint8_images_are_drawn_as_0_to_255(entry, layout):
    image = dark_image()
    as_uint8 = (image * 255).round().to(torch.uint8)
    if layout == "array_hwc":
        as_uint8 = as_uint8.permute(1, 2, 0).numpy()
    out, expected = ENTRY_POINTS[entry](as_uint8), ENTRY_POINTS[entry](image)
    assert out.shape[:2] == (12, 16) and out.max() < 0.6              # not all white
    assert np.abs(np.asarray(out, float) - np.asarray(expected, float)).max() <= 1 / 255 + 1e-6


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("case,error,match", [
    ("0_255_floats", ValueError, r"has values in \[0\.\d+, 127\.\d+\].*for 0\.\.255 values use image / 255"),
    ("nan", ValueError, r"holds 1 NaN or infinite values"),
    ("int64", TypeError, r"has dtype torch\.int64"),
    ("four_channels", ValueError, r"must have 1 or 3 channels"),
], ids=["0_255_floats", "nan", "int64", "four_channels"])
def test_images_that_would_draw_wrongly_are_errors(entry, case, error, match):
    image = dark_image()
    bad = {"0_255_floats": image * 255, "nan": image.clone().index_put_((torch.tensor(0),) * 3, torch.tensor(float("nan"))),
           "int64": (image * 255).long(), "four_channels": torch.rand(4, 12, 16)}[case]
    with pytest.raises(error, match=match):
        ENTRY_POINTS[entry](bad)
    plt.close("all")


def test_draw_checks_its_annotations():
    image = dark_image()
    with pytest.raises(ValueError, match=r"different numbers of objects: \{'boxes': 2, 'labels': 1\}"):
        viz.draw(image, {"boxes": torch.tensor([[1.0, 1, 5, 5], [2, 2, 6, 6]]), "labels": torch.tensor([1])})
    with pytest.raises(ValueError, match=r"ann\['boxes'\]\[0\] = \[nan, 1, 5, 5\] is not finite"):
        viz.draw(image, {"boxes": torch.tensor([[float("nan"), 1, 5, 5]]), "labels": torch.tensor([1])})
    with pytest.raises(TypeError, match="ann must be a dict"):
        viz.draw(image, [{"boxes": torch.zeros(0, 4)}])
    greyscale = viz.draw(image[:1], {"boxes": torch.tensor([[1.0, 1, 5, 5]]), "labels": torch.tensor([2])})
    assert len(greyscale.patches) == 1
    plt.close("all")


@pytest.mark.parametrize("call,error,match", [
    (lambda im: viz.grid([im, im], ncols=0), ValueError, r"ncols must be an int with 1 <= ncols, got 0"),
    (lambda im: viz.grid([im, im], [{}]), ValueError, r"2 images but 1 anns; give one per image"),
    (lambda im: viz.grid([im], titles=["a", "b"]), ValueError, r"1 images but 2 titles"),
    (lambda im: viz.semantic_to_rgb(torch.tensor([[-1, 2]])), ValueError, r"class indices >= 0, got -1"),
    (lambda im: viz.semantic_to_rgb(torch.rand(3, 4, 4)), TypeError, r"integer class indices.*argmax\(0\)"),
], ids=["grid_ncols_0", "grid_anns_count", "grid_titles_count", "semantic_negative", "semantic_scores"])
def test_grid_and_semantic_pictures_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call(dark_image())
    plt.close("all")
