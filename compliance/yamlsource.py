"""Safe YAML reading that remembers the line of every key and item.

Only PyYAML's safe constructors are used, so tags that try to build Python objects are
reported as problems. Aliases are followed with a node budget, so an alias bomb ends in
a clear error instead of exhausting memory.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compliance.problems import Problem

MAX_NODES = 200_000
MAX_DEPTH = 64
MAX_BYTES = 20 * 1024 * 1024

PathKey = tuple[Any, ...]
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when present: same safe constructors
_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


@dataclass
class YamlDocument:
    """A parsed file: its plain data and the 1-based line of each path inside it."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: PathKey) -> int | None:
        """The line of `path`, or of its nearest recorded ancestor."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


class _TooLarge(Exception):
    pass


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, doc: YamlDocument):
        self.loader = loader
        self.doc = doc
        self.nodes = 0

    def build(self, node: yaml.Node, path: PathKey, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooLarge(f"more than {MAX_NODES} values (or an alias bomb)")
        if depth > MAX_DEPTH:
            raise _TooLarge(f"nested deeper than {MAX_DEPTH} levels")
        self.doc.lines.setdefault(path, node.start_mark.line + 1)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
            raise yaml.constructor.ConstructorError(
                None, None, f"tag {node.tag!r} is not allowed", node.start_mark
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # a 5,000-digit integer, `!!bool maybe` (KeyError), `!!int ''` (IndexError)...
            if isinstance(exc, ValueError) and node.tag == "tag:yaml.org,2002:timestamp":
                # an impossible date (2026-02-30) stays text: the field check reports it with its line
                # and field, and the rest of the file is still validated
                return node.value
            shown = node.value if isinstance(node.value, str) else ""
            raise yaml.constructor.ConstructorError(
                None, None, f"value {shown[:40]!r} cannot be read as {node.tag.rsplit(':', 1)[-1]}",
                node.start_mark,
            ) from exc

    def _mapping(self, node: yaml.MappingNode, path: PathKey, depth: int) -> dict[Any, Any]:
        self.loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                )
            key = self.scalar(key_node)
            try:
                hash(key)
            except TypeError as exc:  # pragma: no cover - scalars are hashable
                raise yaml.constructor.ConstructorError(
                    None, None, "unhashable key", key_node.start_mark
                ) from exc
            if key in result:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            self.doc.lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, (*path, key), depth + 1)
            self.doc.lines[(*path, key)] = key_node.start_mark.line + 1
        return result


def parse_yaml(text: str, file: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse one YAML document; return it, or the problem that stopped parsing."""
    doc = YamlDocument(file=file, data=None)
    if len(text) > MAX_BYTES:
        return None, [Problem(file, None, "", f"file is larger than {MAX_BYTES // 1_048_576} MiB")]
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            doc.data = None
            return doc, []
        doc.data = _Builder(loader, doc).build(node, (), 0)
        return doc, []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        return None, [Problem(file, line, "", f"YAML error: {message}")]
    except yaml.YAMLError as exc:
        return None, [Problem(file, None, "", f"YAML error: {str(exc).splitlines()[0]}")]
    except _TooLarge as exc:
        return None, [Problem(file, None, "", f"YAML document too large: {exc}")]
    except RecursionError:
        return None, [Problem(file, None, "", "YAML document nested too deeply")]
    finally:
        loader.dispose()


def read_limited(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; OSError (or ValueError) otherwise.

    A FIFO would block a read forever and `/dev/zero` never ends, so only regular files are
    opened (non-blocking, then checked again on the open descriptor) and never more than
    `limit` + 1 bytes are read.
    """
    if not stat.S_ISREG(path.stat().st_mode):
        raise ValueError("not a regular file")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        raise ValueError(f"file is larger than {limit // 1_048_576} MiB")
    return raw


def read_yaml(path: Path, shown_as: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Read and parse a file, reporting unreadable files as problems."""
    try:
        raw = read_limited(path)
    except ValueError as exc:
        return None, [Problem(shown_as, None, "", str(exc))]
    except OSError as exc:
        return None, [Problem(shown_as, None, "", f"cannot read file: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(shown_as, None, "", f"not UTF-8 text (byte {exc.start})")]
    return parse_yaml(text, shown_as)
