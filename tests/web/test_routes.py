"""Every route of the web view over HTTP (uvicorn in a thread, urllib), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest

from butido_py.db import jobs, logs
from butido_py.db.database import Database
from tests.helpers.seed import at, jid, sid
from tests.web.conftest import HOSTILE_JOB, HOSTILE_NAME, HOSTILE_SUBMIT
from tests.web.server import Server, serving

S1, S2, S3 = str(sid(1)), str(sid(2)), str(sid(3))


def test_home_lists_submits_newest_first_with_job_counts(seeded: Server) -> None:
    page = seeded.get("/")
    assert page.status == 200
    assert page.content_type.startswith("text/html")
    positions = [page.text.index(f"/submits/{s}") for s in (HOSTILE_SUBMIT, S3, S2, S1)]
    assert positions == sorted(positions)
    assert 'title="reused">1</span>' in page.text  # submit 2's jobs by state


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("?failed=1", [S2, HOSTILE_SUBMIT], [S1, S3]),
        ("?state=running", [S3], [S1, S2]),
        ("?package=tool", [S3], [S1, S2]),
        ("?image=alpine:3.19", [S3], [S1, S2]),
        ("?commit=bbbb", [S2], [S1, S3]),
    ],
)
def test_home_filters(seeded: Server, query: str, shown: list[str], hidden: list[str]) -> None:
    page = seeded.get("/" + query)
    assert page.status == 200
    assert all(f"/submits/{s}" in page.text for s in shown)
    assert not any(f"/submits/{s}" in page.text for s in hidden)


def test_home_pages_through_older_submits(seeded: Server) -> None:
    first = seeded.get("/?limit=2")
    assert f"/submits/{S3}" in first.text
    assert f"/submits/{S2}" not in first.text
    link = first.text.split('id="next-page" href="')[1].split('"')[0].replace("&amp;", "&")
    second = seeded.get("/" + link)
    assert f"/submits/{S2}" in second.text
    assert f"/submits/{S1}" in second.text
    assert f"/submits/{S3}" not in second.text
    assert 'id="next-page"' not in second.text


def test_submit_page_has_header_dag_jobs_and_lineage(seeded: Server) -> None:
    page = seeded.get(f"/submits/{S2}")
    assert page.status == 200
    text = page.text
    assert "alice" not in text  # submit 2 was not triggered by alice; submit 1 was
    assert f'rerun of <a class="uuid" href="/submits/{S1}"' in text  # its parent
    assert "<svg" in text
    assert text.count('class="node job ') == 4
    assert 'class="node job failed"' in text
    assert f'xlink:href="/jobs/{jid(6)}"' in text
    assert "dirty work tree" in text
    for job in (5, 6, 7, 8):
        assert f'href="/jobs/{jid(job)}"' in text
    parent = seeded.get(f"/submits/{S1}").text
    assert "alice@build1" in parent
    assert "Followed by" in parent
    assert "4m00s" in parent


def test_job_page_shows_failure_phase_env_artifacts_and_script(seeded: Server) -> None:
    failed = seeded.get(f"/jobs/{jid(6)}").text
    assert "failure: <strong>script</strong>" in failed
    assert "exit code 2" in failed
    assert "build — error: make failed" in failed
    tail_at = failed.index('id="log-tail"')
    assert failed.index("make: *** [all] Error 1", tail_at) < failed.index('id="log"')
    done = seeded.get(f"/jobs/{jid(1)}").text
    assert "01" * 32 in done
    assert "base-0.1.tar.gz" in done
    assert "app-1.0.deb" in done
    assert "<code>PKG</code>" in done
    assert 'class="highlight"' in done
    assert "building" in done


def test_raw_log_and_api(seeded: Server) -> None:
    raw = seeded.get(f"/jobs/{jid(6)}/log")
    assert raw.content_type.startswith("text/plain")
    assert "make: *** [all] Error 1" in raw.text
    listing = seeded.get("/api/submits").json()
    assert isinstance(listing, dict)
    assert [row["uuid"] for row in listing["submits"]][:2] == [HOSTILE_SUBMIT, S3]
    assert set(listing["submits"][0]) == {  # the submit schema of docs/json.md
        "uuid", "submit_time", "package", "version", "image", "commit", "commit_time", "dirty",
        "kind", "parent", "state", "finished_at", "triggered_by",
    }  # fmt: skip
    submit = seeded.get(f"/api/submits/{S1}").json()
    assert isinstance(submit, dict)
    assert {j["package"] for j in submit["jobs"]} == {"app", "lib", "tool", "base"}
    assert submit["children"][0]["uuid"] == S2
    job = seeded.get(f"/api/jobs/{jid(1)}").json()
    assert isinstance(job, dict)
    assert job["state"] == "succeeded"
    assert job["env"] == {"DEBUG": "1", "PKG": "app"}
    assert {i["path"] for i in job["inputs"]} == {"lib-2.0.tar.gz", "tool-0.3.rpm",
                                                   "base-0.1.tar.gz"}  # fmt: skip
    package = seeded.get("/api/packages/lib").json()
    assert isinstance(package, dict)
    assert package["success_rate"] == 0.5
    assert len(package["jobs"]) == 2


def test_package_page_and_releases(seeded: Server) -> None:
    page = seeded.get("/packages/lib").text
    assert 'id="durations"' in page
    assert page.count("<rect ") == 2
    assert "50 %" in page
    base = seeded.get("/packages/base").text
    assert 'id="reuse-rate">50 %' in base
    releases = seeded.get("/releases").text
    assert "app-1.0.deb" in releases
    assert "stable" in releases
    assert "testing" in releases


def test_uuid_prefixes(seeded: Server) -> None:
    assert S1 in seeded.get(f"/submits/{S1[:8]}-0000-4000-8000-000000000001").text
    job = seeded.get(f"/jobs/{str(jid(9))[:-2]}")
    assert job.status == 404  # "…0000000000" is a prefix of several jobs
    assert str(jid(9)) in job.text
    assert str(jid(1)) in job.text
    ee = seeded.get(f"/jobs/{HOSTILE_JOB[:-1]}")
    assert ee.status == 200
    assert seeded.get(f"/api/submits/{HOSTILE_SUBMIT[:-1]}").status == 200


@pytest.mark.parametrize(
    "path",
    [
        "/nothing-here",
        "/submits/5b000000-0000-4000-8000-000000000099",
        "/submits/zzzz",
        "/submits/ab",
        "/jobs/00000000-0000-4000-8000-000000000000",
        "/jobs/00000000-0000-4000-8000-000000000000/log",
        "/packages/no-such-package",
        "/api/jobs/ffff",
        "/api/submits/ffff",
        "/api/packages/no-such-package",
    ],
)
def test_unknown_things_are_404(seeded: Server, path: str) -> None:
    answer = seeded.get(path)
    assert answer.status == 404
    if path.startswith("/api/"):
        assert "error" in json.loads(answer.text)
    else:
        assert "Not found" in answer.text or "Which one?" in answer.text


def test_a_bad_filter_is_400(seeded: Server) -> None:
    assert seeded.get("/?state=bogus").status == 400
    assert seeded.get("/?before=yesterday").status == 400
    assert seeded.get("/?limit=many").status == 400
    assert seeded.get(f"/jobs/{jid(9)}/log/stream?from=x").status == 400


def test_markup_from_logs_scripts_and_package_names_stays_text(seeded: Server) -> None:
    """Fails if Jinja2's autoescaping (or Pygments' escaping, or dot's) is removed."""
    package = f"/packages/{urllib.parse.quote(HOSTILE_NAME, safe='')}"
    for path in ("/", f"/submits/{HOSTILE_SUBMIT}", f"/jobs/{HOSTILE_JOB}", package, "/?failed=1"):
        page = seeded.get(path)
        assert page.status == 200, path
        assert "<script>window" not in page.text, path
        assert "<img src=x" not in page.text, path
    job = seeded.get(f"/jobs/{HOSTILE_JOB}").text
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in job
    assert "&lt;img src=x onerror=" in job


def test_live_log_stream_sends_what_was_appended_then_done(seeded_db: Database) -> None:
    with serving(seeded_db) as server:
        page = server.get(f"/jobs/{jid(9)}").text
        start = page.split('data-stream="')[1].split('"')[0].replace("&amp;", "&")
        events: list[object] = []
        with urllib.request.urlopen(server.base + start, timeout=30) as stream:  # noqa: S310
            logs.append_chunk(seeded_db, jid(9), b"make all\n")
            for raw in stream:
                line = raw.decode().rstrip("\n")
                if not line.startswith("data: "):
                    continue
                events.append(json.loads(line[6:]))
                if len(events) == 1:
                    jobs.mark_succeeded(seeded_db, jid(9), at=at(3, 5, 12, 5), exit_code=0,
                                        log_text=None)  # fmt: skip
                else:
                    break
    assert events == [{"text": "make all\n"}, {"state": "succeeded"}]
