"""Schemathesis over the three APIs of a running `ugc dev` (`make fuzz`)."""
