"""Live values: cache entries on the wire, the shared broadcaster, SSE framing and the Redis bridge."""
