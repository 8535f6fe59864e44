"""HTTP routes of the content API, a router per resource: parse, call the store,
answer. Identity is always the token's."""
