"""ClickHouse: the sinks (embedded and server), opening them, the schema and its migrations.

The only package that knows ClickHouse; the loader writes and the analytics read
through `sink.EventSink`.
"""
