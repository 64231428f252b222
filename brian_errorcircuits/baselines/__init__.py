"""Baselines trained in the same harness as the circuits."""
