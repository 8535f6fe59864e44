"""Player events: contract -> intake (HTTP) -> publisher (Kafka) -> loader (ClickHouse)."""
