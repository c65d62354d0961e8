import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("TQDM_DISABLE", "1")


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: builds the book and opens it in headless Chromium")
    config.addinivalue_line("markers", "notebooks: nbval over the chapters")
