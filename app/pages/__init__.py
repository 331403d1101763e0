"""The main window's pages, one module each: a thin view over one core room."""
