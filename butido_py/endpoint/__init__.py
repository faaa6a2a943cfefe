"""Docker endpoints: the adapter (`docker`) and, later, scheduling decisions."""
