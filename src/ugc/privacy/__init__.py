"""A viewer's data rights across the stores: export everything, erase everything."""
