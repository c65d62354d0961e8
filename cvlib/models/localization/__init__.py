"""Part 2, classification + localization: one object per image. Import from the file:

    localizer.py   a class and a box per image: class head + (class-specific) box head, multi-task loss, fit step
    pose.py        a person's 14 joints regressed as (x, y): fc or soft-argmax head, L2 loss
    inputs.py      what both take: a batch of equal-sized images, targets with one object per image
"""
