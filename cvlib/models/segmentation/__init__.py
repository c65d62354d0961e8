"""Part 1, semantic segmentation: a class for every pixel. Import from the file:

    semantic.py          the task: SemanticData (scenes as tensors), the per-pixel loss, predict, evaluate (mIoU)
    patch_classifier.py  sliding window: classify the patch around every pixel, and its convolutional rewrite
    fcn.py               fully convolutional networks: full resolution, and down / up with four upsamplings
"""
