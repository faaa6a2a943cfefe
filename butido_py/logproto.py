"""The in-container log protocol (butido-reference.md §6): `#BUTIDO:` lines in the job output.

`LogParser` is incremental: feed it the bytes of the container's output in chunks split
anywhere, get `LogRecord`s back. Differences from butido, all deliberate:

- `#BUTIDO:STATE:ERR:"message"` (the documented form) yields `message`, not an empty string;
  the same quoted form is accepted for `#BUTIDO:PHASE:"name"`;
- invalid UTF-8 never fails: it becomes U+FFFD when a line is decoded;
- a line longer than `max_line` bytes is emitted in pieces instead of being held in memory whole
  (only the first piece can be a marker: the others do not start at column 0);
- a `\\r` before the `\\n` is dropped; a last line without `\\n` is emitted by `finish()`.

Plain lines keep their raw bytes and are decoded only when their text is needed, so that the
parser keeps up with a fast build log (bench/bench_logproto.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NamedTuple

MARKER: Final = b"#BUTIDO:"
DEFAULT_MAX_LINE: Final = 64 * 1024
#: butido parses the progress number as a 64-bit integer; a larger one leaves a plain line.
MAX_PROGRESS: Final = 2**64 - 1

_PROGRESS: Final = re.compile(rb"#BUTIDO:PROGRESS:([0-9]+)")
_PHASE: Final = b"#BUTIDO:PHASE:"
_ERR: Final = b"#BUTIDO:STATE:ERR:"
_OK: Final = b"#BUTIDO:STATE:OK"
#: butido's "string": characters up to the first `"` or backslash that starts no known escape.
_STRING: Final = re.compile(r'(?:[^"\\]|\\[\\/"bfnrt])*')
_ESCAPES: Final = {"\\": "\\", "/": "/", '"': '"', "b": "\b", "f": "\f", "n": "\n", "r": "\r",
                   "t": "\t"}  # fmt: skip
_ESCAPE: Final = re.compile(r"\\(.)")


class RecordKind(StrEnum):
    LINE = "line"
    PROGRESS = "progress"
    PHASE = "phase"
    OK = "ok"
    ERR = "err"


class LogRecord(NamedTuple):
    """One line of the log. A named tuple, not a dataclass: the parser creates millions."""

    kind: RecordKind
    #: The line as received (without `\n` and a trailing `\r`).
    raw: bytes
    #: The phase name or error message (PHASE, ERR); empty otherwise.
    value: str = ""
    #: The percentage of a PROGRESS record.
    progress: int = 0

    @property
    def text(self) -> str:
        """The raw line decoded (invalid UTF-8 replaced)."""
        return self.raw.decode("utf-8", "replace")

    @property
    def canonical(self) -> str:
        """The stored form of this record (§6.3): plain lines verbatim, markers canonical."""
        if self.kind is RecordKind.LINE:
            return self.text
        if self.kind is RecordKind.PROGRESS:
            return f"#BUTIDO:PROGRESS:{self.progress}"
        if self.kind is RecordKind.PHASE:
            return f"#BUTIDO:PHASE:{self.value}"
        if self.kind is RecordKind.OK:
            return "#BUTIDO:STATE:OK"
        return f"#BUTIDO:STATE:ERR:{self.value}"


def parse_line(raw: bytes) -> LogRecord:
    """One line (no line break) as a record; every line that is no marker is a LINE."""
    if not raw.startswith(MARKER):
        return LogRecord(RecordKind.LINE, raw)
    return _parse_marker(raw)


def _parse_marker(raw: bytes) -> LogRecord:
    if raw.startswith(_OK):
        return LogRecord(RecordKind.OK, raw)
    if raw.startswith(_ERR):
        return LogRecord(RecordKind.ERR, raw, value=_string(raw[len(_ERR) :]))
    if raw.startswith(_PHASE):
        return LogRecord(RecordKind.PHASE, raw, value=_string(raw[len(_PHASE) :]))
    match = _PROGRESS.match(raw)
    if match is not None:
        # Checked before `int()`, which refuses 4,300 digits and more (a crafted log line).
        digits = match.group(1).lstrip(b"0") or b"0"
        if len(digits) <= len(str(MAX_PROGRESS)) and int(digits) <= MAX_PROGRESS:
            return LogRecord(RecordKind.PROGRESS, raw, progress=int(digits))
    return LogRecord(RecordKind.LINE, raw)


def _string(rest: bytes) -> str:
    text = rest.decode("utf-8", "replace")
    if text.startswith('"'):
        text = text[1:]  # the quoted form: the closing quote ends the string as usual
    if "\\" not in text and '"' not in text:
        return text
    match = _STRING.match(text)
    body = match.group(0) if match is not None else ""
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], body)


class LogParser:
    """Incremental parser: `feed()` chunks, `finish()` at the end of the stream."""

    __slots__ = ("_continued", "_max_line", "_pending")

    def __init__(self, *, max_line: int = DEFAULT_MAX_LINE) -> None:
        if max_line < 8:
            raise ValueError("max_line must be at least 8 bytes")
        self._pending = b""
        self._max_line = max_line
        #: The pending bytes continue an over-long line (so they are no marker).
        self._continued = False

    def feed(self, chunk: bytes) -> list[LogRecord]:
        data = self._pending + chunk if self._pending else chunk
        lines = data.split(b"\n")
        self._pending = lines.pop()
        records: list[LogRecord] = []
        if lines and self._continued:
            self._continued = False
            records.extend(self._pieces(_strip_cr(lines[0]), continued=True))
            del lines[0]
        if b"\r" in data:
            lines = [_strip_cr(line) for line in lines]
        max_line = self._max_line
        if lines and max(map(len, lines)) > max_line:
            for line in lines:
                records.extend(self._pieces(line, continued=False))
        else:
            # The hot path: one comprehension, a tuple per plain line, markers parsed.
            records.extend(
                [
                    _parse_marker(line)
                    if line.startswith(MARKER)
                    else _new(LogRecord, (_LINE, line, "", 0))
                    for line in lines
                ]
            )
        if len(self._pending) > max_line + 1:
            records.extend(self._flush_long())
        return records

    def finish(self) -> list[LogRecord]:
        """The last line when the stream did not end with a line break."""
        pending, self._pending = self._pending, b""
        continued, self._continued = self._continued, False
        if not pending:
            return []
        return self._pieces(_strip_cr(pending), continued=continued)

    def _pieces(self, line: bytes, *, continued: bool) -> list[LogRecord]:
        """A complete line as records: pieces of at most `max_line` bytes."""
        records = []
        while len(line) > self._max_line:
            cut = _utf8_cut(line, self._max_line)
            records.append(_piece(line[:cut], continued=continued))
            line = line[cut:]
            continued = True
        records.append(_piece(line, continued=continued))
        return records

    def _flush_long(self) -> list[LogRecord]:
        """Emit the full pieces of an unfinished over-long line; keep the rest pending.

        One byte more than `max_line` stays pending: it may be the `\\r` of a CRLF, which must
        not become a piece of its own.
        """
        records = []
        while len(self._pending) > self._max_line + 1:
            cut = _utf8_cut(self._pending, self._max_line)
            records.append(_piece(self._pending[:cut], continued=self._continued))
            self._pending = self._pending[cut:]
            self._continued = True
        return records


_LINE: Final = RecordKind.LINE
_new: Final = tuple.__new__


def _piece(data: bytes, *, continued: bool) -> LogRecord:
    """Only a piece that starts a line (column 0) can be a marker."""
    return LogRecord(RecordKind.LINE, data) if continued else parse_line(data)


def _strip_cr(line: bytes) -> bytes:
    return line[:-1] if line.endswith(b"\r") else line


def _utf8_cut(data: bytes, limit: int) -> int:
    """A cut position at most `limit`, moved back (at most 3 bytes) to a character boundary."""
    cut = limit
    while cut > limit - 3 and (data[cut] & 0xC0) == 0x80:
        cut -= 1
    return cut


def parse_log(data: bytes, *, max_line: int = DEFAULT_MAX_LINE) -> list[LogRecord]:
    """All records of a complete log."""
    parser = LogParser(max_line=max_line)
    return parser.feed(data) + parser.finish()


# --- stored and displayed forms -------------------------------------------------------------

ANSI_RESET: Final = "\x1b[0m"
_COLORS: Final = {
    RecordKind.PROGRESS: "\x1b[36m",  # cyan
    RecordKind.PHASE: "\x1b[36m",
    RecordKind.OK: "\x1b[32m",  # green
    RecordKind.ERR: "\x1b[31m",  # red
}


def stored_form(records: Iterable[LogRecord]) -> str:
    """The text stored as the job's log (§6.3): canonical lines joined by `\\n`, no NUL bytes."""
    parts = [r.raw if r.kind is _LINE else r.canonical.encode() for r in records]
    return b"\n".join(parts).decode("utf-8", "replace").replace("\0", "")


