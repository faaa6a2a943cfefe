"""The duration chart of a package page: one bar per job, oldest left, as SVG drawn by the template.

Only the geometry is computed here; templates/package.html writes the `<rect>`s, so every text
in it (titles, links) goes through Jinja2's escaping like the rest of the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from butido_py.db.records import JobRecord
from butido_py.web.dag import STATE_COLOURS

WIDTH = 800
HEIGHT = 160
#: Room for the axis labels on the left and at the bottom.
LEFT = 48
BOTTOM = 18


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str
    href: str


@dataclass(frozen=True, slots=True)
class Chart:
    bars: tuple[Bar, ...]
    #: The longest duration, in seconds (the top of the y axis).
    top_seconds: int
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: int = BOTTOM


def duration_chart(jobs_newest_first: Sequence[JobRecord]) -> Chart | None:
    """Bars for the jobs that ran (reused and planned jobs have no duration); None without any."""
    ran = [
        (job, (job.finished_at - job.started_at).total_seconds())
        for job in reversed(jobs_newest_first)
        if job.started_at is not None and job.finished_at is not None
    ]
    if not ran:
        return None
    top = max(1.0, *(seconds for _, seconds in ran))
    plot_width = WIDTH - LEFT - 4
    plot_height = HEIGHT - BOTTOM - 4
    step = plot_width / len(ran)
    bars = []
    for index, (job, seconds) in enumerate(ran):
        height = max(1.0, seconds / top * plot_height)
        bars.append(
            Bar(
                x=round(LEFT + index * step + step * 0.1, 2),
                y=round(4 + plot_height - height, 2),
                width=round(max(1.0, step * 0.8), 2),
                height=round(height, 2),
                colour=STATE_COLOURS[job.state],
                title=f"{job.package_name} {job.package_version}: {round(seconds)} s, "
                f"{job.state.value}, {job.submit_time:%Y-%m-%d %H:%M}",
                href=f"/jobs/{job.uuid}",
            )
        )
    return Chart(tuple(bars), round(top))
