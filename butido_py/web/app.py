"""`butido serve`: the read-only web view, a Starlette application over one `Database`.

Server-rendered pages (Jinja2 with autoescaping: logs, scripts and package names are text, never
markup), the same data as JSON under /api, and one server-sent-events stream for a running
job's log. Nothing here writes to the database. Handlers are plain functions: Starlette runs
them in its thread pool, so the synchronous queries of db/ do not block the event loop.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from butido_py.db.browse import UuidKind
from butido_py.db.database import Database
from butido_py.states import JobState, SubmitState
from butido_py.web import api, charts, dag, data, live, present

HERE = Path(__file__).resolve().parent
#: Submits per page of the listing, and the most a `limit` parameter may ask for.
PAGE_SIZE, MAX_PAGE_SIZE = 50, 500


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    env.filters.update(when=present.when, percent=present.percent, short=present.short, iso=_iso)
    env.globals.update(duration=present.duration, JobState=JobState, SubmitState=SubmitState)
    return env


def _iso(value: datetime | None) -> str:
    return "" if value is None else value.isoformat()


class Pages:
    """The handlers, bound to one database and one template environment."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.env = _environment()

    def _page(self, template: str, code: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(**context)
        return HTMLResponse(html, status_code=code)

    # --- pages ----------------------------------------------------------------------------------

    def home(self, request: Request) -> Response:
        query = _submit_query(request)
        page = data.submits_page(self.db, query)
        return self._page("submits.html", page=page, query=query, states=list(SubmitState))

    def submit(self, request: Request) -> Response:
        view = data.submit_view(self.db, self._uuid(request, "submit"))
        svg = dag.render_svg(view.jobs, view.edges)
        return self._page("submit.html", view=view, svg=svg, graphviz=dag.graphviz_available())

    def job(self, request: Request) -> Response:
        view = data.job_view(self.db, self._uuid(request, "job"))
        log = view.log.text if view.log is not None else None
        return self._page(
            "job.html",
            view=view,
            job=view.detail.job,
            outcome=present.outcome(log),
            tail=present.tail(log),
            script=present.script_html(view.detail.script_text),
            script_css=present.script_css(),
            live=not view.detail.job.state.finished,
            log_length=len(view.log.data) if view.log is not None else 0,
        )

    def job_log(self, request: Request) -> Response:
        job_uuid = self._uuid(request, "job")
        record = data.job_log(self.db, job_uuid)
        if record is None:
            raise data.NotFoundError(f"no job {job_uuid} in the database")
        return Response(record.data, media_type="text/plain; charset=utf-8")

    def log_stream(self, request: Request) -> Response:
        job_uuid = self._uuid(request, "job")
        # A reconnecting EventSource sends the offset it reached as Last-Event-ID.
        given = request.headers.get("last-event-id") or request.query_params.get("from")
        try:
            offset = _int(given, default=0, low=0, high=2**62)
        except ValueError:
            raise BadRequestError(f"bad log offset {given!r}") from None
        return live.log_events(self.db, job_uuid, offset)

    def package(self, request: Request) -> Response:
        view = data.package_view(self.db, request.path_params["name"])
        chart = charts.duration_chart(view.jobs)
        return self._page("package.html", view=view, chart=chart)

    def releases(self, request: Request) -> Response:  # noqa: ARG002
        return self._page("releases.html", releases=data.releases(self.db))

    def group(self, request: Request) -> Response:
        view = data.group_view(self.db, self._uuid(request, "group"))
        return self._page("group.html", view=view)

    def groups(self, request: Request) -> Response:
        package, state = _group_query(request)
        found = data.groups(self.db, package=package, state=state)
        return self._page(
            "groups.html",
            groups=found,
            package=package,
            state=state,
            states=list(SubmitState),
            limit=data.GROUP_LISTING,
        )

    # --- JSON -----------------------------------------------------------------------------------

    def api_submits(self, request: Request) -> Response:
        return JSONResponse(api.submits_json(data.submits_page(self.db, _submit_query(request))))

    def api_submit(self, request: Request) -> Response:
        view = data.submit_view(self.db, self._uuid(request, "submit"))
        return JSONResponse(api.submit_json(view))

    def api_job(self, request: Request) -> Response:
        return JSONResponse(api.job_detail_json(data.job_view(self.db, self._uuid(request, "job"))))

    def api_group(self, request: Request) -> Response:
        view = data.group_view(self.db, self._uuid(request, "group"))
        return JSONResponse(api.group_json(view))

    def api_groups(self, request: Request) -> Response:
        package, state = _group_query(request)
        found = data.groups(self.db, package=package, state=state)
        return JSONResponse({"groups": [api.group_row_json(g) for g in found]})

    def api_package(self, request: Request) -> Response:
        view = data.package_view(self.db, request.path_params["name"])
        return JSONResponse(api.package_json(view))

    # --- errors ---------------------------------------------------------------------------------

    def _uuid(self, request: Request, kind: UuidKind) -> uuid.UUID:
        return data.resolve(self.db, kind, request.path_params["key"])

    def not_found(self, request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code != 404:
            return self._page(
                "error.html",
                exc.status_code,
                message=exc.detail,
                matches=(),
                status=exc.status_code,
            )
        message = str(exc) if isinstance(exc, data.NotFoundError) else "no such page"
        matches = exc.matches if isinstance(exc, data.AmbiguousError) else ()
        kind = exc.kind if isinstance(exc, data.AmbiguousError) else ""
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message, "matches": [str(m) for m in matches]}, 404)
        return self._page(
            "error.html", 404, message=message, matches=matches, kind=kind, status=404
        )

    def bad_request(self, request: Request, exc: Exception) -> Response:  # noqa: ARG002
        return self._page("error.html", 400, message=str(exc), matches=(), status=400)


