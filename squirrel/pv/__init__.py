"""The PV value, on the ground floor: below epics/, pva/, live/ and services/, above model and errors.

- records: `PVState` (one address's latest state), `CtrlMeta` (CTRL metadata), the names they hold;
- `PVCache`: the states the monitor writes and everyone else reads (plain data, no I/O);
- the one wire encoding `to_wire` and its one inverse `from_wire` (and `parse_float` for user text);
- what the CA and PVA paths share: `Handover`, `record_batch` / `wait_batch` (bulk I/O), `stop_tasks`
  and `UpdateRate` (monitors);
- the stored codec: `SideFields` declares a stored side's fields once; `StoredSide`, `ValueOnly`,
  `ExportSide` and the builders of rows and `model.EpicsValueDTO` all follow it;
- `MonitorCore`, the protocol-independent half of the CA and PVA monitors;
- how a monitor follows the registry (`RegistryFollower`, its `RegistryMirror`, `parse_payload`): CA's
  and PVA's monitors share it, and neither may import the other.
"""

from squirrel.pv._batching import Handover
from squirrel.pv._cache import PVCache
from squirrel.pv._codec import (
    FIELDS,
    VALUE_ONLY,
    VALUE_ONLY_AT,
    WIRE_FORM,
    Encoded,
    ExportSide,
    SideFields,
    StoredSide,
    ValueOnly,
    decode_side,
    decode_value_only,
    encode_into,
    encode_side,
    epics_value,
    export_side,
    import_side,
    state_row,
)
from squirrel.pv._monitor import MonitorCore, ServerBreakers, Watched
from squirrel.pv._project import builder
from squirrel.pv._records import (
    ALARM_STATUS,
    FLOAT_TYPES,
    INTEGER_TYPES,
    PVA_ALARM_STATUS,
    SEVERITY_NAMES,
    CtrlMeta,
    PVState,
    base_type,
)
from squirrel.pv._registry import (
    Listen,
    LoadRows,
    RegistryFollower,
    RegistryMirror,
    Row,
    parse_payload,
)
from squirrel.pv._shared_io import BatchRecorder, UpdateRate, record_batch, stop_tasks, wait_batch
from squirrel.pv._wire import from_wire, parse_float, to_wire

__all__ = [
    "ALARM_STATUS",
    "FIELDS",
    "FLOAT_TYPES",
    "INTEGER_TYPES",
    "PVA_ALARM_STATUS",
    "SEVERITY_NAMES",
    "VALUE_ONLY",
    "VALUE_ONLY_AT",
    "WIRE_FORM",
    "BatchRecorder",
    "CtrlMeta",
    "Encoded",
    "ExportSide",
    "Handover",
    "Listen",
    "LoadRows",
    "MonitorCore",
    "PVCache",
    "PVState",
    "RegistryFollower",
    "RegistryMirror",
    "Row",
    "ServerBreakers",
    "SideFields",
    "StoredSide",
    "UpdateRate",
    "ValueOnly",
    "Watched",
    "base_type",
    "builder",
    "decode_side",
    "decode_value_only",
    "encode_into",
    "encode_side",
    "epics_value",
    "export_side",
    "from_wire",
    "import_side",
    "parse_float",
    "parse_payload",
    "record_batch",
    "state_row",
    "stop_tasks",
    "to_wire",
    "wait_batch",
]
