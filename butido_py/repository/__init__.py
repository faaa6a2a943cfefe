"""The package repository: pkg.toml layers read from a pinned git commit."""