class BadRequestError(ValueError):
    """A query parameter that means nothing: a 400 page (other errors stay bugs, and 500s)."""


def _submit_query(request: Request) -> data.SubmitQuery:
    params = request.query_params
    state = params.get("state") or None
    if state is not None and state not in {s.value for s in SubmitState}:
        raise BadRequestError(f"unknown submit state {state!r}")
    before = params.get("before") or None
    try:
        return _query_of(params, state, before)
    except ValueError as error:
        raise BadRequestError(f"bad query parameter: {error}") from None


def _group_query(request: Request) -> tuple[str | None, SubmitState | None]:
    """The `package` and `state` filters of the group listing."""
    state = request.query_params.get("state") or None
    if state is not None and state not in {s.value for s in SubmitState}:
        raise BadRequestError(f"unknown group state {state!r}")
    return request.query_params.get("package") or None, SubmitState(state) if state else None


def _query_of(params: Any, state: str | None, before: str | None) -> data.SubmitQuery:
    return data.SubmitQuery(
        state=SubmitState(state) if state else None,
        failed_only=params.get("failed") == "1",
        package=params.get("package") or None,
        image=params.get("image") or None,
        commit=params.get("commit") or None,
        before=datetime.fromisoformat(before) if before else None,
        limit=_int(params.get("limit"), default=PAGE_SIZE, low=1, high=MAX_PAGE_SIZE),
    )


def _int(text: str | None, *, default: int, low: int, high: int) -> int:
    if not text:
        return default
    return min(high, max(low, int(text)))


def create_app(db: Database) -> Starlette:
    pages = Pages(db)
    get: Callable[[str, Callable[[Request], Response]], Route] = lambda path, handler: Route(  # noqa: E731
        path, handler, methods=["GET"]
    )
    routes = [
        get("/", pages.home),
        get("/submits/{key}", pages.submit),
        get("/jobs/{key}", pages.job),
        get("/jobs/{key}/log", pages.job_log),
        get("/jobs/{key}/log/stream", pages.log_stream),
        get("/packages/{name:path}", pages.package),
        get("/releases", pages.releases),
        get("/groups", pages.groups),
        get("/groups/{key}", pages.group),
        get("/api/submits", pages.api_submits),
        get("/api/submits/{key}", pages.api_submit),
        get("/api/jobs/{key}", pages.api_job),
        get("/api/packages/{name:path}", pages.api_package),
        get("/api/groups", pages.api_groups),
        get("/api/groups/{key}", pages.api_group),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    handlers: dict[Any, Callable[[Request, Exception], Response]] = {
        404: pages.not_found,
        HTTPException: pages.not_found,
        data.NotFoundError: pages.not_found,
        BadRequestError: pages.bad_request,
    }
    return Starlette(routes=routes, exception_handlers=handlers)
