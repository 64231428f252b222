"""Tasks: data sets and environments, plain numpy (no Brian2)."""
