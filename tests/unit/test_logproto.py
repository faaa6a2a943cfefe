from __future__ import annotations

import pytest

from butido_py.logproto import (
    LogParser,
    LogRecord,
    LogVerdict,
    RecordKind,
    display_form,
    display_line,
    log_outcome,
    parse_line,
    parse_log,
    stored_form,
)

LINE, PROGRESS, PHASE, OK, ERR = (
    RecordKind.LINE,
    RecordKind.PROGRESS,
    RecordKind.PHASE,
    RecordKind.OK,
    RecordKind.ERR,
)


@pytest.mark.parametrize(
    ("line", "kind", "value", "progress"),
    [
        (b"plain output", LINE, "", 0),
        (b"", LINE, "", 0),
        (b"#BUTIDO:PROGRESS:0", PROGRESS, "", 0),
        (b"#BUTIDO:PROGRESS:100", PROGRESS, "", 100),
        (b"#BUTIDO:PROGRESS:50%", PROGRESS, "", 50),  # trailing characters ignored
        (b"#BUTIDO:PROGRESS:-1", LINE, "", 0),
        (b"#BUTIDO:PROGRESS:x", LINE, "", 0),
        (b"#BUTIDO:PROGRESS:", LINE, "", 0),
        (b"#BUTIDO:PHASE:build", PHASE, "build", 0),
        (b"#BUTIDO:PHASE:", PHASE, "", 0),
        (b"#BUTIDO:PHASE:a b\\tc", PHASE, "a b\tc", 0),
        (b'#BUTIDO:PHASE:"quoted"', PHASE, "quoted", 0),
        (b"#BUTIDO:STATE:OK", OK, "", 0),
        (b"#BUTIDO:STATE:OKAY", OK, "", 0),  # anything after OK ignored
        (b"#BUTIDO:STATE:ERR:Missing input", ERR, "Missing input", 0),
        (b"#BUTIDO:STATE:ERR:", ERR, "", 0),
        (b'#BUTIDO:STATE:ERR:"Missing input"', ERR, "Missing input", 0),  # fix of quirk 4
        (b'#BUTIDO:STATE:ERR:"a \\"b\\" c" trailing', ERR, 'a "b" c', 0),
        (b'#BUTIDO:STATE:ERR:stops at " the quote', ERR, "stops at ", 0),
        (b"#BUTIDO:STATE:ERR:esc \\\\ \\/ \\n \\r \\b \\f end", ERR, "esc \\ / \n \r \b \f end", 0),
        (b"#BUTIDO:STATE:ERR:bad \\x escape", ERR, "bad ", 0),
        (b"#BUTIDO:STATE:ERR:caf\xc3\xa9 \xff", ERR, "caf\u00e9 \ufffd", 0),
        (b"#BUTIDO:STATE:WARN", LINE, "", 0),
        (b"#BUTIDO:UNKNOWN:x", LINE, "", 0),
        (b"#BUTIDO:", LINE, "", 0),
        (b" #BUTIDO:STATE:OK", LINE, "", 0),  # markers start at column 0
        (b"echo '#BUTIDO:STATE:OK'", LINE, "", 0),
        (b"#butido:STATE:OK", LINE, "", 0),
    ],
)
def test_every_line_form(line: bytes, kind: RecordKind, value: str, progress: int) -> None:
    record = parse_line(line)
    assert (record.kind, record.raw, record.value, record.progress) == (
        kind,
        line,
        value,
        progress,
    )
    assert parse_log(line + b"\n") == [record]


LOG = (
    b"start\n#BUTIDO:PROGRESS:10\n#BUTIDO:PHASE:build\n"
    b'#BUTIDO:STATE:ERR:"boom"\n#BUTIDO:STATE:OK\nend\n'
)
EXPECTED = [
    LogRecord(LINE, b"start"),
    LogRecord(PROGRESS, b"#BUTIDO:PROGRESS:10", progress=10),
    LogRecord(PHASE, b"#BUTIDO:PHASE:build", value="build"),
    LogRecord(ERR, b'#BUTIDO:STATE:ERR:"boom"', value="boom"),
    LogRecord(OK, b"#BUTIDO:STATE:OK"),
    LogRecord(LINE, b"end"),
]


def feed_in_pieces(data: bytes, cuts: list[int], *, max_line: int = 1024) -> list[LogRecord]:
    parser = LogParser(max_line=max_line)
    records: list[LogRecord] = []
    start = 0
    for cut in [*cuts, len(data)]:
        records += parser.feed(data[start:cut])
        start = cut
    return records + parser.finish()


