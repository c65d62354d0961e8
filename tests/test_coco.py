"""COCO export round trip through pycocotools."""
import numpy as np
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from cvlib.data import Scenes, to_coco


def test_round_trip_through_pycocotools():
    ds = Scenes(12, seed=5, n_objects=(2, 4))
    coco = COCO()
    coco.dataset = to_coco(ds)
    coco.createIndex()
    assert len(coco.getImgIds()) == 12
    total = 0
    for image_id in coco.getImgIds():
        _, target = ds[image_id]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        assert len(anns) == len(target["labels"])
        for k, ann in enumerate(anns):
            assert ann["category_id"] == int(target["labels"][k])
            np.testing.assert_array_equal(coco.annToMask(ann), target["masks"][k].numpy())
            x, y, w, h = ann["bbox"]
            assert [x, y, x + w, y + h] == target["boxes"][k].tolist()
            assert np.allclose(np.array(ann["keypoints"]).reshape(14, 3), target["keypoints"][k].numpy(), atol=0.01)
            assert ann["caption"] == target["captions"][k]
            total += 1
    assert total == sum(len(ds[i][1]["labels"]) for i in range(12))


def test_ground_truth_scores_perfect_in_cocoeval():
    ds = Scenes(8, seed=6)
    coco = COCO()
    coco.dataset = to_coco(ds)
    coco.createIndex()
    detections = [dict(image_id=a["image_id"], category_id=a["category_id"], bbox=a["bbox"], score=1.0)
                  for a in coco.dataset["annotations"]]
    evaluator = COCOeval(coco, coco.loadRes(detections), "bbox")
    evaluator.evaluate(), evaluator.accumulate()
    evaluator.summarize()
    assert evaluator.stats[0] > 0.99
