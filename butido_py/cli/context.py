"""State shared by all commands of one invocation: global flags and the lazily loaded config."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from butido_py import tracing
from butido_py.errors import ButidoError

# Only types at the top: `butido --version`, `--help` and completions create an AppContext but
# never load the configuration, whose modules cost ~50 ms to import (issue 23: start-up time).
# The methods import what they use.
if TYPE_CHECKING:
    from butido_py.app.database import AutoSetup
    from butido_py.app.services import Services
    from butido_py.config import Config, LoadedConfig
    from butido_py.config.database import DatabaseOverrides
    from butido_py.db.database import Database
    from butido_py.repository.model import Repository, WorkTree


@dataclass(slots=True)
class AppContext:
    debug: bool = False
    hide_bars: bool = False
    #: The global -v: more detail (the build report lists every package's path).
    verbose: bool = False
    config_file: Path | None = None
    #: The global `--db-*` flags; None: none given.
    db_overrides: DatabaseOverrides | None = None
    #: Crash recovery when the database is opened (off for commands that must write nothing).
    recover: bool = True
    _loaded: LoadedConfig | None = None
    _database: Database | None = None
    _services: Services | None = None
    _repositories: dict[tuple[str, bool, bool, str], Repository] = field(default_factory=dict)
    _phases_warned: bool = False

    def loaded(self) -> LoadedConfig:
        if self._loaded is None:
            from butido_py.config import load_config  # noqa: PLC0415 - see the imports

            with tracing.span("load_config"):
                self._loaded = load_config(
                    cwd=Path.cwd(), environ=os.environ, config_file=self.config_file
                )
        return self._loaded

    @property
    def config(self) -> Config:
        return self.loaded().config

    def repository(
        self,
        commit: str = "HEAD",
        allow_dirty: bool = False,
        *,
        work_tree: bool = True,
        changes: WorkTree | None = None,
    ) -> Repository:
        """The package repository around the current directory at `commit` (cached);
        `work_tree=False` reads the commit from git objects whatever the work tree holds.

        Read-only commands read the work tree where it differs from HEAD and say so in one line
        on stderr; a build passes `changes=WorkTree.RECORD` (it reads the commit).

        The configuration is read and checked first, as butido does for every command that runs
        in a repository: a broken config.toml fails the command instead of being ignored."""
        # Imported here: GitPython is slow to import and some commands never read packages.
        from butido_py.repository.load import load_repository  # noqa: PLC0415
        from butido_py.repository.model import WorkTree  # noqa: PLC0415

        mode = changes or WorkTree.READ
        key = (commit, allow_dirty, work_tree, str(mode))
        if key not in self._repositories:
            self.loaded()
            repository = load_repository(
                Path.cwd(),
                commit=commit,
                allow_dirty=allow_dirty,
                work_tree=work_tree,
                changes=mode,
            )
            if repository.dirty:
                _note_work_tree(repository, explicit=allow_dirty)
            self._warn_unrun_phases(repository)
            self._repositories[key] = repository
        return self._repositories[key]

    def _warn_unrun_phases(self, repository: Repository) -> None:
        from butido_py.cli.warnings import echo_warning  # noqa: PLC0415 - see the imports
        from butido_py.package.phases import unrun_phases  # noqa: PLC0415

        if self._phases_warned:  # once per command, however many commits it reads
            return
        self._phases_warned = True
        for message in unrun_phases(repository.packages, self.config.available_phases):
            echo_warning(message)

    def services(self) -> Services:
        """What the application functions use (built once): the configuration, the repository,
        the database (opened on first use) and the warnings channel."""
        if self._services is None:
            from butido_py.app.services import Services  # noqa: PLC0415 - see the imports
            from butido_py.cli.warnings import echo_warning  # noqa: PLC0415

            self._services = Services(self.config, self.repository, self.database, echo_warning)
        return self._services

    def database_url(self) -> str:
        from butido_py.config.database import (  # noqa: PLC0415 - see the imports
            DatabaseOverrides,
            database_url,
        )

        loaded = self.loaded()
        overrides = self.db_overrides or DatabaseOverrides()
        return database_url(loaded.config.database, overrides, loaded.data_home)

    def database(self) -> Database:
        """The configured database (opened once). An embedded SQLite database is created or
        migrated on first use (one line on stderr); PostgreSQL's missing or out-of-date schema
        is refused, naming `db setup`.

        Opening it also records the submits of dead orchestrators `lost` (crash recovery,
        docs/recovery.md); one line on stderr per recovered submit."""
        if self._database is None:
            # Imported here: SQLAlchemy is slow to import and most commands do not need it.
            from butido_py.app.database import open_ready_database  # noqa: PLC0415

            retry = self.config.database.retry_seconds
            self._database = open_ready_database(
                self.database_url(), on_setup=_report_setup, retry_seconds=retry
            )
            if self.recover:
                self._recover(self._database)
        return self._database

    def _recover(self, database: Database) -> None:
        from butido_py.app.recovery import recover_lost_submits  # noqa: PLC0415
        from butido_py.cli.warnings import echo_warning  # noqa: PLC0415 - see the imports

        try:
            recovered = recover_lost_submits(database, self.config, warn=echo_warning)
        except ButidoError as error:  # never in the way of the command itself
            echo_warning(f"crash recovery failed: {error.message}")
            return
        for submit in recovered:
            staging = ""
            if submit.staging_removed:
                staging = (
                    f", {len(submit.staging_removed)} unrecorded files removed from its staging "
                    "directory"
                )
            click.echo(
                f"submit {submit.uuid} of pid {submit.pid} on host {submit.host} was lost: "
                f"{submit.jobs_lost} jobs marked lost, {submit.containers_removed} containers "
                f"removed{staging}",
                err=True,
            )

    @property
    def show_progress(self) -> bool:
        """Progress bars only on a terminal and never with --hide-bars (as butido)."""
        return not self.hide_bars and sys.stdout.isatty()


def _report_setup(setup: AutoSetup) -> None:
    if setup.before is None:
        done = f"created the database {setup.path} (schema revision {setup.revision})"
    else:
        done = (
            f"migrated the database {setup.path} from revision {setup.before} to {setup.revision}"
        )
    click.echo(done, err=True)


def _note_work_tree(repository: Repository, *, explicit: bool) -> None:
    """One line: the output shows files that are not committed (butido #240)."""
    count = len(repository.work_tree_changes)
    why = " (--allow-dirty)" if explicit else "; build uses the commit"
    click.echo(
        f"note: reading the work tree: {count} file(s) differ from HEAD "
        f"({repository.commit[:7]}){why}",
        err=True,
    )
