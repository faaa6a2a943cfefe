"""One JSON object per entity — a job, a submit, an artifact, a release, a group — whichever
command or page prints it: the CLI's `--json` and the web view's `/api/...` share these, and the
schemas are in docs/json.md (tests/e2e/test_json_schema.py validates every `--json` output)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # records only: no SQLAlchemy at import time (start-up of every command)
    from butido_py.db.groups import GroupRecord
    from butido_py.db.records import ArtifactRecord, JobRecord, ReleaseRecord, SubmitRecord


def _iso(value: datetime | None) -> str | None:
    """ISO 8601 with its zone."""
    return None if value is None else value.isoformat()


def job_json(job: JobRecord) -> dict[str, object]:
    return {
        "uuid": str(job.uuid),
        "submit": str(job.submit_uuid),
        "submit_time": _iso(job.submit_time),
        "package": job.package_name,
        "version": job.package_version,
        "image": job.image,
        "image_digest": job.image_digest,
        "endpoint": job.endpoint,
        "container": job.container_hash,
        "state": job.state.value,
        "ok": job.state.ok,
        "failure_kind": job.failure_kind.value if job.failure_kind else None,
        "exit_code": job.exit_code,
        "queued_at": _iso(job.queued_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "job_key": job.job_key,
        "reused_from": str(job.reused_from_uuid) if job.reused_from_uuid else None,
        "attempt": job.attempt,
        "root_package": job.root_package_name,
        "root_version": job.root_package_version,
    }


def submit_json(submit: SubmitRecord) -> dict[str, object]:
    return {
        "uuid": str(submit.uuid),
        "submit_time": submit.submit_time.isoformat(),
        "package": submit.package_name,
        "version": submit.package_version,
        "image": submit.image,
        "commit": submit.commit_hash,
        "commit_time": _iso(submit.commit_time),
        "dirty": submit.dirty,
        "kind": submit.kind.value,
        "parent": str(submit.parent_uuid) if submit.parent_uuid else None,
        "state": submit.state.value,
        "finished_at": _iso(submit.finished_at),
        "triggered_by": submit.triggered_by,
    }


def artifact_json(artifact: ArtifactRecord) -> dict[str, object]:
    return {
        "path": artifact.path,
        "job": str(artifact.job_uuid),
        "submit": str(artifact.submit_uuid),
        "size": artifact.size,
        "sha256": artifact.sha256,
        "released_at": _iso(artifact.released_at),
    }


def release_json(release: ReleaseRecord, file: str) -> dict[str, object]:
    """`file`: where the released file is, or that it is not available locally."""
    return {
        "package": release.package_name,
        "version": release.package_version,
        "store": release.store,
        "path": release.artifact_path,
        "file": file,
        "released_at": _iso(release.release_date),
        "submit": str(release.submit_uuid),
        "job": str(release.job_uuid),
        "sha256": release.sha256,
    }


def group_json(
    group: GroupRecord, jobs: Mapping[uuid.UUID, Sequence[JobRecord]] | None
) -> dict[str, object]:
    """A group: its request, its derived state, each image's submit with its jobs (without
    `jobs` when `jobs` is None: a listing of groups)."""
    return {
        "uuid": str(group.uuid),
        "created_at": _iso(group.created_at),
        "package": group.package_name,
        "version": group.package_version,
        "images": list(group.images),
        "env": [list(pair) for pair in group.env],
        "commit": group.commit_hash,
        "kind": group.kind.value,
        "parent": str(group.parent_uuid) if group.parent_uuid else None,
        "triggered_by": group.triggered_by,
        "state": group.state.value,
        "submits": [_group_submit_json(s, jobs) for s in group.submits],
    }


def _group_submit_json(
    submit: SubmitRecord, jobs: Mapping[uuid.UUID, Sequence[JobRecord]] | None
) -> dict[str, object]:
    data: dict[str, object] = {
        "uuid": str(submit.uuid),
        "image": submit.image,
        "state": submit.state.value,
        "kind": submit.kind.value,
        "parent": str(submit.parent_uuid) if submit.parent_uuid else None,
        "submit_time": _iso(submit.submit_time),
        "finished_at": _iso(submit.finished_at),
    }
    if jobs is not None:
        data["jobs"] = [job_json(job) for job in jobs.get(submit.uuid, ())]
    return data
