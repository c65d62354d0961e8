"""Placeholder until this module is written (see the open issues)."""


def box_iou(*args, **kwargs):
    raise NotImplementedError("cvlib.ops.box_iou is not written yet")
