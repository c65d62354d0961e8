"""The book's progress bar: tqdm's, redrawn at most once a second, and off where TQDM_DISABLE is set.

    for image in progress_bar(images, desc="proposals"): ...
    bar = progress_bar(total=steps, desc="train"); bar.update(1); bar.set_postfix(loss=0.1, refresh=False)

In Jupyter a bar is a widget, and every redraw sends the front end two or three widget messages.
nbval reads none of a cell's messages until the cell has finished, and the kernel's ZMQ queue drops
messages beyond its high-water mark; when the dropped one is the cell's last ("idle"), nbval fails with
"Timeout of 5 seconds exceeded waiting for output". tqdm's default of ten redraws a second, and a
postfix that forces one, made a long training cell send thousands. Two rules keep every cell small:
one redraw a second at most (`MININTERVAL`), and no bar at all where TQDM_DISABLE is set (the test
set-up sets it; tqdm's notebook bar ignores that variable, so it is read here).
"""
from __future__ import annotations

import os

from tqdm.auto import tqdm

MININTERVAL = 1.0  # seconds between redraws


def disabled_by_environment() -> bool:
    """True when TQDM_DISABLE is set to anything but "", "0" or "false"."""
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false")


def progress_bar(iterable=None, *, total: int | None = None, desc: str | None = None,
                 enabled: bool = True) -> tqdm:
    """A tqdm bar over `iterable` (or of `total` steps, advanced with .update), redrawn at most once a
    second; a silent pass-through when `enabled` is False or TQDM_DISABLE is set."""
    disable = not enabled or disabled_by_environment()
    return tqdm(iterable, total=total, desc=desc, disable=disable, mininterval=MININTERVAL, leave=True)
