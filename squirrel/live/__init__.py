"""Live values: cache entries on the wire, the shared broadcaster, SSE framing, the WebSocket session and
the Redis bridge. Imports squirrel.pv for values, never squirrel.epics."""

__all__ = ["broadcaster", "entries", "redis_bridge", "sse", "ws"]
