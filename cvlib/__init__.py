"""cvlib: the models, ops, data and widgets of the course book on detection and segmentation."""
__version__ = "0.1.0"
