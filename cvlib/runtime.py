"""Where and how big a chapter runs: device, profile, seed.

The "quick" profile is sized for a laptop CPU (each chapter in a few minutes), the
"full" profile for a GPU. `profile()` picks by the device; the environment variable
CVLIB_PROFILE=quick|full overrides it, and CVLIB_DEVICE=cpu|cuda|mps overrides the device.
"""
from __future__ import annotations

import os
import random

import numpy as np
import torch

PROFILES = ("quick", "full")


def device() -> torch.device:
    """The CUDA GPU if there is one (or CVLIB_DEVICE), else the CPU."""
    wanted = os.environ.get("CVLIB_DEVICE")
    if wanted:
        try:
            dev = torch.device(wanted)
        except RuntimeError as e:
            raise ValueError(f"CVLIB_DEVICE={wanted!r} is not a torch device (try cpu or cuda)") from e
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("CVLIB_DEVICE asks for cuda, but torch sees no CUDA GPU")
        return dev
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def profile() -> str:
    """"quick" on a CPU, "full" on a GPU; CVLIB_PROFILE=quick|full overrides."""
    wanted = os.environ.get("CVLIB_PROFILE")
    if wanted is not None:
        if wanted not in PROFILES:
            raise ValueError(f"CVLIB_PROFILE must be one of {PROFILES}, got {wanted!r}")
        return wanted
    return "full" if device().type == "cuda" else "quick"


def pick(quick, full):
    """The value for the current profile: `steps = pick(quick=300, full=5000)`."""
    return quick if profile() == "quick" else full


def seed(n: int = 0) -> None:
    """Seed Python, numpy and torch so that CPU runs repeat exactly."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"seed must be an int, got {n!r}")
    random.seed(n)
    np.random.seed(n % 2**32)
    torch.manual_seed(n)