#: What a log may send to a terminal: SGR colour sequences (ESC [ … m); every other control
#: character (C0 but tab and line feed, DEL, C1) is shown in caret notation instead, so that an
#: OSC title, a carriage return or a cursor movement from a job's output is seen, not obeyed.
_TERMINAL_UNSAFE: Final = re.compile(r"\x1b\[[0-9;:]*m|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """`text` (a log line, an error message from a log) safe to write to a terminal."""
    return _TERMINAL_UNSAFE.sub(_neutralise, text)


def _neutralise(match: re.Match[str]) -> str:
    found = match.group(0)
    if len(found) > 1:
        return found  # colour
    code = ord(found)
    if code < 0x20:
        return "^" + chr(code + 0x40)
    return "^?" if code == 0x7F else f"\\x{code:02x}"


def display_line(record: LogRecord, *, color: bool) -> str:
    """One record for people: the stored form, markers coloured when `color` is set, control
    sequences other than colour neutralised (`terminal_safe`)."""
    text = terminal_safe(record.canonical.replace("\0", ""))
    code = _COLORS.get(record.kind) if color else None
    return f"{code}{text}{ANSI_RESET}" if code else text


def display_form(records: Iterable[LogRecord], *, color: bool) -> str:
    return "\n".join(display_line(record, color=color) for record in records)


# --- outcome --------------------------------------------------------------------------------


class LogVerdict(StrEnum):
    FAILED = "failed"  # at least one STATE:ERR line
    SUCCEEDED = "succeeded"  # a STATE:OK line and no STATE:ERR line
    UNKNOWN = "unknown"  # no STATE line at all


@dataclass(frozen=True, slots=True)
class LogOutcome:
    verdict: LogVerdict
    #: The message of the first STATE:ERR line.
    error: str | None = None
    #: The last phase announced before the first error (or the end of the log).
    phase: str | None = None

    def then(self, later: LogOutcome) -> LogOutcome:
        """The outcome of a log made of this part followed by `later` (for streamed logs)."""
        if self.verdict is LogVerdict.FAILED:
            return self
        phase = later.phase if later.phase is not None else self.phase
        if later.verdict is LogVerdict.FAILED:
            return LogOutcome(LogVerdict.FAILED, error=later.error, phase=phase)
        verdict = (
            LogVerdict.SUCCEEDED
            if LogVerdict.SUCCEEDED in (self.verdict, later.verdict)
            else LogVerdict.UNKNOWN
        )
        return LogOutcome(verdict, phase=phase)


def log_outcome(records: Iterable[LogRecord]) -> LogOutcome:
    """What the log says about the job: any ERR fails it with the first ERR's message.

    Later OK lines do not rescue a failed job (butido's build-time rule). The exit code of the
    script is the caller's to combine with this.
    """
    phase: str | None = None
    saw_ok = False
    for record in records:
        kind = record.kind
        if kind is RecordKind.LINE:
            continue
        if kind is RecordKind.PHASE:
            phase = record.value
        elif kind is RecordKind.ERR:
            return LogOutcome(LogVerdict.FAILED, error=record.value, phase=phase)
        elif kind is RecordKind.OK:
            saw_ok = True
    return LogOutcome(LogVerdict.SUCCEEDED if saw_ok else LogVerdict.UNKNOWN, phase=phase)
