"""Training recipes and sweep stores that chapters and scripts share. Import from the file:

    fcn.py   Part 1: how the FCN and upsampling chapters train their down / up FCNs, and the
             learning rates chosen for them on validation scenes (scripts/sweep_fcn_lr.py)
    faster_rcnn.py   Part 3: the Faster R-CNN chapter's scenes, budget and RPN settings, and its
             RoI pooler and learning rate chosen on validation scenes (scripts/sweep_faster_rcnn.py)
    sweeps.py   the sweep store both use: one sweep per recipe in a JSON file
"""
