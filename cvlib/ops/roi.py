"""Placeholder until this module is written (see the open issues)."""


def roi_pool(*args, **kwargs):
    raise NotImplementedError("cvlib.ops.roi_pool is not written yet")


def roi_align(*args, **kwargs):
    raise NotImplementedError("cvlib.ops.roi_align is not written yet")
