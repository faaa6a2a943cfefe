"""Package sources: the cache on disk (layout, verification) and downloading into it."""
