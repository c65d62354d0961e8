"""Training recipes and sweep stores that chapters and scripts share. Import from the file:

    fcn.py   Part 1: how the FCN and upsampling chapters train their down / up FCNs, and the
             learning rates chosen for them on validation scenes (scripts/sweep_fcn_lr.py)
"""
