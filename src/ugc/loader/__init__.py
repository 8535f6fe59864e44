"""The loader: the events topic into ClickHouse, a batch at a time, effectively once.

collect -> batch -> insert (retrying) / isolate (bad rows to dead letters) ->
commits (in order); `loader` runs them, `kafka` and `process` wire it up.
"""
