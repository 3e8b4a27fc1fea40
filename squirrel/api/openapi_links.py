"""OpenAPI links from each create to the operations on what it created, derived from the paths.

`POST /v1/pvs` answers a PV with its `id`; `GET|PUT|DELETE /v1/pvs/{pv_id}` take that id. A client
generator (and a stateful tester such as schemathesis) follows these links, so that it can reach the
operations on real resources instead of guessing ids. A queued job (`202 {jobId}`) links to the
`/v1/jobs/{job_id}` operations.
"""

from __future__ import annotations

import re
from typing import Any

_PARAM = re.compile(r"\{([^}]+)\}")
_JOBS = "/v1/jobs/{job_id}"
_REF = "#/components/schemas/"


def _schema_properties(schema: Any, schemas: dict[str, Any]) -> set[str]:
    if not isinstance(schema, dict):
        return set()
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF):
        return _schema_properties(schemas.get(ref.removeprefix(_REF)), schemas)
    return set(schema.get("properties", {}))


def _targets(paths: dict[str, Any], prefix: str) -> list[tuple[str, str, str]]:
    """(path, method, new parameter) of the operations under `prefix/{param}`."""
    own = set(_PARAM.findall(prefix))
    found = []
    for path, item in paths.items():
        if not path.startswith(prefix + "/{"):
            continue
        first = _PARAM.match(path, len(prefix) + 1)
        if first is None or first.group(1) in own:
            continue
        if set(_PARAM.findall(path)) - own - {first.group(1)}:
            continue  # another id (a tag in the new group, a second snapshot): the response does not give it
        for method in ("get", "put", "delete", "post"):
            if method in item and item[method].get("operationId"):
                found.append((path, method, first.group(1)))
    return found


def _link(paths: dict[str, Any], path: str, method: str, new: str, source: str) -> dict[str, Any]:
    """Link to one operation: `new` from the response, the ids the request path already had from it."""
    parameters = {new: source}
    for name in _PARAM.findall(path):
        if name != new:
            parameters[name] = f"$request.path.{name}"
    return {"operationId": paths[path][method]["operationId"], "parameters": parameters}


def add_links(document: dict[str, Any]) -> None:
    paths: dict[str, Any] = document.get("paths", {})
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for path, item in paths.items():
        operation = item.get("post")
        if operation is None:
            continue
        for status, response in operation.get("responses", {}).items():
            if not status.startswith("2"):
                continue
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            fields = _schema_properties(schema, schemas)
            links: dict[str, Any] = {}
            if "id" in fields:
                for target, method, new in _targets(paths, path):
                    link = _link(paths, target, method, new, "$response.body#/id")
                    links[link["operationId"]] = link
            if "jobId" in fields and _JOBS in paths:
                for method in ("get", "delete"):
                    if method in paths[_JOBS]:
                        link = _link(paths, _JOBS, method, "job_id", "$response.body#/jobId")
                        links[link["operationId"]] = link
            if links:
                response["links"] = links


__all__ = ["add_links"]
