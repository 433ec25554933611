"""Find the LLM calls in one parsed module: what each call is, and what the code says about where it goes.

The result depends only on the file's text and the rules, so it is cached by content hash. Matching
to the store's routes and features happens later (`compliance.scan.findings`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from compliance.scan.prefilter import Lines
from compliance.scan.rules import FACTS, ClientRule, FactSpec, Rules
from compliance.scan.values import ClassAttrs, Scope, Tracer, Value, unknown
from compliance.store.limits import ID_BODY

MARKER = re.compile(rf"#\s*compliance:\s*feature\s*=\s*({ID_BODY})")
Call = dict[str, Any]


@dataclass
class Obj:
    """A client (or LangChain model) object made somewhere in the module."""

    rule: ClientRule
    facts: dict[str, Value]
    client: str
    line: int
    scope: Scope
    origin: int  # id() of the constructing call node
    invoked: bool = False


@dataclass
class _Walk:
    scopes: list[Scope] = field(default_factory=list)
    calls: list[tuple[ast.Call, Scope]] = field(default_factory=list)


def host_of(url: str) -> tuple[str, str]:
    """`https://x.openai.azure.com/openai/v1` -> (`x.openai.azure.com`, `/openai/v1`); a bare host is kept."""
    text = url.strip()
    if "://" not in text:
        text = "//" + text
    parts = urlsplit(text)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return host.lower(), parts.path


class ModuleScan:
    """One module: imports, scopes, assignments, then every call site that reaches an LLM."""

    def __init__(self, tree: ast.Module, lines: list[str], rules: Rules, text: str | None):
        """`text` (the module's source) turns on the pre-filter: only statements on lines naming a rule's
        word are walked for calls (`compliance.scan.prefilter`); None walks every statement."""
        self.rules = rules
        self.lines = lines
        self._pending: list[tuple[ast.stmt | ast.expr, Scope]] = []  # statements and headers whose calls may matter
        self.aliases: dict[str, str] = {}
        self.module = Scope("module", tree)
        self.class_attrs: ClassAttrs = {}
        self.functions: dict[str, Scope] = {}
        self.inits: dict[str, list[tuple[ast.Call, Scope]]] = {}
        self.walk = _Walk()
        self._objects: dict[int, Obj | None] = {}
        self._collect(tree.body, self.module, None)
        worth = Lines(text, rules, self.aliases).any_between if text is not None else None
        for node, scope in self._pending:
            if worth is None or worth(node.lineno, node.end_lineno or node.lineno):
                self._expressions(node, scope)
        self._pending = []
        self.tracer = Tracer(self.aliases, self.module, self.class_attrs)

    # --- collection: one pass over statements; expressions only where a line may matter
    def _collect(self, body: list[ast.stmt], scope: Scope, class_name: str | None) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                owner = class_name if class_name else (None if scope is self.module else scope.qualname)
                if class_name and scope is not self.module:
                    owner = f"{scope.qualname}.{class_name}"
                qual = f"{owner}.{stmt.name}" if owner else stmt.name
                inner = Scope(qual, stmt, parent=scope, class_name=class_name or scope.class_name,
                              def_line=stmt.lineno)
                args = stmt.args
                positional = [*args.posonlyargs, *args.args]
                defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
                for arg, default in zip(positional, defaults, strict=True):
                    inner.params[arg.arg] = default
                for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
                    inner.params[arg.arg] = default
                self.walk.scopes.append(inner)
                self.functions.setdefault(stmt.name, inner)
                self.functions.setdefault(qual, inner)
                self._headers(stmt.decorator_list, scope)
                self._collect(stmt.body, inner, None)
                continue
            if isinstance(stmt, ast.ClassDef):
                self._headers(stmt.decorator_list, scope)
                self._collect(stmt.body, scope, stmt.name)
                continue
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self._import(stmt)
                continue
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if stmt.value is not None:
                    for target in targets:
                        self._bind(target, stmt.value, scope, stmt.lineno)
            elif isinstance(stmt, ast.Return) and stmt.value is not None:
                scope.returns.append(stmt.value)
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                for item in stmt.items:
                    if item.optional_vars is not None:
                        self._bind(item.optional_vars, item.context_expr, scope, stmt.lineno)
            if isinstance(stmt, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try,
                                 ast.Match)) or (hasattr(ast, "TryStar") and isinstance(stmt, ast.TryStar)):
                self._compound(stmt, scope, class_name)
                continue
            self._pending.append((stmt, scope))

    def _compound(self, stmt: ast.stmt, scope: Scope, class_name: str | None) -> None:
        headers: list[ast.expr] = []
        for name in ("test", "iter", "subject"):
            node = getattr(stmt, name, None)
            if node is not None:
                headers.append(node)
        for item in getattr(stmt, "items", ()):
            headers.append(item.context_expr)
        for node in headers:
            self._pending.append((node, scope))
        for name in ("body", "orelse", "finalbody"):
            self._collect(getattr(stmt, name, []), scope, class_name)
        for handler in getattr(stmt, "handlers", ()):
            self._collect(handler.body, scope, class_name)
        for case in getattr(stmt, "cases", ()):
            self._collect(case.body, scope, class_name)

    def _headers(self, nodes: list[ast.expr], scope: Scope) -> None:
        for node in nodes:
            self._pending.append((node, scope))

    def _expressions(self, node: ast.AST, scope: Scope) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                self.walk.calls.append((sub, scope))
            elif isinstance(sub, (ast.Lambda, ast.FunctionDef)):
                continue

    def _import(self, stmt: ast.Import | ast.ImportFrom) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    self.aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    self.aliases[top] = top
            return
        if stmt.level or not stmt.module:
            return
        for alias in stmt.names:
            self.aliases[alias.asname or alias.name] = f"{stmt.module}.{alias.name}"

    def _bind(self, target: ast.expr, value: ast.expr, scope: Scope, line: int) -> None:
        if isinstance(target, ast.Name):
            scope.assigns.setdefault(target.id, []).append((line, value))
        elif (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
              and target.value.id in ("self", "cls") and scope.class_name):
            self.class_attrs.setdefault((scope.class_name, target.attr), (scope, value))

    # --- objects
    def object_of(self, node: ast.expr, scope: Scope, line: int, depth: int = 0) -> Obj | None:
        if depth > 10:
            return None
        if isinstance(node, ast.Call):
            key = id(node)
            if key not in self._objects:
                self._objects[key] = None  # guards recursion
                self._objects[key] = self._construct(node, scope, depth)
            return self._objects[key]
        if isinstance(node, ast.Name):
            current: Scope | None = scope
            at = line
            while current is not None:
                expr = current.assignment(node.id, at)
                if expr is not None:
                    return self.object_of(expr, current, at, depth + 1)
                if node.id in current.params:
                    return None
                current, at = current.parent, 10**9
            return None
        if isinstance(node, ast.Attribute):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls") and scope.class_name:
                found = self.class_attrs.get((scope.class_name, node.attr))
                if found is not None:
                    return self.object_of(found[1], found[0], 10**9, depth + 1)
            return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            for side in (node.right, node.left):
                model = self.object_of(side, scope, line, depth + 1)
                if model is not None and model.rule.kind == "model":
                    return model
            return None
        if isinstance(node, ast.Await):
            return self.object_of(node.value, scope, line, depth + 1)
        return None

    def _construct(self, call: ast.Call, scope: Scope, depth: int) -> Obj | None:
        name = self.tracer.qualified(call.func)
        rule = self.rules.by_name.get(name) if name else None
        if rule is not None and rule.kind != "function":
            if not self._required(rule, call, scope):
                return None
            label = rule.label or _label(call.func)
            return Obj(rule, self.facts(rule, call, scope), label, call.lineno, scope, id(call))
        func = call.func
        if isinstance(func, ast.Attribute):
            base = self.object_of(func.value, scope, call.lineno, depth + 1)
            if base is not None:
                if func.attr in base.rule.wrappers:
                    return base
                produced = base.rule.produces.get(func.attr)
                if produced:
                    made = self.rules.by_id[produced]
                    if not self._required(made, call, scope):
                        return None
                    facts = self.facts(made, call, scope)
                    for key, inherited in base.facts.items():
                        if key not in facts or facts[key]["how"] in ("env", "unknown", "default"):
                            facts[key] = inherited
                    return Obj(made, facts, made.label or _label(func), call.lineno, scope, id(call))
                return None
            if isinstance(func.value, ast.Name) and func.value.id == "self" and scope.class_name:
                factory = self.functions.get(f"{scope.class_name}.{func.attr}")
                return self._returned(factory, depth)
            return None
        if isinstance(func, ast.Name):
            return self._returned(self.functions.get(func.id), depth)
        return None

    def _returned(self, factory: Scope | None, depth: int) -> Obj | None:
        if factory is None:
            return None
        for expr in factory.returns:
            found = self.object_of(expr, factory, 10**9, depth + 1)
            if found is not None:
                return found
        return None

    def _required(self, rule: ClientRule, call: ast.Call, scope: Scope) -> bool:
        if not rule.requires:
            return True
        spec = FactSpec(args=tuple(rule.requires.get("args", ())), pos=rule.requires.get("pos"))
        found = self._argument(spec, call)
        if found is None:
            return False
        return self.tracer.value(found, scope, call.lineno).get("value") == rule.requires.get("equals")

    # --- facts
    def _argument(self, spec: FactSpec, call: ast.Call) -> ast.expr | None:
        for keyword in call.keywords:
            if keyword.arg is not None and keyword.arg in spec.args:
                return keyword.value
        if spec.pos is not None and len(call.args) > spec.pos and not any(
                isinstance(a, ast.Starred) for a in call.args[: spec.pos + 1]):
            return call.args[spec.pos]
        return None

    def decide(self, spec: FactSpec, call: ast.Call, scope: Scope) -> Value | None:
        if spec.value is not None:
            return {"value": spec.value, "how": "literal"}
        found = self._argument(spec, call)
        if found is not None:
            return self.tracer.value(found, scope, call.lineno)
        if spec.init:
            for init, init_scope in self.inits.get(spec.init, ()):
                given = self._argument(FactSpec(args=spec.args), init)
                if given is not None:
                    traced = self.tracer.value(given, init_scope, init.lineno)
                    return {**traced, "detail": f"{spec.init}({_text(given)})"}
        if spec.env:
            traced = {"value": None, "how": "env", "env": spec.env, "detail": "read by the SDK"}
            if spec.options:
                traced["options"] = list(spec.options)
            return traced
        if spec.default is not None:
            return {"value": spec.default, "how": "default"}
        if spec.options:
            return {"value": None, "how": "unknown", "options": list(spec.options)}
        return None

    def facts(self, rule: ClientRule, call: ast.Call, scope: Scope) -> dict[str, Value]:
        specs = dict(rule.facts)
        for variant in rule.variants:
            if self._variant_applies(variant.when, call, scope):
                specs.update(variant.facts)
                break
        out: dict[str, Value] = {}
        for name, spec in specs.items():
            if name == "model" and rule.model_at == "call" and rule.kind != "function":
                continue
            decided = self.decide(spec, call, scope)
            if decided is not None:
                out[name] = decided
        return out

    def _variant_applies(self, when: dict[str, Any], call: ast.Call, scope: Scope) -> bool:
        for key, expected in when.items():
            given = next((k.value for k in call.keywords if k.arg == key), None)
            if given is None:
                return False
            if expected == "present":
                continue
            if self.tracer.value(given, scope, call.lineno).get("value") != expected:
                return False
        return True

    # --- call sites
    def calls(self) -> list[Call]:
        for call, scope in self.walk.calls:
            name = self.tracer.qualified(call.func)
            if name and name.endswith(".init") and name in {s.init for r in self.rules.clients
                                                            for s in r.facts.values() if s.init}:
                self.inits.setdefault(name, []).append((call, scope))
            if _is_require(call):
                feature = next((k.value for k in call.keywords if k.arg == "feature"), None)
                traced = self.tracer.value(feature, scope, call.lineno) if feature is not None else None
                if traced and isinstance(traced.get("value"), str):
                    scope.requires.append((call.lineno, traced["value"]))
        found: list[Call] = []
        for call, scope in self.walk.calls:
            hit = self._call_site(call, scope)
            if hit is not None:
                found.append(hit)
        for obj in {id(o): o for o in self._objects.values() if o is not None}.values():
            if obj.rule.kind == "model" and not obj.invoked:
                made = self._record(obj.rule, obj, None, obj.scope, obj.line, callee=obj.client, construction=True)
                if made is not None:
                    found.append(made)
        found.sort(key=lambda c: (c["line"], c["col"]))
        return found

    def _call_site(self, call: ast.Call, scope: Scope) -> Call | None:
        name = self.tracer.qualified(call.func)
        rule = self.rules.by_name.get(name) if name else None
        if rule is not None and rule.kind == "function":
            return self._function_call(rule, call, scope)
        if rule is not None and rule.kind == "model":
            self.object_of(call, scope, call.lineno)  # a LangChain model made here
        func = call.func
        if not isinstance(func, ast.Attribute):
            return None
        path = [func.attr]
        node: ast.expr = func.value
        while True:
            obj = self.object_of(node, scope, call.lineno)
            if obj is not None:
                method = ".".join(path)
                if method in obj.rule.calls:
                    obj.invoked = True
                    return self._record(obj.rule, obj, call, scope, call.lineno, callee=_text(func))
                return None
            if isinstance(node, ast.Attribute):
                path.insert(0, node.attr)
                node = node.value
                continue
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                return None
            return None

    def _function_call(self, rule: ClientRule, call: ast.Call, scope: Scope) -> Call | None:
        if rule.sdk == "http":
            return self._http(rule, call, scope, None)
        facts = self.facts(rule, call, scope)
        model = facts.get("model", {}).get("value")
        extra: dict[str, FactSpec] = {}
        if isinstance(model, str):
            prefix = next((p for p in rule.model_prefixes if model.startswith(p)), None)
            if prefix is not None:
                extra = rule.model_prefixes[prefix]
                facts["model"] = {**facts["model"], "value": model[len(prefix):], "detail": f"litellm model {model}"}
            else:
                import fnmatch

                extra = next((v for k, v in rule.model_names.items() if fnmatch.fnmatchcase(model, k)), {})
        for key, spec in extra.items():
            decided = self.decide(spec, call, scope)
            if decided is not None and (key not in facts or key != "host" or facts[key]["how"] == "unknown"):
                facts[key] = decided
        obj = Obj(rule, facts, name_of(call.func), call.lineno, scope, id(call))
        return self._record(rule, obj, call, scope, call.lineno, callee=_text(call.func), facts_done=True)

    def _http(self, rule: ClientRule, call: ast.Call, scope: Scope, base: Obj | None) -> Call | None:
        url = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "url"), None)
        if rule.id == "http" and _text(call.func).endswith("request"):
            method = self.tracer.value(call.args[0], scope, call.lineno) if call.args else unknown()
            if str(method.get("value", "")).upper() != "POST":
                return None
            url = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "url"),
                                                                 None)
        traced = self.tracer.value(url, scope, call.lineno) if url is not None else unknown()
        text = traced.get("value")
        base_host = base.facts.get("host", {}).get("value") if base else None
        if not isinstance(text, str):
            return None
        host, path = host_of(text) if "://" in text or not base_host else (host_of(str(base_host))[0], text)
        endpoint = self.rules.endpoint(host) if host else None
        if not ((endpoint and not endpoint[0].self_hosted) or self.rules.is_llm_path(path)):
            return None
        facts: dict[str, Value] = {"host": {**traced, "value": host}}
        body = next((k.value for k in call.keywords if k.arg in ("json", "data")), None)
        if isinstance(body, ast.Dict):
            for key, value in zip(body.keys, body.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in ("model", "modelId"):
                    facts["model"] = self.tracer.value(value, scope, call.lineno)
        obj = Obj(rule, facts, base.client if base else name_of(call.func), call.lineno, scope, id(call))
        return self._record(rule, obj, call, scope, call.lineno, callee=_text(call.func), facts_done=True)

    def _record(self, rule: ClientRule, obj: Obj, call: ast.Call | None, scope: Scope, line: int, *,
                callee: str, construction: bool = False, facts_done: bool = False) -> Call | None:
        if rule.kind == "http" and call is not None and not facts_done:
            return self._http(rule, call, scope, obj)
        facts = dict(obj.facts)
        if call is not None and not facts_done:
            spec = rule.facts.get("model")
            if spec is not None and rule.model_at == "call":
                decided = self.decide(spec, call, scope)
                if decided is not None:
                    facts["model"] = decided
        self._apply_host(facts)
        end = call.end_lineno if call is not None and call.end_lineno else line
        marker = None
        for number in range(line, end + 1):
            found = MARKER.search(self.lines[number - 1]) if number - 1 < len(self.lines) else None
            if found:
                marker = found.group(1)
                break
        def_marker = None
        if scope.def_line and scope.def_line - 1 < len(self.lines):
            found = MARKER.search(self.lines[scope.def_line - 1])
            def_marker = found.group(1) if found else None
        return {
            "line": line, "col": call.col_offset if call is not None else 0, "function": scope.qualname,
            "sdk": rule.sdk, "callee": callee, "client": obj.client,
            "facts": {k: facts[k] for k in FACTS if k in facts},
            "marker": marker, "def_marker": def_marker, "construction": construction,
            "requires": [[at, feature] for at, feature in scope.requires],
        }

    def _apply_host(self, facts: dict[str, Value]) -> None:
        host = facts.get("host")
        if host is None:
            return
        value = host.get("value")
        if isinstance(value, str):
            bare, _ = host_of(value)
            facts["host"] = {**host, "value": bare}
            hit = self.rules.endpoint(bare)
            if hit is None:
                for key in ("processor", "service", "region"):
                    facts.pop(key, None)
                facts["host"]["detail"] = "not a known LLM endpoint: only a route's scan hosts hint can place it"
                return
            endpoint, decided = hit
            for key in ("processor", "service", "region"):
                if key in decided:
                    facts[key] = {"value": decided[key], "how": host["how"], "detail": f"host {bare}"}
                elif endpoint.self_hosted or key != "region":
                    facts.pop(key, None)
            if endpoint.self_hosted:
                facts["host"]["detail"] = "a self-hosted server"
        elif host.get("how") in ("env",) and host.get("default"):
            facts["host"] = {**host, "default": host_of(str(host["default"]))[0]}


def _is_require(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "require") or (
        isinstance(func, ast.Attribute) and func.attr == "require")


def name_of(node: ast.expr) -> str:
    return _text(node)


def _label(node: ast.expr) -> str:
    """The client as the code names it: `AnthropicBedrock`, `genai.Client`."""
    text = _text(node)
    last = text.rsplit(".", 1)[-1]
    return text if last == "Client" and "." in text else last


def _text(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 120 else text[:117] + "..."
