"""pytest set-up shared by the unit tests and nbval over the chapters (kernels inherit the environment)."""
import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("CVLIB_PROFILE", "quick")  # the stored outputs are the quick profile's
os.environ.setdefault("TQDM_DISABLE", "1")       # no progress bars in test logs


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: builds the book and opens it in headless Chromium")
