"""Training recipes and sweep stores that chapters and scripts share. Import from the file:

    fcn.py   Part 1: how the FCN and upsampling chapters train their down / up FCNs and the
             full-resolution network, and the learning rates chosen for them on validation scenes
             (scripts/sweep_fcn_lr.py, scripts/sweep_full_res_lr.py)
    localization.py   Part 2: the localization chapter's scenes, budget and backbone, and the box loss's
             weight chosen on validation scenes (scripts/sweep_localization.py)
    pose.py   Part 2: the pose chapter's people, budget and backbone, and each head's learning rate and
             the head chosen on validation people (scripts/sweep_pose.py)
    sliding_window.py   Part 3: the detection sliding-window chapter's scenes and detector training,
             and its test mAP from other seeds (scripts/sliding_window_seeds.py)
    faster_rcnn.py   Part 3: the Faster R-CNN chapter's scenes, budget and RPN settings, and its
             RoI pooler and learning rate chosen on validation scenes (scripts/sweep_faster_rcnn.py)
    one_stage.py   Part 3: the YOLO / SSD chapter's scenes and budget, YOLO's grid cell and the learning
             rates chosen on validation scenes (scripts/sweep_one_stage.py)
    rcnn_family.py   Part 3: the R-CNN family trained once for the lecture's speed table
             (scripts/train_rcnn_family.py), and the R-CNN chapters' selective search
    densecap.py   Part 4: the dense-captioning recipe (Faster R-CNN's scenes and RPN, more training
             scenes), its training, and the learning rate and beam chosen on validation scenes
             (scripts/sweep_densecap.py)
    mask_rcnn.py   Part 5: the Mask R-CNN chapter's recipe (Faster R-CNN's, plus the mask head), both
             poolers trained side by side
    keypoint_rcnn.py   Part 5: the keypoint chapter's scenes and Keypoint R-CNN (the Mask R-CNN recipe with
             the keypoint branch, its RoI growth chosen on validation scenes: scripts/sweep_keypoint_rcnn.py),
             and Part 2's regressor on crops of the same people, both trained side by side
    sweeps.py   the sweep store the recipes use: one sweep per recipe in a JSON file
    splits.py   a recipe's train / validation / test scenes, each split from its own seed
    parallel.py   independent trainings side by side, one process each on a CPU
"""
