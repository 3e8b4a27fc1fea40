"""Positional builders generated from a field list, as dataclasses and namedtuple generate theirs.

A hand-written positional tuple or constructor call is fast but nothing checks its order against the
struct it feeds; a keyword call is checked but slower. A generated builder is both: the order comes
from the target's declaration, and a field the source does not have fails at import, not at runtime.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any


def builder(
    name: str,
    fields: Sequence[str],
    *,
    source: Collection[str],
    params: Sequence[str] = (),
    exprs: Mapping[str, str] | None = None,
    target: type | None = None,
) -> Callable[..., Any]:
    """`def name(src, *params): return target(f1, f2, ...)` (a tuple when `target` is None), in the order
    of `fields`. A field in `exprs` is that Python expression (over `src` and `params`); every other
    field is `src.<field>` and must be one of `source` (the source type's fields)."""
    exprs = dict(exprs or {})
    for word in (*fields, *params):
        if not word.isidentifier() or keyword.iskeyword(word) or word in ("src", "_target"):
            raise ValueError(f"{name}: {word!r} cannot be a field or parameter name")
    unknown = [f for f in fields if f not in exprs and f not in source]
    if unknown:
        raise TypeError(f"{name}: the source has no field {', '.join(unknown)}")
    unused = set(exprs) - set(fields)
    if unused:
        raise TypeError(f"{name}: no target field {', '.join(sorted(unused))}")
    items = ", ".join(f"({exprs[f]})" if f in exprs else f"src.{f}" for f in fields)
    body = f"_target({items})" if target is not None else f"({items},)"
    code = f"def {name}(src{''.join(', ' + p for p in params)}):\n    return {body}\n"
    namespace: dict[str, Any] = {"_target": target}
    exec(code, namespace)
    function: Callable[..., Any] = namespace[name]
    return function
