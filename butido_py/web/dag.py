"""A submit's jobs as an SVG graph drawn by Graphviz `dot`: nodes coloured by state, linked to jobs.

The DOT text is made here from the recorded jobs and edges; `dot` (Debian's graphviz) lays it
out. Labels are quoted for DOT, and `dot` writes them into the SVG as XML text, so a package name
cannot inject markup. Without `dot` the page shows the job table alone, with a note.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence

from butido_py.db.records import JobDependencyRecord, JobRecord
from butido_py.process import ProcessError, run
from butido_py.states import JobState

#: Fill colours by job state (the same palette as the pages' state badges, style.css).
STATE_COLOURS = {
    JobState.PLANNED: "#e0e0e0",
    JobState.QUEUED: "#d6e4f0",
    JobState.RUNNING: "#8ec5ff",
    JobState.SUCCEEDED: "#9be29b",
    JobState.FAILED: "#ff8a80",
    JobState.DEP_FAILED: "#ffcc80",
    JobState.REUSED: "#c8e6c9",
    JobState.CANCELED: "#bdbdbd",
    JobState.LOST: "#ce93d8",
}

#: More nodes than this are not laid out (dot gets slow); the job table is there.
MAX_NODES = 400
DOT_TIMEOUT = 20.0


def _quoted(text: str) -> str:
    """A DOT string: backslashes and quotes escaped, no line breaks."""
    cleaned = re.sub(r"[\r\n]+", " ", text)
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_source(jobs: Sequence[JobRecord], edges: Sequence[JobDependencyRecord]) -> str:
    """The graph: an arrow from each job to the jobs it needs, as `tree-of` draws it."""
    lines = [
        "digraph submit {",
        '  graph [rankdir=TB, bgcolor="transparent", nodesep=0.25, ranksep=0.4];',
        '  node [shape=box, style="rounded,filled", fontname="sans-serif", fontsize=11];',
        '  edge [color="#666666", arrowsize=0.7];',
    ]
    for job in jobs:
        # Two lines: DOT's own \n escape between two quoted (and thereby escaped) parts.
        label = _quoted(f"{job.package_name} {job.package_version}")[:-1] + "\\n"
        label += _quoted(job.state.value)[1:]
        lines.append(
            f"  {_quoted(str(job.uuid))} [label={label}, "
            f'fillcolor="{STATE_COLOURS[job.state]}", '
            f'URL={_quoted("/jobs/" + str(job.uuid))}, target="_top", '
            f"tooltip={_quoted(f'{job.package_name} {job.package_version}: {job.state.value}')}, "
            f"id={_quoted('node-' + str(job.uuid))}, class={_quoted('job ' + job.state.value)}];"
        )
    for edge in edges:
        style = ', style="dashed"' if edge.kind.value == "runtime" else ""
        lines.append(f"  {_quoted(str(edge.job_uuid))} -> {_quoted(str(edge.depends_on_uuid))}"
                     f" [tooltip={_quoted(edge.kind.value)}{style}];")  # fmt: skip
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(jobs: Sequence[JobRecord], edges: Sequence[JobDependencyRecord]) -> str | None:
    """The SVG element (no XML prolog), or None when there is no `dot` or the graph is too big."""
    if not jobs or len(jobs) > MAX_NODES or shutil.which("dot") is None:
        return None
    try:
        done = run(["dot", "-Tsvg"], stdin=dot_source(jobs, edges).encode(), timeout=DOT_TIMEOUT)
    except ProcessError:
        return None
    if not done.ok:
        return None
    svg = done.stdout.decode("utf-8", "replace")
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else None


def graphviz_available() -> bool:
    return shutil.which("dot") is not None
