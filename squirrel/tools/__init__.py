"""Tools outside the runtime: the caproto and p4p simulators and the `squirrel bench` harness."""
