"""PVAccess (pva://) through p4p/PVXS, a peer of squirrel.epics: monitor, read_many, write_many.

p4p is the optional `squirrel[pva]` extra and is imported only when a pva:// address is used. This
package never imports squirrel.epics (nor the reverse); the services hand it the cache and breakers.
"""

__all__ = ["bulk", "client", "monitor"]