@pytest.mark.parametrize("cut", range(len(LOG) + 1))
def test_a_chunk_boundary_anywhere_gives_the_same_records(cut: int) -> None:
    assert feed_in_pieces(LOG, [cut]) == EXPECTED


def test_byte_by_byte_feeding() -> None:
    assert feed_in_pieces(LOG, list(range(1, len(LOG)))) == EXPECTED


def test_crlf_line_ends_are_stripped_at_every_split_point() -> None:
    data = LOG.replace(b"\n", b"\r\n")
    for cut in range(len(data) + 1):
        assert feed_in_pieces(data, [cut]) == EXPECTED
    assert parse_log(b"a\rb\r\n")[0].raw == b"a\rb"  # only the \r before \n goes


def test_a_last_line_without_newline_is_emitted_by_finish() -> None:
    parser = LogParser()
    assert parser.feed(b"one\n#BUTIDO:STATE:OK") == [LogRecord(LINE, b"one")]
    assert parser.finish() == [LogRecord(OK, b"#BUTIDO:STATE:OK")]
    assert parser.finish() == []


def test_invalid_utf8_never_fails() -> None:
    records = parse_log(b"\xff\xfe\n#BUTIDO:PHASE:\xc3\n\xe2\x82")
    assert [r.text for r in records] == ["\ufffd\ufffd", "#BUTIDO:PHASE:\ufffd", "\ufffd"]
    assert records[1].value == "\ufffd"
    # a multi-byte character split across chunks is decoded whole
    assert feed_in_pieces("\u20ac\n".encode(), [1])[0].text == "\u20ac"


def test_an_over_long_line_is_split_and_never_held_whole() -> None:
    parser = LogParser(max_line=10)
    records = parser.feed(b"#BUTIDO:STATE:ERR:0123456789")
    # full pieces are emitted before the line ends
    assert [r.raw for r in records] == [b"#BUTIDO:ST", b"ATE:ERR:01"]
    records += parser.feed(b"abcdefghij") + parser.feed(b"\nnext\n")
    assert [r.raw for r in records] == [
        b"#BUTIDO:ST",
        b"ATE:ERR:01",
        b"23456789ab",
        b"cdefghij",
        b"next",
    ]
    assert {r.kind for r in records} == {LINE}


def test_a_marker_at_the_start_of_an_over_long_line_is_recognised() -> None:
    records = parse_log(b"#BUTIDO:STATE:ERR:" + b"x" * 100 + b"\n", max_line=40)
    assert records[0].kind is ERR
    assert records[0].value == "x" * 22
    assert [r.kind for r in records[1:]] == [LINE, LINE]
    assert b"".join(r.raw for r in records) == b"#BUTIDO:STATE:ERR:" + b"x" * 100


def test_continuation_pieces_are_never_markers() -> None:
    records = parse_log(b"y" * 10 + b"#BUTIDO:STATE:OK\n", max_line=10)
    assert [(r.kind, r.raw) for r in records] == [
        (LINE, b"y" * 10),
        (LINE, b"#BUTIDO:ST"),
        (LINE, b"ATE:OK"),
    ]


def test_long_lines_are_split_at_character_boundaries() -> None:
    records = parse_log(("a" + "\u20ac" * 10).encode(), max_line=10)
    assert [r.raw.decode() for r in records] == [
        "a\u20ac\u20ac\u20ac",
        "\u20ac" * 3,
        "\u20ac" * 3,
        "\u20ac",
    ]


@pytest.mark.parametrize("cut", range(0, 60, 7))
def test_long_lines_split_by_chunks_give_the_same_pieces(cut: int) -> None:
    data = b"z" * 25 + b"\n" + b"w" * 30 + b"\nend"
    assert feed_in_pieces(data, [cut], max_line=8) == parse_log(data, max_line=8)


def test_stored_form_is_canonical_without_nul_and_trailing_newline() -> None:
    records = parse_log(
        b"a\0b\n#BUTIDO:PROGRESS:50%\n#BUTIDO:PHASE:x\n#BUTIDO:STATE:OKAY\n"
        b'#BUTIDO:STATE:ERR:"m"\n\xff\n'
    )
    assert stored_form(records) == (
        "ab\n#BUTIDO:PROGRESS:50\n#BUTIDO:PHASE:x\n#BUTIDO:STATE:OK\n#BUTIDO:STATE:ERR:m\n\ufffd"
    )
    assert stored_form([]) == ""


