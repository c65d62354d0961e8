"""Readable reference ops in plain tensor code, each tested equal to its torch / torchvision kernel.

Models run on the fast kernels; the book shows that both agree. One module here is for speed, not
reading: `roi_align_grad`, torchvision's RoIAlign with a faster backward, which the RoI poolers use.
"""
from .boxes import BoxCoder, box_iou
from .nms import nms
from .roi import roi_align, roi_pool
from .unpool import bed_of_nails_unpool, max_unpool, nearest_unpool, transpose_conv2d

__all__ = ["BoxCoder", "box_iou", "nms", "roi_pool", "roi_align",
           "nearest_unpool", "bed_of_nails_unpool", "max_unpool", "transpose_conv2d"]
