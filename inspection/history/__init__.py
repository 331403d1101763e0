"""Finding parts: filters, paged listing, one part's full record, and CSV of a selection."""
