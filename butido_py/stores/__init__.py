"""File stores: staging (outputs of submits), release stores, and the source cache."""
