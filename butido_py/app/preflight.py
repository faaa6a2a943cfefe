"""Pre-flight: the directories a command will write are checked before anything is recorded.

A build that cannot write its staging directory (or its logs with `--write-log`) would record
its plan and then fail with every job; checked first, it stops with exit 7 and nothing in the
database. Each directory is created if missing and probed with a real file (permission bits say
nothing about a read-only mount, or to root); its free space is logged, and warned about when
low.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from butido_py.app.services import Warn
from butido_py.errors import StoreError
from butido_py.orchestrator.model import PreparedBuild

log = logging.getLogger(__name__)

#: Below this many free bytes a directory that receives build results is warned about.
LOW_SPACE_BYTES = 1 << 30


@dataclass(frozen=True, slots=True)
class WritableDir:
    path: Path
    #: What it is, for messages ("staging directory", "log directory (--write-log)", …).
    role: str
    #: Where it is configured, for the hint.
    setting: str


def build_dirs(prepared: PreparedBuild) -> tuple[WritableDir, ...]:
    """What a build, rebuild or rerun writes: the submit's staging directory and, with
    `--write-log`, the log directory."""
    # The submit's own directory is made when the plan is recorded: until then its parent.
    staging = prepared.staging_dir
    staging = staging if staging.is_dir() else staging.parent
    dirs = [WritableDir(staging, "staging directory", "`staging` or --staging-dir")]
    settings = prepared.settings
    if settings.write_log and settings.log_dir is not None:
        dirs.append(WritableDir(settings.log_dir, "log directory (--write-log)", "`log_dir`"))
    return tuple(dirs)


def check_build(prepared: PreparedBuild, warn: Warn) -> None:
    """Before the plan is recorded: every directory the build writes is writable."""
    check_writable(build_dirs(prepared), warn)


def check_writable(dirs: Iterable[WritableDir], warn: Warn) -> dict[Path, int]:
    """Each directory exists (created if missing) and takes a file; its free bytes (logged, and
    warned about below LOW_SPACE_BYTES). A `StoreError` (exit 7) names the first that fails."""
    free: dict[Path, int] = {}
    for item in dirs:
        free[item.path] = _probe(item)
        log.info("%s %s: %s free", item.role, item.path, human_bytes(free[item.path]))
        if free[item.path] < LOW_SPACE_BYTES:
            warn(f"{item.role} {item.path} has only {human_bytes(free[item.path])} free")
    return free


def _probe(item: WritableDir) -> int:
    try:
        item.path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=item.path, prefix=".butido-preflight-"):
            pass
        return shutil.disk_usage(item.path).free
    except OSError as error:
        raise StoreError(
            f"{item.role} {item.path} is not writable: {error.strerror or error}",
            hint=f"make it writable for this user or point {item.setting} elsewhere "
            "(config.toml); nothing was recorded",
        ) from error


def human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def check_release_store(store_dir: Path, store: str, warn: Warn) -> None:
    """Before `release` copies or records anything: the store's directory is writable."""
    check_writable([WritableDir(store_dir, f"release store {store!r}", "`releases_root`")], warn)
