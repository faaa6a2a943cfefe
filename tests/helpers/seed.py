"""A small, fully deterministic history (fixed uuids and times) recorded through the db layer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from butido_py.db import artifacts, jobs, logs, releases, submits
from butido_py.db.database import Database
from butido_py.db.records import ArtifactInput, JobEdge, PlannedJob, PlannedSubmit
from butido_py.states import DependencyKind, FailureKind, SubmitKind, SubmitState


def sid(n: int) -> uuid.UUID:
    return uuid.UUID(f"5b000000-0000-4000-8000-{n:012d}")


def jid(n: int) -> uuid.UUID:
    return uuid.UUID(f"10b00000-0000-4000-8000-{n:012d}")


def at(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2024, month, day, hour, minute, second, tzinfo=UTC)


IMAGE = "registry.local/debian:12"
SCRIPT = "#!/bin/bash\necho building {name}\nmkdir -p /outputs\n"
OK_LOG = "#BUTIDO:PHASE:build\nbuilding {name}\n#BUTIDO:PROGRESS:100\n#BUTIDO:STATE:OK"
ERR_LOG = (
    "#BUTIDO:PHASE:build\nbuilding lib\nmake: *** [all] Error 1\n#BUTIDO:STATE:ERR:make failed"
)


def _job(n: int, name: str, version: str, needs: tuple[int, ...] = (), **kw: object) -> PlannedJob:
    return PlannedJob(
        uuid=jid(n),
        package_name=name,
        package_version=version,
        image=str(kw.get("image", IMAGE)),
        script_text=SCRIPT.format(name=name),
        env=(("DEBUG", "1"), ("PKG", name)),
        depends_on=tuple(JobEdge(jid(m), DependencyKind.BUILD) for m in needs),
        job_key=f"{n:064x}",
    )


def _succeed(db: Database, n: int, name: str, endpoint: str, start: datetime, secs: int) -> None:
    done = start.replace(second=secs)
    jobs.mark_queued(db, jid(n), at=start)
    jobs.mark_running(db, jid(n), endpoint=endpoint, at=start, container_hash=f"{n}c" * 32)
    jobs.mark_succeeded(db, jid(n), at=done, exit_code=0, log_text=OK_LOG.format(name=name))


def seed(db: Database) -> None:
    """Three submits: a finished build, a failed rerun of it, a running build."""
    # 1: app 1.0 <- lib 2.0, tool 0.3 <- base 0.1 (all succeeded, released)
    submits.record_plan(
        db,
        PlannedSubmit(
            uuid=sid(1), submit_time=at(1, 10, 10), image=IMAGE, package_name="app",
            package_version="1.0", commit_hash="a" * 40, env=(("DEBUG", "1"),),
            commit_time=at(1, 9, 18), triggered_by="alice@build1",
        ),
        [_job(1, "app", "1.0", (2, 3)), _job(2, "lib", "2.0", (4,)), _job(3, "tool", "0.3", (4,)),
         _job(4, "base", "0.1")],
    )  # fmt: skip
    _succeed(db, 4, "base", "ep1", at(1, 10, 10, 1), 30)
    _succeed(db, 2, "lib", "ep1", at(1, 10, 10, 2), 45)
    _succeed(db, 3, "tool", "ep2", at(1, 10, 10, 2), 5)
    _succeed(db, 1, "app", "ep2", at(1, 10, 10, 3), 20)
    made = {
        n: artifacts.record_artifacts(db, jid(n), [ArtifactInput(path, f"{n:02d}" * 32, size)])
        for n, path, size in [(4, "base-0.1.tar.gz", 1000), (2, "lib-2.0.tar.gz", 2000),
                              (3, "tool-0.3.rpm", 300), (1, "app-1.0.deb", 4000)]
    }  # fmt: skip
    artifacts.record_job_inputs(db, jid(1), [made[2][0].id, made[3][0].id, made[4][0].id])
    submits.finish_submit(db, sid(1), SubmitState.SUCCEEDED, at=at(1, 10, 10, 4))
    releases.record_release(db, made[1][0].id, "stable", at=at(1, 11, 9))
    releases.record_release(db, made[2][0].id, "testing", at=at(1, 10, 11))

    # 2: rerun of 1 from a dirty tree: base reused, lib fails, app dep_failed, tool canceled
    submits.record_plan(
        db,
        PlannedSubmit(
            uuid=sid(2), submit_time=at(2, 1, 8), image=IMAGE, package_name="app",
            package_version="1.0", commit_hash="b" * 40, env=(("DEBUG", "1"), ("FAST", "yes")),
            kind=SubmitKind.RERUN, parent_submit_uuid=sid(1), dirty=True,
        ),
        [_job(5, "app", "1.0", (6, 7)), _job(6, "lib", "2.0", (8,)), _job(7, "tool", "0.3", (8,)),
         _job(8, "base", "0.1")],
    )  # fmt: skip
    jobs.mark_reused(db, jid(8), reused_from=jid(4), at=at(2, 1, 8, 0, 1))
    jobs.mark_queued(db, jid(6), at=at(2, 1, 8, 0, 2))
    jobs.mark_running(db, jid(6), endpoint="ep1", at=at(2, 1, 8, 0, 2), container_hash="d" * 64)
    jobs.mark_failed(
        db, jid(6), at=at(2, 1, 8, 1, 3), failure_kind=FailureKind.SCRIPT, exit_code=2,
        log_text=ERR_LOG,
    )  # fmt: skip
    jobs.mark_dep_failed(db, jid(5), at=at(2, 1, 8, 1, 3))
    jobs.mark_canceled(db, jid(7), at=at(2, 1, 8, 1, 4))
    submits.finish_submit(db, sid(2), SubmitState.FAILED, at=at(2, 1, 8, 1, 4))

    # 3: tool 0.4 on another image, still running
    submits.record_plan(
        db,
        PlannedSubmit(
            uuid=sid(3), submit_time=at(3, 5, 12), image="alpine:3.19", package_name="tool",
            package_version="0.4", commit_hash="c" * 40,
        ),
        [_job(9, "tool", "0.4", image="alpine:3.19")],
    )  # fmt: skip
    jobs.mark_queued(db, jid(9), at=at(3, 5, 12, 0, 1))
    jobs.mark_running(db, jid(9), endpoint="ep2", at=at(3, 5, 12, 0, 2))
    logs.append_chunk(db, jid(9), b"#BUTIDO:PHASE:configure\n")
    logs.append_chunk(db, jid(9), b"checking for gcc... yes\n")
