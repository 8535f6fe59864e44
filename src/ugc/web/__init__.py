"""What every ugc HTTP service shares: the kit of a service (verifier, problems,
observer), dependencies, direct routes for hot paths, OpenAPI, health, assembly
and the server that runs them."""
