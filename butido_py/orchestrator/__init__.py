"""Running a build plan: the DAG runner and the job key (DESIGN.md §3)."""
