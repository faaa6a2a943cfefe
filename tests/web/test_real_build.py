"""The web view over a real build (the real Docker engine), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from butido_py.app.build import BuildRequest
from tests.helpers.workspace import Workspace
from tests.web.server import serving

pytestmark = pytest.mark.docker

LOUD = (
    '{{phase "build"}}\necho "<b>bold</b> from the build"\n'
    "mkdir -p /outputs\necho x > /outputs/webtop-1.pkg"
)


def test_every_route_answers_over_a_real_build(workspace: Workspace) -> None:
    workspace.add_package("webbase")
    workspace.add_package("webtop", build=LOUD, depends=["webbase 1"])
    workspace.commit()
    result = workspace.run(BuildRequest(name="webtop", version="1", image="tiny"))
    assert result.state == "succeeded"
    submit = str(result.submit_uuid)
    top = next(j for j in result.jobs if j.package == "webtop")
    with serving(workspace.database()) as server:
        home = server.get("/")
        assert home.status == 200
        assert f"/submits/{submit}" in home.text
        page = server.get(f"/submits/{submit[:8]}")
        assert page.status == 200
        assert page.text.count('class="node job succeeded"') == 2
        job = server.get(f"/jobs/{top.uuid}")
        assert job.status == 200
        assert "&lt;b&gt;bold&lt;/b&gt; from the build" in job.text
        assert "webtop-1.pkg" in job.text
        assert "webbase-1.pkg" in job.text
        assert "<b>bold</b>" in server.get(f"/jobs/{top.uuid}/log").text
        assert server.get("/packages/webtop").status == 200
        assert server.get("/releases").status == 200
        api = server.get(f"/api/submits/{submit}").json()
        assert isinstance(api, dict)
        assert len(api["jobs"]) == 2
        assert server.get(f"/api/jobs/{top.uuid}").status == 200
        assert server.get("/api/packages/webbase").status == 200
        assert server.get("/api/submits").status == 200
        assert server.get("/submits/00000000-0000-0000-0000-000000000000").status == 404
