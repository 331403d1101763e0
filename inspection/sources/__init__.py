"""Image sources: one module per kind of camera or file, behind the Source protocol in base.py."""
