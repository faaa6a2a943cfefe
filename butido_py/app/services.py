"""What every application function may use besides its request: the configuration, the package
repository at a commit, the database and the channel for user warnings.

The CLI builds one `Services` per invocation (`AppContext.services()`) and passes it in; the
application functions do their own lookups through it. The database is opened on first use, so an
operation that never needs it (`endpoint stats` on a host without one) never opens it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from butido_py.config.model import Config
from butido_py.repository.model import Repository, WorkTree

if TYPE_CHECKING:
    from butido_py.db.database import Database

#: Tells the user something went less well than it should, without stopping the operation.
Warn = Callable[[str], None]


class RepositorySource(Protocol):
    """The package repository at `commit` (`work_tree=False`: read from git objects, whatever
    the work tree holds)."""

    def __call__(
        self,
        commit: str = "HEAD",
        allow_dirty: bool = False,
        *,
        work_tree: bool = True,
        changes: WorkTree | None = None,
    ) -> Repository: ...


@dataclass(frozen=True, slots=True)
class Services:
    config: Config
    repository: RepositorySource
    #: Opens the database (once: the caller caches it) and refuses an out-of-date schema.
    open_database: Callable[[], Database]
    warn: Warn

    def database(self) -> Database:
        return self.open_database()

    def repository_at(self, commit: str) -> Repository:
        """The repository of a recorded commit (its full sha), from git objects."""
        return self.repository(commit, work_tree=False)
