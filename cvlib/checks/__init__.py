"""The one input check that every public entry point of cvlib calls: images, targets, predictions,
proposals, and the numbers that configure them.

Contract (torchvision's detection format):
    images     a non-empty list (or tuple) of Tensor[C, H, W], C = 3 by default, float32 (or the
               model's dtype), finite, values in 0..1 (tolerance 1e-3), all on one device; a batch
               Tensor[B, C, H, W] where a model documents one (check_batch); uint8 0..255 only where
               a function documents it (uint8=True: it is converted to float / 255)
    targets    one dict per image with at least `keys` (default "boxes" and "labels"):
        boxes      floating Tensor[N, 4], xyxy in pixels, finite, x1 < x2 and y1 < y2, inside the
                   image: 0 <= x1, x2 <= W, 0 <= y1, y2 <= H, each with a tolerance of 1 pixel
        labels     int64 Tensor[N], 1 <= label < num_classes (0 is background, never an object)
        masks      Tensor[N, H, W], the size of its image, uint8 or bool 0/1, or floating in 0..1
                   (a 0/255 mask is refused: the mask loss wants 0..1)              (if in keys)
        keypoints  floating Tensor[N, K, 3] (x, y, visibility), finite, K = num_keypoints where
                   given; visibility 0 (not labelled), 1 (occluded) or 2 (visible)  (if in keys)
        captions   list of N str                                                     (if in keys)
    predictions one dict per image: boxes floating Tensor[N, 4] finite (any order of corners: a
               model may predict a flipped box, which overlaps nothing), scores floating [N] finite,
               labels int64 [N] >= 0 (and masks [N, H, W] if in keys)
    proposals  one floating, finite Tensor[R_i, 4] (xyxy in pixels) per image
    numbers    check_number: a real int or float (not bool, not NaN), inside the stated range

A bad input raises TypeError (wrong type or dtype) or ValueError (wrong shape or value) whose
message names the argument and index, e.g. "targets[2]['boxes'][0]", the rule it breaks and the fix.
Zero objects are fine: boxes Tensor[0, 4] and labels Tensor[0].

numbers.py (check_number, check_numbers), images.py (check_image, check_images, check_batch),
targets.py (check_boxes, check_targets and its mask and keypoint rules, check_predictions,
check_proposals, check_detector_inputs: the detection contract's one call).
"""
from .images import RANGE_TOL, check_batch, check_image, check_images
from .numbers import check_number, check_numbers
from .targets import (BOX_TOL, check_boxes, check_detector_inputs, check_predictions, check_proposals,
                      check_targets)

__all__ = ["check_number", "check_numbers", "check_image", "check_images", "check_batch", "check_boxes",
           "check_targets", "check_predictions", "check_proposals", "check_detector_inputs", "RANGE_TOL",
           "BOX_TOL"]
