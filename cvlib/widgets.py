"""Stepper: step through a sequence of frames, live in Jupyter and in the static HTML book.

    Stepper(frames, titles=[...], texts=[...])

A frame is a matplotlib figure, an image array ([H, W], [H, W, 3]: float in 0..1 or uint8 in
0..255) or an image tensor [3, H, W] (float in 0..1 or uint8); 0..255 floats are an error. Frames are rendered to PNG once (JPEG with
image_format="jpeg": much smaller for photos and noisy scenes). The object shows itself
two ways at once (`_repr_mimebundle_`):
- in Jupyter, an ipywidgets view (previous / next buttons and a slider) driven by the kernel;
- as self-contained HTML with a few lines of JavaScript (the images inline, nothing loaded
  from elsewhere), which the built book shows, with no kernel and no network.
"""
from __future__ import annotations

import base64
import html
import io
import json
import uuid

import matplotlib.pyplot as plt
import numpy as np

from .viz import to_numpy_image


def encode_frame(frame, dpi: int = 80, image_format: str = "png") -> bytes:
    """PNG (or JPEG) bytes of a matplotlib figure (closed afterwards), an array or an image tensor."""
    if image_format not in ("png", "jpeg"):
        raise ValueError(f"image_format must be 'png' or 'jpeg', got {image_format!r}")
    buf = io.BytesIO()
    if isinstance(frame, plt.Figure):
        frame.savefig(buf, format=image_format, dpi=dpi, bbox_inches="tight")
        plt.close(frame)
        return buf.getvalue()
    shape = tuple(getattr(frame, "shape", ()))
    if len(shape) not in (2, 3):
        raise ValueError(f"a frame must be a figure, [H, W] or [H, W, 3] array, got shape {shape}")
    if isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3:
        array = frame                                   # e.g. viz.figure_to_array: stored as it is
    else:
        array = to_numpy_image(frame, name="frame")     # float in 0..1 or uint8, checked (cvlib.checks)
    grey = dict(cmap="gray", vmin=0, vmax=1) if array.ndim == 2 else {}   # 0..1 as black..white, not rescaled
    plt.imsave(buf, array, format=image_format, **grey)
    return buf.getvalue()


class Stepper:
    """Frames with a title and a short text each, stepped with previous / next and a slider."""

    def __init__(self, frames, titles=None, texts=None, width: int | None = None, dpi: int = 80,
                 image_format: str = "png"):
        frames = list(frames)
        if not frames:
            raise ValueError("a Stepper needs at least one frame")
        n = len(frames)
        self.titles = list(titles) if titles is not None else [f"step {i + 1} of {n}" for i in range(n)]
        self.texts = list(texts) if texts is not None else [""] * n
        if len(self.titles) != n or len(self.texts) != n:
            raise ValueError(f"{n} frames but {len(self.titles)} titles and {len(self.texts)} texts")
        self.image_format = image_format
        self.images = [encode_frame(f, dpi=dpi, image_format=image_format) for f in frames]
        self.width = width
        self.index = 0
        self._widget = None

    def __len__(self) -> int:
        return len(self.images)

    # ------------------------------------------------------------ static HTML + JavaScript
    def to_html(self) -> str:
        uid = "stepper-" + uuid.uuid4().hex[:10]
        data = json.dumps({
            "frames": [base64.b64encode(p).decode("ascii") for p in self.images],
            "titles": [html.escape(t) for t in self.titles],
            "texts": [html.escape(t) for t in self.texts],
        })
        style = f"max-width:{self.width}px;" if self.width else "max-width:100%;"
        n = len(self)
        return f"""<div class="cvlib-stepper" id="{uid}" style="border:1px solid #ccc;border-radius:6px;padding:8px;margin:6px 0;">
<div style="display:flex;gap:8px;align-items:center;margin-bottom:6px;">
<button class="prev" type="button">&#9664; previous</button>
<input class="slider" type="range" min="0" max="{n - 1}" value="0" step="1" style="flex:1;">
<button class="next" type="button">next &#9654;</button>
<span class="counter" style="font-family:monospace;">1 / {n}</span></div>
<div class="title" style="font-weight:bold;">{html.escape(self.titles[0])}</div>
<img class="frame" alt="frame" style="{style}display:block;margin:4px 0;" src="data:image/{self.image_format};base64,{base64.b64encode(self.images[0]).decode('ascii')}">
<div class="text">{html.escape(self.texts[0])}</div>
<script type="text/javascript">
(function() {{
  var d = {data};
  var root = document.getElementById("{uid}");
  var i = 0;
  function show(k) {{
    i = Math.max(0, Math.min(d.frames.length - 1, k));
    root.querySelector(".frame").src = "data:image/{self.image_format};base64," + d.frames[i];
    root.querySelector(".title").innerHTML = d.titles[i];
    root.querySelector(".text").innerHTML = d.texts[i];
    root.querySelector(".slider").value = i;
    root.querySelector(".counter").textContent = (i + 1) + " / " + d.frames.length;
  }}
  root.querySelector(".prev").onclick = function() {{ show(i - 1); }};
  root.querySelector(".next").onclick = function() {{ show(i + 1); }};
  root.querySelector(".slider").oninput = function(e) {{ show(parseInt(e.target.value)); }};
}})();
</script></div>"""

    # ------------------------------------------------------------ live ipywidgets view
    def widget(self):
        """The ipywidgets view; only the current frame lives in the widget state."""
        if self._widget is None:
            import ipywidgets as w
            n = len(self)
            title, text = w.HTML(), w.HTML()
            image = w.Image(format=self.image_format, layout=w.Layout(max_width=f"{self.width}px" if self.width else "100%"))
            slider = w.IntSlider(value=0, min=0, max=n - 1, description="step", continuous_update=True,
                                 readout=False, layout=w.Layout(flex="1"))
            counter = w.Label()
            prev = w.Button(description="previous", icon="chevron-left", layout=w.Layout(width="110px"))
            nxt = w.Button(description="next", icon="chevron-right", layout=w.Layout(width="110px"))

            def show(change=None):
                self.index = slider.value
                image.value = self.images[self.index]
                title.value = f"<b>{html.escape(self.titles[self.index])}</b>"
                text.value = html.escape(self.texts[self.index])
                counter.value = f"{self.index + 1} / {n}"

            slider.observe(show, names="value")
            prev.on_click(lambda _: setattr(slider, "value", max(0, slider.value - 1)))
            nxt.on_click(lambda _: setattr(slider, "value", min(n - 1, slider.value + 1)))
            show()
            self._widget = w.VBox([w.HBox([prev, slider, nxt, counter]), title, image, text])
        return self._widget

    def step(self, k: int = 1) -> int:
        """Move the live view by k frames (also usable without a display); returns the index."""
        view = self.widget()
        slider = view.children[0].children[1]
        slider.value = max(0, min(len(self) - 1, slider.value + k))
        return self.index

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.widget()._repr_mimebundle_(include=include, exclude=exclude) or {}
        bundle = dict(bundle)
        bundle["text/html"] = self.to_html()
        bundle["text/plain"] = f"Stepper({len(self)} frames: {self.titles[0]!r} ...)"
        return bundle
