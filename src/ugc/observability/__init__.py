"""Logs, request ids, errors and metrics for every process."""
