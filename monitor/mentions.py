"""Mentions in: JSON Lines or CSV files of what people posted about a brand, read into :class:`Mention`.

Contract: :func:`read_mentions` never raises for a bad *line*: each one becomes a :class:`BadLine` (its
line number, the id when one could be read, the reason) and every good line is kept. Only a file that
cannot be read at all (missing, not a regular file, over :data:`MAX_FILE_BYTES`, not UTF-8, a CSV with
no text column) is an :class:`~core.errors.InputError`.

Columns. A mention needs ``id``, ``text``, ``time`` and ``source``; ``author``, ``url``, ``rating`` and
``lang`` are optional. JSON Lines use those keys. A CSV may use them too, or the headers that the
export of a social-listening or review tool uses: :data:`COLUMN_NAMES` lists the headers recognised for
each field (case and spacing ignored), which covers the exports documented in docs/monitor.md
(Brandwatch, Talkwalker, Google Play reviews, Trustpilot-style review sites). ``columns`` maps a field to
a header explicitly when an export names it otherwise. A ``title`` column is joined to the text. Keys or
columns that map to no field are ignored and counted (``ReadResult.ignored``).

Times. ISO 8601 (``2026-11-03T14:22:00+08:00``, ``2026-11-03 14:22``), ``11/03/2026 14:22`` (US), or
epoch seconds or milliseconds. A time without an offset is in ``timezone``. A mention without an id gets
none invented: the line is refused.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import InputError
from core.files import read_regular_file

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_MENTIONS = 1_000_000
MAX_TEXT_CHARS = 20_000
MAX_FIELD_CHARS = 2_000  # id, source, author, url
FIELDS = ("id", "text", "time", "source", "author", "url", "rating", "lang")

# Headers recognised for each field, in order of preference, compared after casefold and with spaces,
# underscores and hyphens removed. The names come from the documented exports in docs/monitor.md.
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "mentionid", "resourceid", "reviewid", "postid", "tweetid", "messageid", "guid", "docid"),
    "text": ("text", "fulltext", "content", "body", "reviewtext", "message", "review", "comment", "snippet"),
    "title": ("title", "reviewtitle", "headline", "subject"),
    "time": (
        "time",
        "date",
        "published",
        "publishedat",
        "createdat",
        "timestamp",
        "datetime",
        "reviewsubmitdateandtime",
        "reviewsubmitmillissinceepoch",
        "reviewdate",
    ),
    "source": ("source", "sourcetype", "pagetype", "platform", "channel", "network", "domain", "site"),
    "author": ("author", "authorname", "username", "user", "fullname", "reviewer", "handle", "screenname"),
    "url": ("url", "link", "permalink", "reviewlink", "posturl"),
    "rating": ("rating", "starrating", "stars", "score", "reviewrating"),
    "lang": ("lang", "language", "reviewerlanguage", "languagecode"),
}


def _header_key(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch not in " _-\ufeff")


class Mention(BaseModel):
    """One thing someone posted: as read, before any analysis (the text is not yet masked)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=MAX_FIELD_CHARS)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    time: datetime
    source: str = Field(min_length=1, max_length=MAX_FIELD_CHARS)
    author: str | None = Field(None, max_length=MAX_FIELD_CHARS)
    url: str | None = Field(None, max_length=MAX_FIELD_CHARS)
    rating: float | None = Field(None, ge=0, le=10)
    lang: str | None = Field(None, max_length=20)

    @field_validator("id", "text", "source")
    @classmethod
    def _visible(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("expected a non-empty value")
        return value

    @field_validator("time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("expected a time with a UTC offset")
        return value


@dataclass(frozen=True)
class BadLine:
    """A line that was not read: where, which id if any, and why."""

    line: int
    reason: str
    id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "id": self.id, "reason": self.reason}


@dataclass
class ReadResult:
    mentions: list[Mention] = field(default_factory=list)
    errors: list[BadLine] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)
    """Keys or columns that map to no field, with how many lines had them."""


def zone(name: str, *, source: str = "timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"unknown time zone {name!r}; expected an IANA name such as 'Asia/Shanghai'", field=source
        ) from None


_DATE_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
)


