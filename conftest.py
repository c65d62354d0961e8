"""pytest set-up shared by the unit tests and nbval over the chapters (kernels inherit the environment)."""
import json
import os
from pathlib import Path

import matplotlib

import cvlib  # noqa: F401  pins torch's CPU kernels to AVX2 for every test and kernel (cvlib/__init__.py)

matplotlib.use("Agg")
os.environ.setdefault("CVLIB_PROFILE", "quick")  # the stored outputs are the quick profile's
os.environ.setdefault("TQDM_DISABLE", "1")       # no progress bars in test logs


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: builds the book and opens it in headless Chromium")


def _stored_seconds(path: Path) -> float:
    """How long the chapter at `path` took when it was last executed (scripts/execute.py stores it)."""
    try:
        return float(json.loads(path.read_text())["metadata"]["cvlib"]["execution"]["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def pytest_collection_modifyitems(config, items):
    """Longest first, so that `make test`'s two workers finish together instead of one running the
    last long chapter alone: the browser test (it builds the book), then the chapters by their
    stored execution time, then the unit tests. The order within a file is kept (a stable sort)."""
    seconds = {}

    def rank(item):
        path = Path(str(item.fspath))
        if item.get_closest_marker("browser"):
            return (0, 0.0)
        if path.suffix == ".ipynb":
            if path not in seconds:
                seconds[path] = _stored_seconds(path)
            return (1, -seconds[path])
        return (2, 0.0)

    items.sort(key=rank)
