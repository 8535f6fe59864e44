"""Viewers' content on MongoDB: models -> store (the only BSON) -> api -> app."""
