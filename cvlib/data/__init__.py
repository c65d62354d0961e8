"""Data for every chapter: the synthetic Scenes, real photos from installed packages, COCO export."""
from . import cache
from .coco import to_coco
from .person import JOINTS, POSES, SKELETON
from .scenes import CLASSES, COLOURS, SHAPES, Scenes, ScenesConfig
from . import photos

__all__ = ["Scenes", "ScenesConfig", "CLASSES", "SHAPES", "COLOURS", "JOINTS", "SKELETON", "POSES",
           "to_coco", "photos", "cache"]
