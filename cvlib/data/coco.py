"""Export a detection dataset to the COCO format, so pycocotools (and COCO tools) read it."""
from __future__ import annotations

import numpy as np

from ..progress import progress_bar
from .person import JOINTS, SKELETON
from .scenes import CLASSES


def to_coco(dataset, progress: bool = False) -> dict:
    """COCO dict of `dataset` (items (image, target) as Scenes gives them).

    Boxes become [x, y, w, h]; masks become RLE (counts as str); keypoints a flat
    list [x1, y1, v1, ...] with COCO's visibility (2 visible, 1 occluded, 0 unlabelled).
    Category ids are the Scenes label ids (background, id 0, is not a category).
    """
    from pycocotools import mask as mask_utils

    images, annotations = [], []
    for index in progress_bar(range(len(dataset)), desc="to_coco", enabled=progress):
        image, target = dataset[index]
        h, w = image.shape[-2:]
        image_id = int(target.get("image_id", index))
        images.append({"id": image_id, "width": int(w), "height": int(h), "file_name": f"{image_id:06d}.png"})
        masks = target["masks"].numpy()
        for k in range(len(target["labels"])):
            x1, y1, x2, y2 = target["boxes"][k].tolist()
            rle = mask_utils.encode(np.asfortranarray(masks[k]))
            rle["counts"] = rle["counts"].decode("ascii")
            kp = target["keypoints"][k]
            annotations.append({
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": int(target["labels"][k]),
                "bbox": [x1, y1, x2 - x1, y2 - y1],
                "area": float(masks[k].sum()),
                "segmentation": rle,
                "iscrowd": 0,
                "keypoints": [round(float(v), 2) for v in kp.flatten()],
                "num_keypoints": int((kp[:, 2] > 0).sum()),
                "caption": target["captions"][k],
            })
    categories = [{"id": i, "name": name, "supercategory": "shape" if name != "person" else "person"}
                  for i, name in enumerate(CLASSES) if i > 0]
    for c in categories:
        if c["name"] == "person":
            c["keypoints"] = list(JOINTS)
            c["skeleton"] = [[a + 1, b + 1] for a, b in SKELETON]  # COCO counts joints from 1
    return {"info": {"description": "Scenes (synthetic), cvlib"}, "images": images,
            "annotations": annotations, "categories": categories}
