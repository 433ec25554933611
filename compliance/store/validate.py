"""Read a data folder and check all of it before anything is written.

Every problem is collected (syntax, unknown keys, types, enum values, dangling
references, missing parents, duplicate ids), each with file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from compliance.problems import Problem, closest, display_path
from compliance.store import documents as d
from compliance.store import taxonomy
from compliance.yamlsource import PathKey, YamlDocument, read_yaml

FILES: dict[str, tuple[str, ...]] = {
    "providers.yaml": ("providers",),
    "routes.yaml": ("routes",),
    "categories.yaml": ("categories",),
    "features.yaml": ("features",),
    "costs.yaml": ("segments", "projection", "price_overrides"),
    "subprocessors.yaml": ("notice",),
    "evals.yaml": ("evals",),
}
ITEM_MODELS: dict[str, type[BaseModel]] = {
    "providers": d.Provider,
    "routes": d.Route,
    "categories": d.Category,
    "features": d.Feature,
    "segments": d.CostSegment,
    "price_overrides": d.PriceOverride,
    "evals": d.EvalResult,
}
ITEM_KEY = {"categories": "key"}


def describe_error(error: Any) -> str:
    """A pydantic error in words a YAML author understands."""
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required field is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "enum":
        expected = error.get("ctx", {}).get("expected", "")
        message = f"must be one of {expected}"
    elif kind == "string_pattern_mismatch":
        message = "must be lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
    value = error.get("input")
    if kind == "value_error" and isinstance(value, dict):  # a record's own check: its message says it all
        return message
    if isinstance(value, (dict, list)):
        return f"{message} (got a {'mapping' if isinstance(value, dict) else 'list'})"
    shown = repr(value)
    return f"{message} (got {shown[:60]})"


@dataclass
class _Unparsed:
    """A record that failed its own checks: its raw mapping and where its errors are, so its
    references can still be checked (a type error must not hide a dangling reference)."""

    doc: YamlDocument
    path: PathKey
    raw: dict[str, Any]
    errors: list[tuple[Any, ...]]

    def has_error_at(self, path: PathKey) -> bool:
        """Whether a field on `path` (or a field containing it) has a problem of its own already."""
        return any(loc and tuple(path[:len(loc)]) == loc for loc in self.errors)


@dataclass
class _Reader:
    """Collects problems while turning YAML documents into validated items."""

    problems: list[Problem]
    declared: dict[str, set[str]] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)
    # every record whose id is readable, parsed or not, in file order (for duplicate ids)
    places: dict[str, list[tuple[YamlDocument, PathKey, str]]] = field(default_factory=dict)
    unparsed: dict[str, list[_Unparsed]] = field(default_factory=dict)

    def field_name(self, path: PathKey, label: str | None) -> str:
        parts: list[str] = []
        for i, part in enumerate(path):
            if isinstance(part, int):
                parts[-1] += f"[{label}]" if (i == 1 and label) else f"[{part}]"
            else:
                parts.append(str(part))
        return ".".join(parts)

    def report(self, doc: YamlDocument, path: PathKey, message: str, label: str | None = None) -> None:
        self.problems.append(Problem(doc.file, doc.line_of(path), self.field_name(path, label), message))

    def items(self, doc: YamlDocument, section: str, raw: Any) -> list[tuple[PathKey, BaseModel]]:
        """Validate each list item on its own, so one bad item hides no other problem."""
        model = ITEM_MODELS[section]
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.report(doc, (section,), "must be a list")
            return []
        good: list[tuple[PathKey, BaseModel]] = []
        for i, item in enumerate(raw):
            path = (section, i)
            label = None
            if isinstance(item, dict):
                value = item.get(ITEM_KEY.get(section, "id"))
                label = value if isinstance(value, str) else None
                if label:  # references to a record with other mistakes are not reported again
                    self.declared.setdefault(section, set()).add(label)
                    self.places.setdefault(section, []).append((doc, path, label))
            else:
                self.report(doc, path, "must be a mapping")
                continue
            try:
                good.append((path, model.model_validate(item)))
            except ValidationError as exc:
                locs = [_without_tags(error["loc"]) for error in exc.errors()]
                for error, loc in zip(exc.errors(), locs, strict=True):
                    self.report(doc, (*path, *loc), describe_error(error), label)
                self.unparsed.setdefault(section, []).append(_Unparsed(doc, path, item, locs))
        return good

    def single(self, doc: YamlDocument, section: str, model: type[BaseModel], raw: Any) -> BaseModel | None:
        if raw is None:
            return model()
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors():
                self.report(doc, (section, *error["loc"]), describe_error(error))
            if isinstance(raw, dict):
                self.unparsed.setdefault(section, []).append(
                    _Unparsed(doc, (section,), raw, [tuple(error["loc"]) for error in exc.errors()]))
            return None


def _without_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """An error's location without the union tag of a route's model entry (`models[2].entry` -> `models[2]`)."""
    return tuple(part for i, part in enumerate(loc)
                 if not (part in ("id", "entry") and i >= 2 and loc[i - 2] == "models" and isinstance(loc[i - 1], int)))


def _segments_as_list(doc: YamlDocument, raw: Any) -> Any:
    """Accept `segments:` as a mapping keyed by id (data.md) as well as a list."""
    if not isinstance(raw, dict):
        return raw
    items = []
    for i, (key, body) in enumerate(raw.items()):
        for path, line in list(doc.lines.items()):
            if path[:2] == ("segments", key):
                doc.lines[("segments", i, *path[2:])] = line
        doc.lines[("segments", i, "id")] = doc.lines.get(("segments", key), 1)
        items.append({"id": key, **body} if isinstance(body, dict) else body)
    return items


@dataclass
class _Located:
    """A validated item with where it came from."""

    doc: YamlDocument
    path: PathKey
    item: Any


def read_data_dir(directory: Path) -> tuple[d.DataSet | None, list[Problem], dict[str, YamlDocument]]:
    """Validate a whole data folder; return the data set only if there is no problem."""
    problems: list[Problem] = []
    reader = _Reader(problems)
    shown = display_path(directory)
    if not directory.is_dir():
        return None, [Problem(shown, None, "", "not a directory")], {}
    docs: dict[str, YamlDocument] = {}
    for path in sorted(directory.glob("*.y*ml")):
        if path.name not in FILES:
            problems.append(
                Problem(display_path(path), None, "", f"unknown data file{closest(path.name, FILES)}; "
                        f"expected {', '.join(FILES)}")
            )
            continue
        doc, found = read_yaml(path, display_path(path))
        problems.extend(found)
        if doc is not None:
            docs[path.name] = doc
        else:  # its ids are unknowable: do not report every reference to them as dangling
            reader.unreadable.update(FILES[path.name])
    if not docs and not problems:
        problems.append(Problem(shown, None, "", f"no data files found; expected {', '.join(FILES)}"))

    located: dict[str, list[_Located]] = {section: [] for section in ITEM_MODELS}
    projection: d.Projection | None = d.Projection()
    notice: d.Notice | None = None
    for name, doc in docs.items():
        data = doc.data
        if data is None:
            continue
        if not isinstance(data, dict):
            reader.report(doc, (), f"top level must be a mapping with {', '.join(FILES[name])}")
            continue
        for key in data:
            if key not in FILES[name]:
                reader.report(doc, (key,), f"unknown key{closest(str(key), FILES[name])}")
        for section in FILES[name]:
            raw = data.get(section)
            if section == "projection":
                model = reader.single(doc, section, d.Projection, raw)
                projection = model if isinstance(model, d.Projection) else None
                continue
            if section == "notice":
                found_notice = reader.single(doc, section, d.Notice, raw)
                notice = found_notice if isinstance(found_notice, d.Notice) else None
                continue
            if section == "segments":
                raw = _segments_as_list(doc, raw)
            for item_path, item in reader.items(doc, section, raw):
                located[section].append(_Located(doc, item_path, item))

    _check_references(reader, located)
    costs_doc = docs.get("costs.yaml")
    if projection is not None and costs_doc is not None:
        _check_projection(reader, costs_doc, projection)
    notice_doc = docs.get("subprocessors.yaml")
    if notice is not None and notice_doc is not None:
        _check_notice(reader, notice_doc, [(i, a.processor) for i, a in enumerate(notice.announcements)])
    for unparsed in reader.unparsed.get("notice", []):  # a notice with mistakes: its readable processors
        raw = unparsed.raw.get("announcements")
        _check_notice(reader, unparsed.doc, [
            (i, a["processor"]) for i, a in enumerate(raw if isinstance(raw, list) else [])
            if isinstance(a, dict) and isinstance(a.get("processor"), str)
            and not unparsed.has_error_at(("announcements", i, "processor"))])
    if problems:
        return None, problems, docs
    overrides = [x.item for x in located["price_overrides"]]
    for n, override in enumerate(overrides, start=1):
        if override.id is None:
            override.id = f"override-{n}"
    evals = [x.item for x in located["evals"]]
    taken = {e.id for e in evals if e.id}
    for n, result in enumerate(evals, start=1):
        if result.id is None:
            result.id = next(f"eval-{k}" for k in range(n, n + len(evals) + 1) if f"eval-{k}" not in taken)
            taken.add(result.id)
    dataset = d.DataSet(
        providers=[x.item for x in located["providers"]],
        routes=[x.item for x in located["routes"]],
        categories=[x.item for x in located["categories"]],
        features=[x.item for x in located["features"]],
        costs=d.Costs(
            segments=[x.item for x in located["segments"]],
            projection=projection or d.Projection(),
            price_overrides=overrides,
        ),
        notice=notice,
        evals=evals,
    )
    return dataset, [], docs


def _unique(reader: _Reader, section: str, key: str, what: str) -> None:
    """Each id once, over every record whose id is readable (one with other mistakes too)."""
    seen: dict[str, tuple[YamlDocument, PathKey]] = {}
    for doc, path, value in reader.places.get(section, []):
        if value in seen:
            first_doc, first_path = seen[value]
            reader.report(doc, (*path, key),
                          f"duplicate {what} {value!r} (first at {first_doc.file}:{first_doc.line_of(first_path)})",
                          value)
        else:
            seen[value] = (doc, path)


def _check_references(reader: _Reader, located: dict[str, list[_Located]]) -> None:
    for section, what in (("providers", "provider id"), ("routes", "route id"), ("categories", "category key"),
                          ("features", "feature id"), ("segments", "segment id"),
                          ("price_overrides", "price override id"), ("evals", "eval id")):
        _unique(reader, section, ITEM_KEY.get(section, "id"), what)
    providers = reader.declared.get("providers", set())
    routes = reader.declared.get("routes", set())
    categories = reader.declared.get("categories", set())
    features = reader.declared.get("features", set())

    sections = {"provider": "providers", "route": "routes", "category": "categories", "feature": "features"}

    def missing(entry: _Located | _Unparsed, path: PathKey, value: str, known: set[str], what: str) -> None:
        if value not in known and sections[what] not in reader.unreadable:
            label = entry.raw.get("id") if isinstance(entry, _Unparsed) else getattr(entry.item, "id", None)
            reader.report(entry.doc, (*entry.path, *path), f"unknown {what} {value!r}{closest(value, known)}",
                          label if isinstance(label, str) else None)

    known_ids = {"provider": providers, "route": routes, "category": categories, "feature": features}
    for section, records in reader.unparsed.items():
        for record in records if section in ITEM_MODELS else []:
            for path, value, what in _raw_references(section, record.raw):
                if not record.has_error_at(path):
                    missing(record, path, value, known_ids[what], what)
            key = record.raw.get("key")
            if section == "categories" and isinstance(key, str) and "." in key and not record.has_error_at(("key",)):
                parent = key.rsplit(".", 1)[0]
                if parent not in categories:
                    reader.report(record.doc, (*record.path, "key"), f"parent category {parent!r} is missing", key)

    for entry in located["providers"]:
        p = entry.item
        names: set[str] = set()
        for i, cert in enumerate(p.certifications):
            if cert.name in names:
                reader.report(entry.doc, (*entry.path, "certifications", i, "name"),
                              f"duplicate certification {cert.name!r}", p.id)
            names.add(cert.name)
        for kind in ("dpa", "baa"):
            agreement = getattr(p, kind)
            signed, expires = (agreement.signed_on, agreement.expires_on) if agreement else (None, None)
            if signed and expires and expires < signed:
                reader.report(entry.doc, (*entry.path, kind, "expires_on"), "expires before it was signed", p.id)

    route_models: dict[str, set[str]] = {}
    for entry in located["routes"]:
        r = entry.item
        missing(entry, ("model_provider",), r.model_provider, providers, "provider")
        missing(entry, ("processor",), r.processor, providers, "provider")
        for model in r.regional_premium_models:
            if model not in r.model_ids:
                reader.report(entry.doc, (*entry.path, "regional_premium_models", model),
                              f"model {model!r} is not in this route's models{closest(model, r.model_ids)}", r.id)
        _check_models(reader, entry)
        route_models[r.id] = set(r.model_ids)

    for entry in located["categories"]:
        parent = entry.item.parent
        if parent is not None and parent not in categories:
            reader.report(entry.doc, (*entry.path, "key"),
                          f"parent category {parent!r} is missing", entry.item.key)

    service_owner: dict[str, str] = {}  # telemetry service.name -> the feature that lists it (observe)
    for entry in located["features"]:
        f = entry.item
        for i, service in enumerate(f.services):
            owner = service_owner.setdefault(service.strip().lower(), f.id)
            if owner != f.id or service in f.services[:i]:
                where = "this feature" if owner == f.id else f"feature {owner!r}"
                reader.report(entry.doc, (*entry.path, "services", i),
                              f"service {service!r} is already listed by {where}; a service's calls belong to "
                              "one feature", f.id)
        for i, pattern in enumerate(f.code):
            problem = code_pattern_problem(pattern)
            if problem:
                reader.report(entry.doc, (*entry.path, "code", i), problem, f.id)
        for field_name, known_keys, what in (("purposes", taxonomy.purposes(), "purpose (Fides data_use key)"),
                                             ("data_subjects", taxonomy.data_subjects(),
                                              "data subject (Fides data_subject key)")):
            for i, key in enumerate(getattr(f, field_name)):
                if key not in known_keys:
                    reader.report(entry.doc, (*entry.path, field_name, i),
                                  f"unknown {what} {key!r}{closest(key, known_keys)}", f.id)
        for i, flow in enumerate(f.flows):
            missing(entry, ("flows", i, "route"), flow.route, routes, "route")
            for j, key in enumerate(flow.categories):
                missing(entry, ("flows", i, "categories", j), key, categories, "category")
                if key in flow.categories[:j]:  # the store holds each category once per flow
                    reader.report(entry.doc, (*entry.path, "flows", i, "categories", j),
                                  f"category {key!r} is listed twice in this flow", f.id)

    for entry in located["price_overrides"]:
        o = entry.item  # prices or a discount: checked by the document itself (PriceOverride), as on an edit
        if o.valid_from and o.valid_until and o.valid_until < o.valid_from:
            reader.report(entry.doc, (*entry.path, "valid_until"), "ends before it starts", o.id)

    for entry in located["segments"]:
        for i, fid in enumerate(entry.item.features):
            missing(entry, ("features", i), fid, features, "feature")

    for entry in located["evals"]:
        e = entry.item
        missing(entry, ("feature",), e.feature, features, "feature")
        if e.route is not None:
            missing(entry, ("route",), e.route, routes, "route")
            served = route_models.get(e.route)
            if served is not None and e.model not in served:
                reader.report(entry.doc, (*entry.path, "model"),
                              f"route {e.route!r} does not serve model {e.model!r}{closest(e.model, served)}", e.id)


def _raw_references(section: str, raw: dict[str, Any]) -> list[tuple[PathKey, str, str]]:
    """The ids a record that failed its own checks refers to: (field path, id, kind), where readable."""
    found: list[tuple[PathKey, str, str]] = []

    def add(path: PathKey, value: Any, what: str) -> None:
        if isinstance(value, str):
            found.append((path, value, what))

    def each(path: PathKey, values: Any, what: str) -> None:
        for i, value in enumerate(values if isinstance(values, list) else []):
            add((*path, i), value, what)

    if section == "routes":
        add(("model_provider",), raw.get("model_provider"), "provider")
        add(("processor",), raw.get("processor"), "provider")
    elif section == "features":
        flows = raw.get("flows")
        for i, flow in enumerate(flows if isinstance(flows, list) else []):
            if isinstance(flow, dict):
                add(("flows", i, "route"), flow.get("route"), "route")
                each(("flows", i, "categories"), flow.get("categories"), "category")
    elif section == "segments":
        each(("features",), raw.get("features"), "feature")
    elif section == "evals":
        add(("feature",), raw.get("feature"), "feature")
        add(("route",), raw.get("route"), "route")
    return found


def _check_models(reader: _Reader, entry: _Located) -> None:
    """A route's models: each id once; a successor is another model (it may be served elsewhere)."""
    r = entry.item
    seen: set[str] = set()
    for i, model in enumerate(r.models):
        model_id = model if isinstance(model, str) else model.id
        field = (*entry.path, "models", i) if isinstance(model, str) else (*entry.path, "models", i, "id")
        if model_id in seen:
            reader.report(entry.doc, field, f"model {model_id!r} is listed twice on this route", r.id)
        seen.add(model_id)
        if not isinstance(model, str) and model.successor == model_id:
            reader.report(entry.doc, (*entry.path, "models", i, "successor"), "a model cannot succeed itself", r.id)
    for i, fact in enumerate(r.latency):
        if fact.model not in seen:
            reader.report(entry.doc, (*entry.path, "latency", i, "model"),
                          f"this route does not serve model {fact.model!r}{closest(fact.model, seen)}", r.id)


