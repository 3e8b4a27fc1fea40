"""Channel Access through libca (epicscorelibs), and nothing else: the CA context, channels, batched
reads and writes (`ca`), the monitor that keeps the PV cache, the per-circuit breaker, and the registry
mirror's payload format.

Public modules: `ca` (read_many, write_many), `monitor` (Monitor), `breaker` (BreakerSet),
`registry_mirror` (parse_payload). The rest (`_context`, `_channels`, `_batch`, `_decoders`,
`_monitor_watch`, `_values`) are implementation, imported only inside this package.
"""

__all__ = ["breaker", "ca", "monitor", "registry_mirror"]
