"""Benchmarks: each prints its figures and ratios to a baseline measured in the same run."""
