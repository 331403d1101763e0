"""`lineside eval ...` and `lineside bench`: measuring the tools and the pipeline."""