def test_display_form_colours_markers_only_when_asked() -> None:
    records = parse_log(LOG)
    assert display_form(records, color=False) == stored_form(records)
    coloured = display_form(records, color=True).split("\n")
    assert coloured == [
        "start",
        "\x1b[36m#BUTIDO:PROGRESS:10\x1b[0m",
        "\x1b[36m#BUTIDO:PHASE:build\x1b[0m",
        "\x1b[31m#BUTIDO:STATE:ERR:boom\x1b[0m",
        "\x1b[32m#BUTIDO:STATE:OK\x1b[0m",
        "end",
    ]
    assert display_line(LogRecord(LINE, b"x\0y"), color=True) == "xy"


@pytest.mark.parametrize(
    ("log", "verdict", "error", "phase"),
    [
        (b"nothing\n", LogVerdict.UNKNOWN, None, None),
        (b"#BUTIDO:PHASE:a\n#BUTIDO:STATE:OK\n", LogVerdict.SUCCEEDED, None, "a"),
        (
            (
                b"#BUTIDO:PHASE:a\n#BUTIDO:STATE:ERR:first\n#BUTIDO:PHASE:b\n"
                b"#BUTIDO:STATE:ERR:second\n#BUTIDO:STATE:OK\n"
            ),
            LogVerdict.FAILED,
            "first",
            "a",
        ),
        (b'#BUTIDO:STATE:ERR:"quoted"\n', LogVerdict.FAILED, "quoted", None),
    ],
)
def test_log_outcome(log: bytes, verdict: LogVerdict, error: str | None, phase: str | None) -> None:
    outcome = log_outcome(parse_log(log))
    assert (outcome.verdict, outcome.error, outcome.phase) == (verdict, error, phase)


def test_max_line_must_be_sensible() -> None:
    with pytest.raises(ValueError, match="max_line"):
        LogParser(max_line=2)


@pytest.mark.parametrize("cut", range(0, len(LOG) + 1, 5))
def test_outcomes_of_log_parts_combine_to_the_outcome_of_the_whole(cut: int) -> None:
    parser = LogParser()
    first = parser.feed(LOG[:cut])
    second = parser.feed(LOG[cut:]) + parser.finish()
    combined = log_outcome(first).then(log_outcome(second))
    assert combined == log_outcome(first + second)


@pytest.mark.parametrize(
    ("first", "second", "verdict"),
    [
        (b"#BUTIDO:STATE:OK\n", b"line\n", LogVerdict.SUCCEEDED),
        (b"line\n", b"#BUTIDO:STATE:OK\n", LogVerdict.SUCCEEDED),
        (b"line\n", b"line\n", LogVerdict.UNKNOWN),
        (b"#BUTIDO:STATE:ERR:a\n", b"#BUTIDO:STATE:ERR:b\n", LogVerdict.FAILED),
        (b"#BUTIDO:STATE:OK\n", b"#BUTIDO:PHASE:p\n#BUTIDO:STATE:ERR:b\n", LogVerdict.FAILED),
    ],
)
def test_outcome_then(first: bytes, second: bytes, verdict: LogVerdict) -> None:
    combined = log_outcome(parse_log(first)).then(log_outcome(parse_log(second)))
    assert combined == log_outcome(parse_log(first + second))
    assert combined.verdict is verdict


CRLF_LONG = b"0123456789\r\n" + b"abcdefghijklmno\r\nend\r\n"


@pytest.mark.parametrize("cut", range(len(CRLF_LONG) + 1))
def test_crlf_after_a_line_of_exactly_max_line_bytes_adds_no_empty_piece(cut: int) -> None:
    data = CRLF_LONG
    expected = [
        LogRecord(LINE, b"0123456789"),
        LogRecord(LINE, b"abcdefghij"),
        LogRecord(LINE, b"klmno"),
        LogRecord(LINE, b"end"),
    ]
    assert parse_log(data, max_line=10) == expected
    assert feed_in_pieces(data, [cut], max_line=10) == expected
    assert feed_in_pieces(data, list(range(1, len(data))), max_line=10) == expected


@pytest.mark.parametrize(
    ("digits", "kind", "progress"),
    [
        (b"0" * 30 + b"7", PROGRESS, 7),  # leading zeros do not count
        (b"18446744073709551615", PROGRESS, 2**64 - 1),  # the largest 64-bit number
        (b"18446744073709551616", LINE, 0),  # butido cannot parse it: a plain line
        (b"9" * 5000, LINE, 0),  # more digits than int() accepts: never an exception
    ],
)
def test_progress_numbers_beyond_64_bits_are_plain_lines(
    digits: bytes, kind: RecordKind, progress: int
) -> None:
    record = parse_line(b"#BUTIDO:PROGRESS:" + digits)
    assert (record.kind, record.progress) == (kind, progress)
