"""Shift reports: the period and its figures, aggregation, writers (xlsx, csv, pdf), export at shift end."""
