"""HTTP layer: Litestar controllers, guards and error rendering. No SQL, no CA calls."""
