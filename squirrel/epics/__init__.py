"""Channel Access through libca (epicscorelibs), and nothing else: the CA context, channels, batched
reads and writes (`ca`), the monitor that keeps the PV cache, and the per-circuit breaker. How the
monitor follows the registry is shared with the PVA monitor (squirrel.pv.RegistryFollower).

Public modules: `ca` (read_many, write_many), `monitor` (Monitor), `breaker` (BreakerSet). The rest
(`_context`, `_channels`, `_batch`, `_decoders`, `_monitor_watch`, `_values`) are implementation,
imported only inside this package.
"""

__all__ = ["breaker", "ca", "monitor"]
