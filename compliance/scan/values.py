"""Follow a value in a module's syntax tree: literals, assignments, module constants, parameters, environment.

A traced value is a small dict (JSON, so it can be cached): `{"value", "how", ...}` with `how` one of
`literal`, `constant`, `env`, `argument`, `default`, `unknown` (scan.md), plus `env` (the variable's
name), `default` (a default the code gives), `argument` (the parameter's name) and `detail` (words for
the reasons).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

Value = dict[str, Any]
MAX_DEPTH = 12
ENV_GETTERS = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault"})


def unknown(detail: str | None = None) -> Value:
    return {"value": None, "how": "unknown", **({"detail": detail} if detail else {})}


@dataclass
class Scope:
    """A function (or the module): its parameters, local assignments and where it sits."""

    qualname: str
    node: ast.AST
    parent: Scope | None = None
    class_name: str | None = None
    params: dict[str, ast.expr | None] = field(default_factory=dict)
    assigns: dict[str, list[tuple[int, ast.expr]]] = field(default_factory=dict)
    returns: list[ast.expr] = field(default_factory=list)
    requires: list[tuple[int, str]] = field(default_factory=list)
    def_line: int = 0

    def assignment(self, name: str, line: int) -> ast.expr | None:
        """The latest assignment to `name` before `line` (or the first one, for a name set later)."""
        found = self.assigns.get(name)
        if not found:
            return None
        before = [expr for at, expr in found if at < line]
        return before[-1] if before else found[0][1]


ClassAttrs = dict[tuple[str, str], tuple[Scope, ast.expr]]  # (class, attribute) -> where `self.attr = ...` is set


class Tracer:
    """Evaluates expressions of one module to traced values."""

    def __init__(self, aliases: dict[str, str], module: Scope, class_attrs: ClassAttrs):
        self.aliases = aliases
        self.module = module
        self.class_attrs = class_attrs  # not on the module Scope: no scope refers down to another (no GC cycles)

    def qualified(self, node: ast.expr) -> str | None:
        """`genai.Client` -> `google.genai.Client` through the module's imports; None if not imported."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        base = self.aliases.get(node.id)
        if base is None:
            return None
        return ".".join([base, *reversed(parts)])

    def value(self, node: ast.expr | None, scope: Scope, line: int, depth: int = 0) -> Value:
        if node is None:
            return unknown()
        if depth > MAX_DEPTH:
            return unknown("too many steps to follow")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (str, bool, int, float)):
                return {"value": node.value, "how": "literal"}
            return unknown()
        if isinstance(node, ast.Name):
            return self._name(node.id, scope, line, depth)
        if isinstance(node, ast.Subscript):
            if self.qualified(node.value) == "os.environ":
                name = self.value(node.slice, scope, line, depth + 1)
                if isinstance(name.get("value"), str):
                    return {"value": None, "how": "env", "env": name["value"]}
            return unknown(_text(node))
        if isinstance(node, ast.Call):
            return self._call(node, scope, line, depth)
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            return self._or(node, scope, line, depth)
        if isinstance(node, (ast.JoinedStr, ast.BinOp)):
            return self._joined(node, scope, line, depth)
        if isinstance(node, ast.Attribute):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls") and scope.class_name:
                found = self.class_attrs.get((scope.class_name, node.attr))
                if found is not None:
                    return self.value(found[1], found[0], 10**9, depth + 1)
            return unknown(_text(node))
        if isinstance(node, ast.Await):
            return self.value(node.value, scope, line, depth + 1)
        return unknown(_text(node))

    def _name(self, name: str, scope: Scope, line: int, depth: int) -> Value:
        current: Scope | None = scope
        while current is not None:
            expr = current.assignment(name, line)
            if expr is not None:
                traced = self.value(expr, current, line if current is scope else 10**9, depth + 1)
                if current is self.module and traced["how"] == "literal":
                    return {**traced, "how": "constant", "detail": f"module constant {name}"}
                return traced
            if name in current.params:
                default = current.params[name]
                traced = {"value": None, "how": "argument", "argument": name,
                          "detail": f"parameter {name} of {current.qualname}"}
                if default is not None:
                    given = self.value(default, current, line, depth + 1)
                    if given.get("value") is not None:
                        traced["default"] = given["value"]
                    elif given["how"] == "env":
                        traced.update({k: given[k] for k in ("env", "default") if k in given})
                return traced
            current = current.parent
        return unknown(f"name {name}")

    def _call(self, node: ast.Call, scope: Scope, line: int, depth: int) -> Value:
        name = self.qualified(node.func)
        if name in ENV_GETTERS or (name == "os.environ.get"):
            var = self.value(node.args[0], scope, line, depth + 1) if node.args else unknown()
            if not isinstance(var.get("value"), str):
                return unknown("environment variable with a computed name")
            traced: Value = {"value": None, "how": "env", "env": var["value"]}
            fallback = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "default"), None)
            if fallback is not None:
                given = self.value(fallback, scope, line, depth + 1)
                if given.get("value") is not None:
                    traced["default"] = given["value"]
            return traced
        if isinstance(node.func, ast.Name) and node.func.id == "str" and len(node.args) == 1:
            return self.value(node.args[0], scope, line, depth + 1)
        return unknown(_text(node))

    def _or(self, node: ast.BoolOp, scope: Scope, line: int, depth: int) -> Value:
        first = self.value(node.values[0], scope, line, depth + 1)
        if first["how"] in ("env", "argument") and "default" not in first and len(node.values) > 1:
            rest = self.value(node.values[1], scope, line, depth + 1)
            if rest.get("value") is not None:
                return {**first, "default": rest["value"]}
        return first

    def _joined(self, node: ast.expr, scope: Scope, line: int, depth: int) -> Value:
        parts = _string_parts(node)
        if parts is None:
            return unknown(_text(node))
        text, pattern, hows, envs = "", "", set(), []
        for part in parts:
            if isinstance(part, str):
                text += part
                pattern += part
                continue
            traced = self.value(part, scope, line, depth + 1)
            if traced.get("value") is None:
                if traced["how"] == "env":
                    envs.append(traced["env"])
                pattern += "*"
                text = ""
                hows.add("unknown")
                continue
            text += str(traced["value"])
            pattern += str(traced["value"])
            hows.add(traced["how"])
        if "unknown" not in hows:
            how = "constant" if "constant" in hows else "literal"
            return {"value": text, "how": how}
        if len(envs) == 1:
            return {"value": None, "how": "env", "env": envs[0], "pattern": pattern}
        return {"value": None, "how": "unknown", "pattern": pattern, "detail": _text(node)}


def _string_parts(node: ast.expr) -> list[str | ast.expr] | None:
    if isinstance(node, ast.JoinedStr):
        out: list[str | ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):  # noqa: SIM114 - an expression, then a str
                out.append(value.value)
            elif isinstance(value, ast.Constant) and isinstance(value.value, str):
                out.append(value.value)
            else:
                return None
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _string_parts(node.left) if isinstance(node.left, (ast.JoinedStr, ast.BinOp)) else [node.left]
        right = _string_parts(node.right) if isinstance(node.right, (ast.JoinedStr, ast.BinOp)) else [node.right]
        if left is None or right is None:
            return None
        return [p.value if isinstance(p, ast.Constant) and isinstance(p.value, str) else p for p in (*left, *right)]
    return None


def _text(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # a description only
        return "an expression"
    return text if len(text) <= 60 else text[:57] + "..."
