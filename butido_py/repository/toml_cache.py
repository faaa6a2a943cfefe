"""Parsed `pkg.toml` files cached by git blob id (`<git dir>/butido/pkg-toml.cache`).

A blob id names the file's content, so an entry can never be stale; only the entries of the last
load are kept. Parsing TOML is most of the cost of loading a large repository, and after a
commit only the changed files are parsed again. The cache is a pickle of plain data: it lives in
the git directory, where anyone able to write can already run code through hooks. Any problem
reading or writing it just means parsing again.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_FORMAT = 1


class TomlCache:
    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._entries: dict[str, dict[str, Any]] = self._read(path) if path else {}
        self._changed = False

    @staticmethod
    def _read(path: Path) -> dict[str, dict[str, Any]]:
        try:
            data = pickle.loads(path.read_bytes())  # noqa: S301 - see the module docstring
        except Exception:  # noqa: BLE001 - a missing or damaged cache is simply rebuilt
            return {}
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def get(self, blob: str | None) -> dict[str, Any] | None:
        return None if blob is None else self._entries.get(blob)

    def put(self, blob: str | None, data: dict[str, Any]) -> None:
        if blob is not None and self._path is not None:
            self._entries[blob] = data
            self._changed = True

    def save(self, keep: Iterable[str | None]) -> None:
        """Write the entries of `keep` (the blobs of this load) when anything changed."""
        if self._path is None:
            return
        kept = {blob: self._entries[blob] for blob in keep if blob in self._entries}
        if not self._changed and len(kept) == len(self._entries):
            return
        payload = pickle.dumps({"format": _FORMAT, "entries": kept}, protocol=5)
        with contextlib.suppress(OSError):
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self._path.parent, prefix=".pkg-toml.")
            try:
                with os.fdopen(fd, "wb") as stream:
                    stream.write(payload)
                Path(temporary).replace(self._path)
            finally:
                Path(temporary).unlink(missing_ok=True)
