"""Helper modules (no fixtures) more than one test package imports: databases, seeds, workspaces,
git repositories."""
