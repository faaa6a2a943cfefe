"""The JSON of `/api/...`: the same objects as `butido db submits/submit/job --json` print."""

from __future__ import annotations

import uuid
from datetime import datetime

from butido_py.app import entity_json
from butido_py.app.entity_json import job_json
from butido_py.db.attempts import JobAttemptRecord
from butido_py.db.groups import GroupRecord
from butido_py.db.records import RebuildResultRecord
from butido_py.web.data import GroupView, JobView, PackageView, SubmitPage, SubmitView


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def submits_json(page: SubmitPage) -> dict[str, object]:
    return {
        "submits": [entity_json.submit_json(row.submit) for row in page.rows],
        "next_before": _time(page.next_before),
    }


def submit_json(view: SubmitView) -> dict[str, object]:
    """`db submit UUID --json`: the submit, its jobs with their edges, and its lineage."""
    submit = view.submit
    needs: dict[uuid.UUID, list[dict[str, str]]] = {job.uuid: [] for job in view.jobs}
    for edge in view.edges:
        needs[edge.job_uuid].append({"job": str(edge.depends_on_uuid), "kind": edge.kind.value})
    return {
        **entity_json.submit_json(submit),
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
    """One item of `db groups --json`: the group object, its submits without jobs."""
    return entity_json.group_json(group, None)


def group_json(view: GroupView) -> dict[str, object]:
    """`db group UUID --json`: the request, the derived state, each image's submit with its jobs."""
    return entity_json.group_json(view.group, view.jobs)