def code_pattern_problem(pattern: str) -> str | None:
    """Why a feature's `code:` glob is not usable (gitignore-style, `/` separators), or None."""
    import pathspec

    if not pattern.strip() or pattern.strip().startswith("#"):
        return "a code pattern must name files (it is empty or a comment)"
    if "\\" in pattern:
        return f"use / as the separator in code patterns (got {pattern!r})"
    if pattern.startswith("!"):
        return "negated code patterns are not supported; list the files that belong to the feature"
    try:
        pathspec.PathSpec.from_lines("gitignore", [pattern])
    except ValueError as exc:
        return f"not a valid glob pattern: {exc}"
    return None


def _check_projection(reader: _Reader, doc: YamlDocument, projection: d.Projection) -> None:
    for tier, scenarios in projection.tier_scenarios.items():
        if tier not in projection.tiers:
            reader.report(doc, ("projection", "tier_scenarios", tier), f"unknown tier {tier!r}")
        for name in scenarios:
            if name not in projection.scenarios:
                reader.report(doc, ("projection", "tier_scenarios", tier, name), f"unknown scenario {name!r}")


def _check_notice(reader: _Reader, doc: YamlDocument, announced: list[tuple[int, str]]) -> None:
    """Each announcement's processor, given by its position in the notice's list, is a known provider, once."""
    providers = reader.declared.get("providers", set())
    seen: set[str] = set()
    for i, processor in announced:
        path = ("notice", "announcements", i, "processor")
        if "providers" not in reader.unreadable and processor not in providers:
            reader.report(doc, path, f"unknown provider {processor!r}{closest(processor, providers)}")
        elif processor in seen:
            reader.report(doc, path, f"{processor!r} is announced twice; keep the first announcement")
        seen.add(processor)


def declared_ids(docs: dict[str, YamlDocument]) -> dict[str, set[str]]:
    """The ids and keys the files declare, even in records with other mistakes (for checking policies)."""
    found: dict[str, set[str]] = {"providers": set(), "routes": set(), "categories": set(), "features": set()}
    for doc in docs.values():
        if not isinstance(doc.data, dict):
            continue
        for section, ids in found.items():
            items = doc.data.get(section)
            for item in items if isinstance(items, list) else []:
                value = item.get(ITEM_KEY.get(section, "id")) if isinstance(item, dict) else None
                if isinstance(value, str):
                    ids.add(value)
    return found
