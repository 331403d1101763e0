"""Finding parts: filters, paging, one part's full record (the read side of storage)."""
