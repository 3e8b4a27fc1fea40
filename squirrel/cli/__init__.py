"""The `squirrel` command: server verbs (serve, migrate, keys, demo, sim-ioc, bench) and, in `ops`,
the operator verbs built on `squirrel.client`."""
