"""Reading a telemetry file in chunks, in worker processes when it is large: records packed into arrays.

This module imports only the standard library, msgspec and `records` (not the store, not pandas), so a
worker process starts small. A plain OTLP JSON file is cut at line starts into chunks of CHUNK bytes;
each worker reads one chunk (and, before it, up to MERGE_WINDOW bytes of lead-in, only to find the
second span of a call whose first span is in the chunk before) and hands back a `Packed`: one digest,
facts index, day and numbers per record, in flat arrays, with the distinct facts listed once. A gzip
file or a LiteLLM CSV cannot be cut (a CSV cell may hold a newline), so it is read in one stream and
packed every BATCH records. Either way the importer sees the records in file order, in bounded memory.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, pairwise
from pathlib import Path

from compliance.observe.records import (
    MERGE_WINDOW,
    Facts,
    Malformed,
    Record,
    RecordItem,
    Skipped,
    numbered,
    otlp_lines,
    read_records,
)

CHUNK = 16 << 20  # bytes of OTLP JSON per worker task
BATCH = 20_000  # records per Packed when a file is read in one stream
NAMED = 50  # malformed records named per chunk (the importer keeps the first 50 overall)
NO_COST = float("nan")


def digest(key: str) -> int:
    """A record id as a signed 64-bit integer (the first 8 bytes of its BLAKE2b-128 digest)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()[:8], "big", signed=True)


@dataclass
class Packed:
    """The records of one chunk (or batch), in file order; `lines` counts the lines the chunk covered."""

    relative: bool  # malformed line numbers count from the chunk's first line (add the lines before it)
    lines: int = 0
    records: int = 0
    ignored: int = 0
    malformed: int = 0
    named: list[tuple[int, str]] = field(default_factory=list)  # (line, why) of the first malformed records
    facts: list[Facts] = field(default_factory=list)
    keys: array[int] = field(default_factory=lambda: array("q"))
    shape: array[int] = field(default_factory=lambda: array("q"))  # index into facts
    day: array[int] = field(default_factory=lambda: array("q"))  # proleptic ordinal
    input_tokens: array[int] = field(default_factory=lambda: array("q"))
    output_tokens: array[int] = field(default_factory=lambda: array("q"))
    cached_input_tokens: array[int] = field(default_factory=lambda: array("q"))
    reported_cost: array[float] = field(default_factory=lambda: array("d"))  # NaN: the record reported none
    merged: bytearray = field(default_factory=bytearray)

    @property
    def genai(self) -> int:
        return len(self.keys)


def pack(items: Iterable[RecordItem], *, relative: bool, every: int | None = None) -> Iterator[Packed]:
    """The items packed, a new Packed every `every` records (None: one for all)."""
    packed = Packed(relative)
    index: dict[Facts, int] = {}
    for item in items:
        packed.records += 1
        if type(item) is Record:
            facts = item.facts
            at = index.get(facts)
            if at is None:
                at = index[facts] = len(packed.facts)
                packed.facts.append(facts)
            packed.keys.append(digest(item.key))
            packed.shape.append(at)
            packed.day.append(item.day.toordinal())
            packed.input_tokens.append(item.input_tokens)
            packed.output_tokens.append(item.output_tokens)
            packed.cached_input_tokens.append(item.cached_input_tokens)
            packed.reported_cost.append(NO_COST if item.reported_cost is None else item.reported_cost)
            packed.merged.append(item.merged)
            if every is not None and len(packed.keys) >= every:
                yield packed
                packed, index = Packed(relative), {}
        elif isinstance(item, Skipped):
            packed.ignored += 1
        elif isinstance(item, Malformed):
            packed.malformed += 1
            if len(packed.named) < NAMED:
                packed.named.append((item.line, item.why))
    yield packed


def read_packed(path: Path, fmt: str, *, feature_attribute: str) -> Iterator[Packed]:
    """A whole file in one stream (gzip, CSV, or a small file), packed every BATCH records."""
    return pack(read_records(path, fmt, feature_attribute=feature_attribute), relative=False, every=BATCH)


def cut(path: Path, size: int = CHUNK) -> list[tuple[int, int]]:
    """Byte ranges [start, end) of a plain file, each starting at a line start."""
    total = path.stat().st_size
    bounds = [0]
    with path.open("rb") as handle:
        while bounds[-1] + size < total:
            handle.seek(bounds[-1] + size - 1)
            handle.readline()  # to the end of the line the cut falls in
            at = handle.tell()
            if at >= total:
                break
            bounds.append(at)
    bounds.append(total)
    return list(pairwise(bounds))


def _lead_in(path: Path, start: int) -> list[tuple[int, int, bytes]]:
    """The lines starting in the MERGE_WINDOW bytes before `start` (numbered 0: they are never reported)."""
    if start == 0:
        return []
    begin = max(start - MERGE_WINDOW, 0)
    out = []
    with path.open("rb") as handle:
        handle.seek(max(begin - 1, 0))
        if begin > 0:
            handle.readline()  # a line that starts before `begin` is outside the window
        position = handle.tell()
        while position < start:
            line = handle.readline()
            out.append((0, position, line))
            position += len(line)
    return out


def read_chunk(path: Path, start: int, end: int, feature_attribute: str) -> Packed:
    """One chunk of a plain OTLP JSON file (a worker's task); line numbers count from the chunk's first line."""
    with path.open("rb") as handle:
        handle.seek(start)
        counter = _Counting(numbered(handle, start=start, first_line=1, end=end))
        items = otlp_lines(chain(_lead_in(path, start), counter), str(path), feature_attribute=feature_attribute,
                           emit_from=start)
        packed = next(pack(items, relative=True))
    packed.lines = counter.count
    return packed


class _Counting:
    """Counts the lines an iterator of numbered lines has handed out."""

    def __init__(self, lines: Iterator[tuple[int, int, bytes]]):
        self.lines, self.count = lines, 0

    def __iter__(self) -> Iterator[tuple[int, int, bytes]]:
        for item in self.lines:
            self.count += 1
            yield item
