"""Domain services, one module per resource; called by handlers/ and ws/ alike."""
