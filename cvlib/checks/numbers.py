"""Numbers that configure models and functions: a real int or float (not bool, not NaN) in a range.

    check_number(0.5, "nms_thresh (an IoU)", low=0, high=1)          # -> 0.5
    check_numbers((12, 24), "sizes", integer=True, low=1)            # -> (12, 24)
"""
from __future__ import annotations

import math
import numbers

import torch


def check_number(value, name: str, *, integer: bool = False, low=None, high=None,
                 low_open: bool = False, high_open: bool = False):
    """`value` as a Python int (integer=True) or float, if it is a finite number in the range
    [low, high] (( or ) where low_open / high_open); else a TypeError or ValueError naming `name`."""
    kind = "an int" if integer else "a number"
    lo = "" if low is None else f"{low:g} <{'' if low_open else '='} "
    hi = "" if high is None else f" <{'' if high_open else '='} {high:g}"
    short = name.split(" (")[0]                 # "noise (the std of ...)" -> "noise" in the rule
    rule = f"{name} must be {kind}" + (f" with {lo}{short}{hi}" if lo or hi else "")
    ok_type = isinstance(value, numbers.Integral) if integer else isinstance(value, numbers.Real)
    if isinstance(value, bool) or not ok_type:
        raise TypeError(f"{rule}, got {value!r} ({type(value).__name__})")
    value = int(value) if integer else float(value)
    if not math.isfinite(value):
        raise ValueError(f"{rule}, got {value!r}: it must be finite")
    if (low is not None and (value < low or (low_open and value == low))) or \
            (high is not None and (value > high or (high_open and value == high))):
        raise ValueError(f"{rule}, got {value!r}")
    return value


def check_numbers(values, name: str, **rule) -> tuple:
    """A non-empty list or tuple of numbers, each as check_number(..., **rule) names it `name[i]`."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or torch.is_tensor(values):
        raise TypeError(f"{name} must be a tuple of numbers, got {values!r}; for one value write ({values!r},)")
    if len(values) == 0:
        raise ValueError(f"{name} must hold at least one value, got {values!r}")
    return tuple(check_number(v, f"{name}[{i}]", **rule) for i, v in enumerate(values))
