"""Tags named on the command line (`Area=LINAC` or a bare `LINAC`) resolve to exactly one tag, or say why not."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

import pytest

from squirrel.cli.ops.common import UsageError
from squirrel.cli.ops.tagnames import NamedTag, resolve
from squirrel.client import Client
from squirrel.model import TagDTO, TagGroupDTO, TagGroupSummaryDTO

NOW = datetime(2024, 1, 1)


class Registry:
    """The two client calls resolve makes, over tag groups held in memory (the HTTP side has its own tests)."""

    def __init__(self, groups: dict[str, list[str]]) -> None:
        self.groups: dict[uuid.UUID, TagGroupDTO] = {}
        for name, tags in groups.items():
            gid = uuid.uuid4()
            dtos = [
                TagDTO(
                    id=uuid.uuid4(), name=t, description=None, group_id=gid, created_date=NOW, last_modified_date=NOW
                )
                for t in tags
            ]
            self.groups[gid] = TagGroupDTO(
                id=gid, name=name, description=None, tags=dtos, created_date=NOW, last_modified_date=NOW
            )

    def tag_groups(self) -> list[TagGroupSummaryDTO]:
        return [
            TagGroupSummaryDTO(id=g.id, name=g.name, description=None, tag_count=len(g.tags))
            for g in self.groups.values()
        ]

    def tag_group(self, group_id: uuid.UUID) -> TagGroupDTO:
        return self.groups[group_id]


def client(**groups: list[str]) -> Client:
    return cast(Client, Registry(groups))


def labels(tags: list[NamedTag]) -> list[str]:
    return [t.label for t in tags]


def test_no_specs_asks_nothing() -> None:
    assert resolve(cast(Any, None), None) == [] and resolve(cast(Any, None), []) == []


def test_group_name_pairs_and_unique_bare_names_any_case() -> None:
    c = client(Area=["LINAC", "RING"], Kind=["magnet"])
    assert labels(resolve(c, ["area=linac", " MAGNET ", "Area = RING"])) == ["Area=LINAC", "Kind=magnet", "Area=RING"]


def test_a_tag_named_twice_is_chosen_once() -> None:
    c = client(Area=["LINAC"])
    assert labels(resolve(c, ["LINAC", "Area=LINAC"])) == ["Area=LINAC"]


def test_a_bare_name_in_several_groups_is_ambiguous() -> None:
    c = client(Area=["LINAC"], Section=["LINAC"])
    with pytest.raises(UsageError, match="in several groups; say which: Area=LINAC, Section=LINAC"):
        resolve(c, ["LINAC"])
    assert labels(resolve(c, ["Section=LINAC"])) == ["Section=LINAC"]


def test_an_unknown_tag_lists_the_known_ones() -> None:
    with pytest.raises(UsageError, match="no tag 'Area=X'; known tags: Area=LINAC, Kind=magnet"):
        resolve(client(Kind=["magnet"], Area=["LINAC"]), ["Area=X"])
    with pytest.raises(UsageError, match="known tags: none"):
        resolve(client(), ["X"])
