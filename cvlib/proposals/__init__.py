"""Region proposals: sliding windows and selective search."""
