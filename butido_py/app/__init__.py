"""Application layer: one function per user operation, typed arguments in, results out."""
