"""The group pages of the web view over HTTP, on SQLite and PostgreSQL (tests/web/conftest.py's
plant_groups: zlib 1.3 over Debian 11 (succeeded), Debian 12 (failed) and a refused image)."""

from __future__ import annotations

import json
import uuid

import pytest

from butido_py.app.entity_json import group_json
from butido_py.cli.commands.db.groups import submit_group_json
from butido_py.db.groups import find_group, jobs_of_group
from tests.web.conftest import (
    DEB11,
    DEB12,
    GROUP,
    ON_11,
    ON_12,
    RERUN_12,
    RERUN_GROUP,
    Served,
    group_job,
)


def _matrix(text: str) -> list[str]:
    """The rows of the page's matrix table, as HTML."""
    table = text.split('id="matrix"')[1].split("</table>", maxsplit=1)[0]
    return table.split("<tbody>")[1].split("</tr>")[:-1]


def test_group_page_shows_the_matrix_request_and_submits(grouped: Served) -> None:
    page = grouped.server.get(f"/groups/{GROUP}")
    assert page.status == 200
    text = page.text
    assert 'Group <span class="uuid">' + GROUP in text
    assert '<span class="state state-failed">failed</span></h1>' in text
    assert "carol@ci" in text
    assert "f" * 40 in text
    assert "<code>WITH_DOCS=&lt;i&gt;no&lt;/i&gt;</code>" in text
    for submit in (ON_11, ON_12):
        assert f'href="/submits/{submit}"' in text
    assert "<em>refused</em>: no submit" in text
    header = text.split('id="matrix"')[1].split("</thead>")[0]
    assert header.index(DEB11) < header.index(DEB12) < header.index("&lt;b&gt;old&lt;/b&gt;")
    rows = _matrix(text)
    assert len(rows) == 2  # the hostile-named dependency, zlib
    zlib = next(row for row in rows if ">zlib</a>" in row)
    cells = zlib.split("<td>")[3:]
    assert f'href="/jobs/{group_job(ON_11, 2)}"' in cells[0]
    assert "state-succeeded" in cells[0]
    assert "20s" in cells[0]  # its duration
    assert f'href="/jobs/{group_job(ON_12, 2)}"' in cells[1]
    assert "state-dep_failed" in cells[1]
    assert "<em>refused</em>" in cells[2]
    dependency = next(row for row in rows if row is not zlib)
    assert "state-failed" in dependency
    assert "12s" in dependency


def test_group_json_is_db_group_json(grouped: Served) -> None:
    answer = grouped.server.get(f"/api/groups/{GROUP}")
    assert answer.content_type == "application/json"
    group = find_group(grouped.db, uuid.UUID(GROUP))
    assert group is not None
    assert answer.json() == json.loads(
        json.dumps(group_json(group, jobs_of_group(grouped.db, group)))
    )
    data = answer.json()
    assert isinstance(data, dict)
    assert data["state"] == "failed"
    assert [s["image"] for s in data["submits"]] == [DEB11, DEB12]
    assert len(data["images"]) == 3


def test_submit_page_names_its_group_and_siblings(grouped: Served) -> None:
    text = grouped.server.get(f"/submits/{ON_12}").text
    group = text.split("<dt>Group</dt>")[1].split("</dd>")[0]
    assert f'href="/groups/{GROUP}"' in group
    assert "state-failed" in group
    siblings = text.split('id="siblings">')[1].split("</dd>")[0]
    assert f'{DEB11}: <a class="uuid" href="/submits/{ON_11}"' in siblings
    assert ON_12 not in siblings
    alone = grouped.server.get(f"/submits/{RERUN_12}").text
    assert f'href="/groups/{RERUN_GROUP}"' in alone
    assert 'id="siblings"' not in alone
    api = grouped.server.get(f"/api/submits/{ON_12}").json()
    assert isinstance(api, dict)
    expected = submit_group_json(grouped.db, uuid.UUID(ON_12))
    assert {"group": api["group"], "siblings": api["siblings"]} == expected


def test_group_listing_newest_first_with_filters(grouped: Served) -> None:
    text = grouped.server.get("/groups").text
    assert text.index(f"/groups/{RERUN_GROUP}") < text.index(f'href="/groups/{GROUP}"')
    assert "&lt;b&gt;old&lt;/b&gt;" in text
    failed = grouped.server.get("/groups?state=failed").text
    assert f'href="/groups/{GROUP}"' in failed
    assert f'href="/groups/{RERUN_GROUP}"' not in failed
    assert "No groups match." in grouped.server.get("/groups?package=nope").text
    rows = grouped.server.get("/api/groups?state=running").json()
    assert isinstance(rows, dict)
    assert [(g["uuid"], g["kind"]) for g in rows["groups"]] == [(RERUN_GROUP, "rerun")]
    assert grouped.server.get("/groups?state=bogus").status == 400
    rerun = grouped.server.get(f"/groups/{RERUN_GROUP}").text
    assert f'rerun of <a class="uuid" href="/groups/{GROUP}"' in rerun


def test_group_prefixes_and_unknown_groups(grouped: Served) -> None:
    unique = grouped.server.get(f"/groups/{GROUP[:-1]}")  # RERUN_GROUP ends in …102
    assert unique.status == 200
    assert f'Group <span class="uuid">{GROUP}' in unique.text
    assert grouped.server.get(f"/api/groups/{GROUP[:-1]}").status == 200
    several = grouped.server.get(f"/groups/{GROUP[:-3]}")
    assert several.status == 404
    assert "Which one?" in several.text
    assert f'href="/groups/{GROUP}"' in several.text
    assert f'href="/groups/{RERUN_GROUP}"' in several.text
    ambiguous = grouped.server.get(f"/api/groups/{GROUP[:8]}").json()
    assert isinstance(ambiguous, dict)
    assert set(ambiguous["matches"]) == {GROUP, RERUN_GROUP}
    for path in ("/groups/9b000000-0000-4000-8000-000000000099", "/groups/zz",
                 "/api/groups/ffffffff"):  # fmt: skip
        assert grouped.server.get(path).status == 404, path


@pytest.mark.parametrize("path", [f"/groups/{GROUP}", "/groups", f"/submits/{ON_12}"])
def test_group_pages_keep_markup_as_text(grouped: Served, path: str) -> None:
    text = grouped.server.get(path).text
    assert "<script>window" not in text
    assert "<b>old</b>" not in text
