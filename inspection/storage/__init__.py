"""Results store (SQLite, WAL) and image archive, written by one writer thread."""
