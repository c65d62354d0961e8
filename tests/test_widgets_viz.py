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
