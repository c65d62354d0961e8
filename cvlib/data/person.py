"""The stick-figure person of the Scenes dataset: 14 joints, a pose vocabulary, a mask.

Joints follow the lecture's pose example (14 points, as in the LSP benchmark):
head, neck, shoulders, elbows, wrists, hips, knees, ankles. "Left" is the person's
left, which is the viewer's right in an image of a person facing the camera.

Coordinates are continuous pixel coordinates: pixel (row i, column j) covers
[j, j+1) x [i, i+1) and its centre is (j + 0.5, i + 0.5).
"""
from __future__ import annotations

import numpy as np

from .raster import inside_polygon, segment_distance

JOINTS = (
    "head", "neck",
    "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle",
    "left_hip", "left_knee", "left_ankle",
)
J = {name: i for i, name in enumerate(JOINTS)}

# Bones of the skeleton, as pairs of joint indices (drawn as limbs).
SKELETON = (
    (J["head"], J["neck"]),
    (J["neck"], J["right_shoulder"]), (J["right_shoulder"], J["right_elbow"]), (J["right_elbow"], J["right_wrist"]),
    (J["neck"], J["left_shoulder"]), (J["left_shoulder"], J["left_elbow"]), (J["left_elbow"], J["left_wrist"]),
    (J["right_shoulder"], J["right_hip"]), (J["left_shoulder"], J["left_hip"]), (J["right_hip"], J["left_hip"]),
    (J["right_hip"], J["right_knee"]), (J["right_knee"], J["right_ankle"]),
    (J["left_hip"], J["left_knee"]), (J["left_knee"], J["left_ankle"]),
)

# Pose vocabulary: angles in degrees, measured from "hanging straight down",
# positive = away from the body. (upper arm, forearm) per arm, (thigh, shin) per leg.
POSES = {
    "standing":          dict(r_arm=(15, 10),   l_arm=(15, 10),   r_leg=(6, 0),   l_leg=(6, 0)),
    "raising both arms": dict(r_arm=(155, 170), l_arm=(155, 170), r_leg=(6, 0),   l_leg=(6, 0)),
    "raising left arm":  dict(r_arm=(15, 10),   l_arm=(155, 170), r_leg=(6, 0),   l_leg=(6, 0)),
    "raising right arm": dict(r_arm=(155, 170), l_arm=(15, 10),   r_leg=(6, 0),   l_leg=(6, 0)),
    "stretching arms out": dict(r_arm=(90, 90), l_arm=(90, 90),   r_leg=(8, 0),   l_leg=(8, 0)),
    "jumping":           dict(r_arm=(130, 150), l_arm=(130, 150), r_leg=(30, 20), l_leg=(30, 20)),
    "hands on hips":     dict(r_arm=(40, -60),  l_arm=(40, -60),  r_leg=(10, 0),  l_leg=(10, 0)),
    "kicking":           dict(r_arm=(45, 30),   l_arm=(45, 30),   r_leg=(70, 60), l_leg=(0, 0)),
}

# Lengths as fractions of the figure's height.
_HEAD_R, _NECK_TO_PELVIS, _SHOULDER, _HIP = 0.08, 0.33, 0.12, 0.08
_UPPER_ARM, _FOREARM, _THIGH, _SHIN = 0.17, 0.16, 0.21, 0.21


def person_joints(cx: float, cy: float, height: float, pose: str, rng: np.random.Generator,
                  jitter: float = 12.0) -> np.ndarray:
    """Joint positions of a figure of `height` pixels centred at (cx, cy).

    Returns: float array [14, 2] of (x, y) pixel coordinates, in `JOINTS` order.
    Angles of the named pose get uniform noise of +-`jitter` degrees.
    """
    a = {k: np.radians(np.asarray(v, float) + rng.uniform(-jitter, jitter, 2)) for k, v in POSES[pose].items()}
    h = height
    lean = rng.uniform(-0.04, 0.04) * h
    pelvis = np.array([cx, cy + 0.12 * h])
    neck = pelvis + [lean, -_NECK_TO_PELVIS * h]
    head = neck + [lean * 0.5, -(_HEAD_R + 0.04) * h]
    pts = np.zeros((14, 2))
    pts[J["head"]], pts[J["neck"]] = head, neck

    def chain(start, side, angles, l1, l2):
        # side = -1 for the figure's right (viewer's left), +1 for its left.
        d1 = np.array([side * np.sin(angles[0]), np.cos(angles[0])])
        mid = start + l1 * h * d1
        d2 = np.array([side * np.sin(angles[0] + angles[1]), np.cos(angles[0] + angles[1])])
        return mid, mid + l2 * h * d2

    for side, name in ((-1, "right"), (+1, "left")):
        shoulder = neck + [side * _SHOULDER * h, 0.03 * h]
        hip = pelvis + [side * _HIP * h, 0.0]
        elbow, wrist = chain(shoulder, side, a[name[0] + "_arm"], _UPPER_ARM, _FOREARM)
        knee, ankle = chain(hip, side, a[name[0] + "_leg"], _THIGH, _SHIN)
        for joint, p in (("shoulder", shoulder), ("elbow", elbow), ("wrist", wrist),
                         ("hip", hip), ("knee", knee), ("ankle", ankle)):
            pts[J[f"{name}_{joint}"]] = p
    return pts


def person_mask(joints: np.ndarray, height: float, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Pixels covered by the figure: a head disc and a thick line per bone.

    joints: [14, 2] (x, y); px, py: pixel-centre coordinate grids [H, W]. Returns bool [H, W].
    """
    limb = max(1.6, 0.055 * height)
    mask = np.hypot(px - joints[J["head"], 0], py - joints[J["head"], 1]) <= _HEAD_R * height
    for i, j in SKELETON[1:]:
        mask |= segment_distance(px, py, joints[i], joints[j]) <= limb / 2
    # A filled torso between shoulders and hips.
    torso = [J["right_shoulder"], J["left_shoulder"], J["left_hip"], J["right_hip"]]
    mask |= inside_polygon(px, py, joints[torso])
    return mask
