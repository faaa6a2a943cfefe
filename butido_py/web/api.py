"""The JSON of `/api/...`: the same objects as `butido db submits/submit/job --json` print."""

from __future__ import annotations

import uuid
from datetime import datetime

from butido_py.db.attempts import JobAttemptRecord
from butido_py.db.groups import GroupRecord
from butido_py.db.records import JobRecord, RebuildResultRecord, SubmitRecord
from butido_py.web.data import GroupView, JobView, PackageView, SubmitPage, SubmitView


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def job_json(job: JobRecord) -> dict[str, object]:
    return {
        "uuid": str(job.uuid),
        "submit": str(job.submit_uuid),
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
        "queued_at": _time(job.queued_at),
        "started_at": _time(job.started_at),
        "finished_at": _time(job.finished_at),
        "job_key": job.job_key,
        "reused_from": str(job.reused_from_uuid) if job.reused_from_uuid else None,
        "attempt": job.attempt,
        "root_package": job.root_package_name,
        "root_version": job.root_package_version,
    }


def submit_row_json(submit: SubmitRecord) -> dict[str, object]:
    """One row of `db submits --json`."""
    return {
        "time": submit.submit_time.isoformat(),
        "uuid": str(submit.uuid),
        "for_package": submit.package_name,
        "for_package_version": submit.package_version,
        "state": submit.state.value,
        "kind": submit.kind.value,
        "commit": submit.commit_hash,
    }


def submits_json(page: SubmitPage) -> dict[str, object]:
    return {
        "submits": [submit_row_json(row.submit) for row in page.rows],
        "next_before": _time(page.next_before),
    }


def submit_json(view: SubmitView) -> dict[str, object]:
    """`db submit UUID --json`: the submit, its jobs with their edges, and its lineage."""
    submit = view.submit
    needs: dict[uuid.UUID, list[dict[str, str]]] = {job.uuid: [] for job in view.jobs}
    for edge in view.edges:
        needs[edge.job_uuid].append({"job": str(edge.depends_on_uuid), "kind": edge.kind.value})
    return {
        "uuid": str(submit.uuid),
        "submit_time": submit.submit_time.isoformat(),
        "package": submit.package_name,
        "version": submit.package_version,
        "image": submit.image,
        "commit": submit.commit_hash,
        "commit_time": _time(submit.commit_time),
        "dirty": submit.dirty,
        "kind": submit.kind.value,
        "parent": str(submit.parent_uuid) if submit.parent_uuid else None,
        "state": submit.state.value,
        "finished_at": _time(submit.finished_at),
        "triggered_by": submit.triggered_by,
        "env": dict(view.env),
        "jobs": [{**job_json(job), "depends_on": needs[job.uuid]} for job in view.jobs],
        "children": [
            {
                "uuid": str(child.uuid),
                "kind": child.kind.value,
                "state": child.state.value,
                "submit_time": child.submit_time.isoformat(),
            }
            for child in view.children
        ],
        "verdicts": [_verdict_json(r) for r in view.verdicts],
        **_submit_group_json(view),
    }


def _submit_group_json(view: SubmitView) -> dict[str, object]:
    """`group` and `siblings` of `db submit --json`."""
    return {
        "group": str(view.group.uuid) if view.group else None,
        "siblings": [
            {"uuid": str(s.uuid), "image": s.image, "state": s.state.value} for s in view.siblings
        ],
    }


def _verdict_json(result: RebuildResultRecord) -> dict[str, object]:
    return {
        "package": result.package_name,
        "version": result.package_version,
        "path": result.path,
        "verdict": result.verdict.value,
        "original_artifact_id": result.original_artifact_id,
        "rebuilt_artifact_id": result.rebuilt_artifact_id,
        "diff_summary": result.diff_summary,
    }


def _attempt_json(attempt: JobAttemptRecord) -> dict[str, object]:
    return {
        "attempt": attempt.attempt,
        "endpoint": attempt.endpoint,
        "container": attempt.container_hash,
        "started_at": attempt.started_at.isoformat(),
        "finished_at": _time(attempt.finished_at),
        "failure_kind": attempt.failure_kind.value if attempt.failure_kind else None,
        "error": attempt.error,
    }


def job_detail_json(view: JobView) -> dict[str, object]:
    """`db job UUID --json` (attempts, env), plus the artifacts in and out."""
    data: dict[str, object] = {**job_json(view.detail.job), "env": dict(view.detail.env)}
    if view.attempts:
        data["attempts"] = [_attempt_json(a) for a in view.attempts]
    data["inputs"] = [{"path": a.path, "sha256": a.sha256, "size": a.size} for a in view.inputs]
    data["outputs"] = [{"path": a.path, "sha256": a.sha256, "size": a.size} for a in view.outputs]
    return data


def package_json(view: PackageView) -> dict[str, object]:
    return {
        "package": view.name,
        "success_rate": view.success_rate,
        "reuse_rate": view.reuse_rate,
        "jobs": [job_json(job) for job in view.jobs],
    }


def group_row_json(group: GroupRecord) -> dict[str, object]:
    """One row of `db groups --json` (images in full)."""
    return {
        "time": group.created_at.isoformat(),
        "uuid": str(group.uuid),
        "package": group.package_name,
        "version": group.package_version,
        "images": list(group.images),
        "state": group.state.value,
        "kind": group.kind.value,
        "commit": group.commit_hash,
    }


def group_json(view: GroupView) -> dict[str, object]:
    """`db group UUID --json`: the request, the derived state, each image's submit with its jobs."""
    group = view.group
    return {
        "uuid": str(group.uuid),
        "created_at": group.created_at.isoformat(),
        "package": group.package_name,
        "version": group.package_version,
        "images": list(group.images),
        "env": [list(pair) for pair in group.env],
        "commit": group.commit_hash,
        "kind": group.kind.value,
        "parent": str(group.parent_uuid) if group.parent_uuid else None,
        "triggered_by": group.triggered_by,
        "state": group.state.value,
        "submits": [
            {
                "uuid": str(s.uuid),
                "image": s.image,
                "state": s.state.value,
                "kind": s.kind.value,
                "parent": str(s.parent_uuid) if s.parent_uuid else None,
                "submit_time": s.submit_time.isoformat(),
                "finished_at": _time(s.finished_at),
                "jobs": [job_json(job) for job in view.jobs.get(s.uuid, [])],
            }
            for s in group.submits
        ],
    }
