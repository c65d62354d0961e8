"""Region proposals: sliding windows and selective search.

    from cvlib.proposals import selective_search, sliding_windows
    boxes = selective_search(image)            # Tensor[N, 4], xyxy pixels, best first
"""
from .evaluate import opencv_selective_search, proposal_recall
from .selective import FAST, QUALITY, Hierarchy, Strategy, group, selective_search
from .windows import all_windows, sliding_windows, window_shapes

__all__ = ["selective_search", "group", "Strategy", "Hierarchy", "FAST", "QUALITY",
           "sliding_windows", "window_shapes", "all_windows", "proposal_recall", "opencv_selective_search"]
