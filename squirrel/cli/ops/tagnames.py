"""Tags by name on the command line (`Area=LINAC` or `LINAC`), resolved to ids through the API."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from squirrel.cli.ops.common import UsageError
from squirrel.client import Client


@dataclass(frozen=True)
class NamedTag:
    id: UUID
    name: str
    group_id: UUID
    group: str

    @property
    def label(self) -> str:
        return f"{self.group}={self.name}"


def all_tags(client: Client) -> list[NamedTag]:
    out: list[NamedTag] = []
    for summary in client.tag_groups():
        group = client.tag_group(summary.id)
        out.extend(NamedTag(t.id, t.name, group.id, group.name) for t in group.tags)
    return out


def resolve(client: Client, specs: list[str] | None) -> list[NamedTag]:
    """Each spec's tag; an unknown name or a bare name found in several groups is a usage error."""
    if not specs:
        return []
    known = all_tags(client)
    chosen: list[NamedTag] = []
    for spec in specs:
        group, sep, name = spec.partition("=")
        if not sep:
            group, name = "", spec
        name_key, group_key = name.strip().casefold(), group.strip().casefold()
        hits = [t for t in known if t.name.casefold() == name_key and (not sep or t.group.casefold() == group_key)]
        if not hits:
            raise UsageError(f"no tag {spec!r}; known tags: {', '.join(sorted(t.label for t in known)) or 'none'}")
        if len(hits) > 1:
            choices = ", ".join(sorted(t.label for t in hits))
            raise UsageError(f"tag {spec!r} is in several groups; say which: {choices}")
        if hits[0] not in chosen:
            chosen.append(hits[0])
    return chosen