def parse_time(value: Any, tz: ZoneInfo) -> datetime:
    """A time as read from a file (see the module docstring); ValueError saying what was expected."""
    if isinstance(value, bool) or value is None:
        raise ValueError("expected a time")
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        number = float(value)
        seconds = number / 1000 if number > 10_000_000_000 else number  # epoch milliseconds or seconds
        return datetime.fromtimestamp(seconds, tz=UTC)
    if not isinstance(value, str):
        raise ValueError(f"expected a time, got {type(value).__name__}")
    text = value.strip()
    if len(text) > 64:
        raise ValueError("expected a time (ISO 8601), got a long text")
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise ValueError(f"expected a time such as 2026-11-03T14:22:00+08:00, got {text!r}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def _mention(record: dict[str, Any], tz: ZoneInfo) -> Mention:
    data = {k: v for k, v in record.items() if v is not None and v != ""}
    title = data.pop("title", None)
    if title and isinstance(title, str) and isinstance(data.get("text"), str):
        if not data["text"].strip().startswith(title.strip()):
            data["text"] = f"{title.strip()}\n{data['text']}"
    elif title and "text" not in data:
        data["text"] = title
    for key in ("id", "source", "author", "url", "lang"):
        if isinstance(data.get(key), int | float) and not isinstance(data.get(key), bool):
            data[key] = str(data[key])  # numeric ids in exports
    if "time" in data:
        data["time"] = parse_time(data["time"], tz)
    if isinstance(data.get("rating"), str):
        data["rating"] = float(data["rating"])
    return Mention.model_validate(data)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors()[:3]:
            where = ".".join(str(p) for p in err["loc"]) or "line"
            message = err["msg"]
            if err["type"] == "missing":
                message = "missing; expected a value"
            parts.append(f"{where}: {message}")
        return "; ".join(parts)
    return str(exc)[:300]


def _decode(path: Path) -> str:
    raw = read_regular_file(path, MAX_FILE_BYTES, what="mentions file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start}); expected a JSONL or CSV file", source=path
        ) from None


def read_mentions(
    path: str | Path,
    *,
    timezone: str = "UTC",
    columns: dict[str, str] | None = None,
    file_format: str = "auto",
) -> ReadResult:
    """Read a JSONL (``.jsonl``/``.ndjson``) or CSV (``.csv``/``.tsv``) file of mentions; see the module
    docstring. ``file_format`` forces ``jsonl`` or ``csv``."""
    path = Path(path)
    tz = zone(timezone)
    fmt = file_format
    if fmt == "auto":
        suffix = path.suffix.casefold()
        fmt = (
            "jsonl"
            if suffix in (".jsonl", ".ndjson", ".json")
            else "csv"
            if suffix in (".csv", ".tsv")
            else ""
        )
        if not fmt:
            raise InputError("unknown file type; expected .jsonl or .csv (or pass --format)", source=path)
    if fmt not in ("jsonl", "csv"):
        raise InputError(f"unknown format {fmt!r}; expected 'jsonl' or 'csv'", field="format")
    for name in columns or {}:
        if name not in (*FIELDS, "title"):
            raise InputError(
                f"unknown field {name!r}; expected one of {', '.join((*FIELDS, 'title'))}", field="columns"
            )
    text = _decode(path)
    result = ReadResult()
    if fmt == "jsonl":
        records = _jsonl_records(text, result, columns or {})
    else:
        records = _csv_records(text, path, result, columns or {})
    seen: set[str] = set()
    for line, record in records:
        if len(result.mentions) >= MAX_MENTIONS:
            result.errors.append(BadLine(line, f"over {MAX_MENTIONS:,} mentions in one file; split it"))
            continue
        raw_id = record.get("id")
        shown_id = str(raw_id)[:200] if raw_id not in (None, "") else None
        try:
            mention = _mention(record, tz)
        except (ValidationError, ValueError, TypeError) as exc:
            result.errors.append(BadLine(line, _reason(exc), shown_id))
            continue
        if mention.id in seen:
            result.errors.append(BadLine(line, "duplicate id; an earlier line has it", mention.id))
            continue
        seen.add(mention.id)
        result.mentions.append(mention)
    return result


def _jsonl_records(
    text: str, result: ReadResult, columns: dict[str, str]
) -> list[tuple[int, dict[str, Any]]]:
    out = []
    renamed = {header: name for name, header in columns.items()}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) > MAX_TEXT_CHARS * 4:
            result.errors.append(BadLine(number, f"line longer than {MAX_TEXT_CHARS * 4:,} characters"))
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            result.errors.append(BadLine(number, f"not JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(value, dict):
            result.errors.append(BadLine(number, f"expected a JSON object, got {type(value).__name__}"))
            continue
        record: dict[str, Any] = {}
        for key, item in value.items():
            name = renamed.get(key, key)
            if name in (*FIELDS, "title"):
                record[name] = item
            else:
                result.ignored[key] += 1
        out.append((number, record))
    return out


def _csv_records(
    text: str, path: Path, result: ReadResult, columns: dict[str, str]
) -> list[tuple[int, dict[str, Any]]]:
    delimiter = "\t" if path.suffix.casefold() == ".tsv" else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    csv.field_size_limit(MAX_TEXT_CHARS * 4)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("empty file; expected a header row and mentions", source=path) from None
    except csv.Error as exc:
        raise InputError(f"not a CSV file ({exc})", source=path) from None
    mapping = _map_columns(header, columns, path)
    out = []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.errors.append(BadLine(line, f"not valid CSV ({exc})"))
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            result.errors.append(BadLine(line, f"{len(row)} columns; the header has {len(header)}"))
            continue
        record = {name: row[i] for name, i in mapping.items()}
        for i, cell in enumerate(row):
            if i not in mapping.values() and cell.strip():
                result.ignored[header[i]] += 1
        out.append((line, record))
    return out


def _map_columns(header: list[str], columns: dict[str, str], path: Path) -> dict[str, int]:
    keys = [_header_key(h) for h in header]
    mapping: dict[str, int] = {}
    for name, wanted in columns.items():
        key = _header_key(wanted)
        if key not in keys:
            raise InputError(
                f"no column {wanted!r} in the header ({', '.join(header)[:300]})", source=path, field=name
            )
        mapping[name] = keys.index(key)
    for name, candidates in COLUMN_NAMES.items():
        if name in mapping:
            continue
        for candidate in candidates:
            if candidate in keys and keys.index(candidate) not in mapping.values():
                mapping[name] = keys.index(candidate)
                break
    if "text" not in mapping:
        raise InputError(
            "no text column; expected one of: "
            + ", ".join(COLUMN_NAMES["text"])
            + " (or --columns text=HEADER)",
            source=path,
        )
    return mapping
