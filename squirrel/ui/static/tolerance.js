// Whether a live side differs from the saved one: the server's compare rule (squirrel/services/compare.py:
// values_equal, sides_equal and _side_difference with live=True), applied with the tolerances the
// snapshot rows carry (absTolerance, relTolerance: the ones compare and `differentFromLive` use).
// It is a line-by-line port so a live update is judged at once; tests/e2e/ui/test_snapshot_tolerance.py
// runs this module and the Python rule on the same cases and checks the marks against the server filter.

const NON_FINITE = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, "-Infinity": Number.NEGATIVE_INFINITY };

// The value as the server holds it: non-finite floats travel as "NaN"/"Infinity"/"-Infinity" (to_wire),
// and are numbers unless the PV holds text.
function native(value, type) {
  if (typeof type === "string" && type.startsWith("string")) return value;
  if (Array.isArray(value)) return value.map((v) => native(v, type));
  return typeof value === "string" && value in NON_FINITE ? NON_FINITE[value] : value;
}

// Python's `==` on JSON values other than two numbers or two lists: True == 1, None == None.
function pyEquals(a, b) {
  const numeric = (v) => typeof v === "number" || typeof v === "boolean";
  if ((typeof a === "boolean" || typeof b === "boolean") && numeric(a) && numeric(b)) return Number(a) === Number(b);
  return (a ?? null) === (b ?? null);
}

export function valuesEqual(v1, v2, abs, rel) {
  if (typeof v1 === "number" && typeof v2 === "number") {
    if (v1 === v2) return true;
    const nan1 = Number.isNaN(v1);
    const nan2 = Number.isNaN(v2);
    if (nan1 || nan2) return nan1 && nan2;
    const diff = Math.abs(v1 - v2);
    if (!Number.isFinite(diff)) return false;
    return diff <= abs || diff <= rel * Math.abs(v1);
  }
  if (Array.isArray(v1) && Array.isArray(v2)) {
    return v1.length === v2.length && v1.every((a, i) => valuesEqual(a, v2[i], abs, rel));
  }
  return pyEquals(v1, v2);
}

// A saved side (EpicsValueDTO, camelCase) as compare reads it: no value saved -> value and index null.
export function savedSide(side) {
  if (!side) return null;
  if (side.value === null || side.value === undefined) return { value: null, enumIndex: null, connected: true };
  return { value: native(side.value, side.type), enumIndex: side.enumIndex ?? null, connected: true };
}

// A live entry (snake_case). Without a value it counts as not connected, as compare's _live_side has it
// (an address nobody monitors, or a channel with no value since it connected).
export function liveSide(entry) {
  if (!entry) return null;
  if (entry.value === undefined || entry.value === null) return { value: null, enumIndex: null, connected: false };
  return { value: native(entry.value, entry.type), enumIndex: entry.enum_index ?? null, connected: Boolean(entry.connected) };
}

function sidesEqual(a, b, abs, rel) {
  if (a === null || b === null) return a === null && b === null;
  if (a.enumIndex !== null && b.enumIndex !== null) return a.enumIndex === b.enumIndex;
  return valuesEqual(a.value, b.value, abs, rel);
}

// null (no difference), "disconnected", or "outside" for one side of a row; `readback` as compare's
// live rule: a readback the snapshot did not store is not compared.
export function liveDifference(saved, entry, { abs = 0, rel = 0, readback = false } = {}) {
  const a = savedSide(saved);
  const b = liveSide(entry);
  if (readback && a === null) return null;
  if (a !== null && (b === null || !b.connected)) return "disconnected";
  return sidesEqual(a, b, abs, rel) ? null : "outside";
}

// The band the marker's title names: ±max(abs, rel × |saved|) for a number, the tolerances for an array.
export function toleranceText(saved, abs = 0, rel = 0) {
  const short = (x) => String(Number(x.toPrecision(6)));
  const a = savedSide(saved);
  if (a && a.enumIndex === null && typeof a.value === "number" && Number.isFinite(a.value)) {
    return `±${short(Math.max(abs, rel * Math.abs(a.value)))}`;
  }
  const numeric = (v) => typeof v === "number" || (Array.isArray(v) && v.every(numeric));
  if (!a || a.enumIndex !== null || !numeric(a.value)) return "±0 (text and enum values compare exactly)";
  return rel ? `±${short(abs)} or ±${short(rel * 100)}% of each saved value` : `±${short(abs)}`;
}
