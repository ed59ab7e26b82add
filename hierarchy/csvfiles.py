"""CSV files for the imports and exports: reading (UTF-8 line by line, comma or
semicolon, a header naming the columns), the spreadsheet formula guard, and writing.

Nothing here knows a domain: the imports say which columns they take."""

from __future__ import annotations

import csv
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO, TypeVar

T = TypeVar("T")


class BadFile(Exception):
    """The file as a whole cannot be read (one line, no traceback in the command)."""


class Utf8Lines:
    """The lines of a binary stream, decoded one at a time: a byte that is not UTF-8 is
    reported on its own line (a text stream decodes blocks ahead and cannot say where).
    A BOM on the first line is dropped."""

    def __init__(self, binary: BinaryIO, label: str):
        self.binary = binary
        self.label = label
        self.line = 0

    def readline(self) -> str:
        raw = self.binary.readline()
        if not raw:
            return ""
        self.line += 1
        try:
            text: str = raw.decode("utf-8-sig" if self.line == 1 else "utf-8")
            return text
        except UnicodeDecodeError:
            raise BadFile(f"{self.label}: line {self.line}: not UTF-8 text.") from None

    def __iter__(self) -> Iterator[str]:
        while line := self.readline():
            yield line


@contextmanager
def open_source(path: str) -> Iterator[TextIO | Utf8Lines]:
    """A text stream of a CSV file (UTF-8, with or without BOM), or standard input for '-'."""
    if path == "-":
        stdin = sys.stdin
        buffer = getattr(stdin, "buffer", None)
        if buffer is not None:
            yield Utf8Lines(buffer, "standard input")
        else:  # already text (a test's StringIO, a notebook)
            yield stdin
        return
    try:
        handle = open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        raise BadFile(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise BadFile(f"{path}: is a directory, not a CSV file.") from None
    except OSError as exc:
        raise BadFile(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    with handle:
        yield Utf8Lines(handle, path)


def _detect_delimiter(header_line: str) -> str:
    """Comma or semicolon, from the header row.

    The header holds only our column names, which contain neither character, so the
    one that occurs there is the delimiter; a file with a single column has neither
    and is read with commas. (A general sniffer looks at data rows, where commas and
    semicolons inside names and addresses make it guess wrong.)
    """
    return ";" if header_line.count(";") > header_line.count(",") else ","


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection:
# a client named "=HYPERLINK(...)" would become a link in whoever opens the export). The
# export writes such a value behind an apostrophe, which spreadsheets show as plain text,
# and the imports take that apostrophe off again, so the round trip stays identical. An
# apostrophe before anything else ("'t Hooft") is an ordinary character.
FORMULA_STARTS = ("=", "+", "-", "@")
_GUARDED_STARTS = (*FORMULA_STARTS, "'")


def guard_cell(value: object) -> object:
    """The export form of one cell: an apostrophe before a would-be formula."""
    if isinstance(value, str) and (
        value.startswith(FORMULA_STARTS)
        or (value.startswith("'") and value[1:].startswith(_GUARDED_STARTS))
    ):
        return "'" + value
    return value


def unguard_cell(value: str) -> str:
    """The inverse of guard_cell, for imports."""
    if value.startswith("'") and value[1:].startswith(_GUARDED_STARTS):
        return value[1:]
    return value


class CSVRows:
    """Stream the rows of a CSV file with a header row as (line number, values).

    Line numbers count the header as line 1; a row with quoted newlines is reported at
    the line where it starts. The header is case-insensitive, columns come in any order,
    and unknown columns are refused by name.
    """

    def __init__(
        self,
        stream: TextIO | Utf8Lines,
        *,
        columns: Iterable[str],
        required: Iterable[str],
        label: str = "file",
    ):
        self.label = label
        self.allowed = tuple(columns)
        try:
            first = stream.readline()
        except UnicodeDecodeError:
            raise BadFile(f"{label}: not UTF-8 text (line 1).") from None
        except OSError as exc:
            raise BadFile(f"{label}: cannot be read ({exc}).") from None
        if first.startswith("\ufeff"):
            first = first[1:]
        if not first.strip():
            raise BadFile(f"{label}: empty file; expected a header row on line 1.")
        self.delimiter = _detect_delimiter(first)
        self._reader = csv.reader(
            itertools.chain([first], stream), delimiter=self.delimiter, strict=False
        )
        try:
            header = next(self._reader)
        except csv.Error as exc:
            raise BadFile(f"{label}: line 1: {exc}.") from None
        names = [name.strip().lower() for name in header]
        unknown = [name for name in names if name not in self.allowed]
        if unknown:
            shown = ", ".join(repr(name) for name in unknown)
            raise BadFile(
                f"{label}: line 1: unknown column{'s' if len(unknown) > 1 else ''} {shown}; "
                f"expected some of: {', '.join(self.allowed)}."
            )
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise BadFile(f"{label}: line 1: column {', '.join(repeated)} given twice.")
        missing = [name for name in required if name not in names]
        if missing:
            raise BadFile(
                f"{label}: line 1: missing required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}."
            )
        self.present = frozenset(names)
        self.index = {name: position for position, name in enumerate(names)}
        self.width = len(names)

    def getter(self, column: str, *, unguard: bool = True) -> Callable[[list[str]], str]:
        """A fast accessor for one column: stripped text, "" when absent or short, with
        the export's formula guard taken off (see unguard_cell) unless `unguard` is off."""
        position = self.index.get(column)
        if position is None:
            return lambda row: ""
        if not unguard:
            return lambda row: row[position].strip() if position < len(row) else ""
        return lambda row: unguard_cell(row[position].strip()) if position < len(row) else ""

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        reader = self._reader
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise BadFile(f"{self.label}: not UTF-8 text (near line {start}).") from None
            except csv.Error as exc:
                raise BadFile(f"{self.label}: line {start}: {exc}.") from None
            if not row or all(not value.strip() for value in row):
                continue  # blank lines are not rows
            yield start, row


def too_wide(rows: CSVRows, line: int, row: list[str]) -> tuple[int, str, str] | None:
    if len(row) > rows.width:
        return (line, "", f"{len(row)} values but the header has {rows.width} columns.")
    return None


def progress(
    iterable: Iterable[T], *, enabled: bool, desc: str, total: int | None = None, unit: str = "rows"
) -> Iterable[T]:
    """tqdm on a terminal, the plain iterable otherwise."""
    if not enabled:
        return iterable
    from tqdm import tqdm

    shown: Iterable[T] = tqdm(
        iterable, desc=desc, total=total, unit=unit, leave=False, mininterval=0.5
    )
    return shown


def write_csv(path: Path, header: Iterable[str], rows: Iterable[Iterable[object]]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([guard_cell(value) for value in row])
            count += 1
    return count
