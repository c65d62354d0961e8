"""Models of the book: one package per part of the lecture (segmentation, localization, detection),
one file per model. Import from the file: `from cvlib.models.segmentation.fcn import DownUpFCN`."""
