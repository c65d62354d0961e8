"""Models of the book, one file per model (import from the file: `from cvlib.models.fcn import FCN`)."""
