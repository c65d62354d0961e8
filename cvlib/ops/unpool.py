"""Placeholder until this module is written (see the open issues)."""


def nearest_unpool(*args, **kwargs):
    raise NotImplementedError("cvlib.ops.nearest_unpool is not written yet")


def bed_of_nails_unpool(*args, **kwargs):
    raise NotImplementedError("cvlib.ops.bed_of_nails_unpool is not written yet")


def max_unpool(*args, **kwargs):
    raise NotImplementedError("cvlib.ops.max_unpool is not written yet")


def transpose_conv2d(*args, **kwargs):
    raise NotImplementedError("cvlib.ops.transpose_conv2d is not written yet")
