"""Placeholder until this module is written (see the open issues)."""


def nms(*args, **kwargs):
    raise NotImplementedError("cvlib.ops.nms is not written yet")
