"""Packages: the model, versions and constraints, dependencies and their conditions (pure)."""
