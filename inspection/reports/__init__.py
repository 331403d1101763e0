"""Shift reports: aggregation and writers (xlsx, csv)."""
