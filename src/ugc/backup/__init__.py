"""Backups of what the platform keeps, and their restore (`ugc backup`, `ugc restore`).

A backup is a folder: `manifest.json` (when, which release, the schema, and the
count of every table and collection), `mongo/` (each collection of the content
database as concatenated BSON, read at one point in time) and, for the embedded
warehouse, `clickhouse/` (ClickHouse's own `BACKUP`). On a ClickHouse server the
warehouse is backed up by the servers themselves to their shared backup disk
(`UGC_CLICKHOUSE_BACKUP_DISK`) under the same name, which the manifest records.
A restore checks every count against the manifest.
"""
