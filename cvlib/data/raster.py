"""Rasterising shapes on a pixel grid, vectorised with numpy.

All functions take pixel-centre coordinate grids `px, py` (float [H, W], pixel
(i, j) has centre (j + 0.5, i + 0.5)) and return bool masks or distances [H, W].
"""
from __future__ import annotations

import numpy as np


def pixel_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates: px, py float [H, W]."""
    py, px = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    return px, py


def inside_polygon(px, py, poly) -> np.ndarray:
    """Pixels inside a convex polygon. poly: [K, 2] vertices (x, y) in either orientation."""
    poly = np.asarray(poly, float)
    x, y = poly[:, 0], poly[:, 1]
    orientation = np.sign(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)) or 1.0
    inside = np.ones(px.shape, bool)
    for (x0, y0), (x1, y1) in zip(poly, np.roll(poly, -1, axis=0)):
        inside &= ((x1 - x0) * (py - y0) - (y1 - y0) * (px - x0)) * orientation >= 0
    return inside


def segment_distance(px, py, a, b) -> np.ndarray:
    """Distance from each pixel centre to the segment from a to b (points (x, y))."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    ab = b - a
    t = ((px - a[0]) * ab[0] + (py - a[1]) * ab[1]) / max(float(ab @ ab), 1e-9)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(px - (a[0] + t * ab[0]), py - (a[1] + t * ab[1]))


def rotate(points, centre, degrees: float) -> np.ndarray:
    """Rotate points [K, 2] about centre (x, y) by `degrees` (image coordinates, y down)."""
    t = np.radians(degrees)
    r = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    return (np.asarray(points, float) - centre) @ r.T + centre
