"""The storage study, re-runnable on any machine: `ugc research events|content|render`.

The seed chose ClickHouse for events and MongoDB for viewers' content on figures
that cannot be trusted (docs/research). This package redoes its studies on the
project's own code — the warehouse schema, the analytics queries, the content
stores — against PostgreSQL and DuckDB, with the same data in every store, and
writes the figures to docs/research/results; `report` turns them into the
report and its plots. Its drivers (psycopg, duckdb, pyarrow, matplotlib) are the
`research` extra: the product does not import this package.
"""
