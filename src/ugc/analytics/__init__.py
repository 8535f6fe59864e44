"""The read side of the events: viewing analytics from ClickHouse."""
