"""Which provider and route facts are public facts, and whether each one carries a usable source.

A *public fact* is something about a real vendor or route that anyone could check on a public page:

- provider: `hq_country`, `transfer_mechanism`, `dpa` and `baa` (that the vendor offers one, and on
  what terms; when the record has one), and one `certifications.<name>` per listed certification;
- route: `processor`, `region`, `residency`, `retention_days`, `zero_data_retention` (whether and how
  ZDR is available), `trains_on_inputs`, `models`, `regional_premium` when the route sets one
  (route-wide or per model), and `ip_indemnity` when the route records one (models.md).

Each public fact needs exactly one source whose `field` is the fact's name, with an explicit
`status`, an `as_of` date and a `url`; only an `unverified` source may lack a url, and then its note
says why (nothing was found). `verified` means the vendor's own page (or, for a legal status such as
an adequacy decision, the issuing authority's page), so a verified url must be on one of
`PRIMARY_HOSTS`. For an undated page `as_of` is the day the page was read, and the note says so.

The company's own records (its agreement states and dates, ZDR approvals and settings for its
account, everything about its own self-hosted infrastructure) are sources whose note starts with
`company record`; they are always `unverified` (no public page can confirm them). Owners, review
dates, route status, `last_verified_on` and `verified_by` are company records by definition and
need no source.

`python -m compliance.sourcing [DATA_DIR]` prints the counts that docs/example-data.md shows.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from pydantic import BaseModel

from compliance.store import documents as d

PROVIDER_FACTS = ("hq_country", "transfer_mechanism", "dpa", "baa")
ROUTE_FACTS = ("processor", "region", "residency", "retention_days", "zero_data_retention", "trains_on_inputs",
               "models")
COMPANY_RECORD = "company record"
# Hosts of vendors' own pages (and of the authority that issues adequacy decisions).
PRIMARY_HOSTS = (
    "amazon.com", "microsoft.com", "office.com", "google.com", "google.dev", "openai.com", "anthropic.com",
    "claude.com", "mistral.ai", "cohere.com", "cohere-inc.secureframetrust.com", "llama.com", "vllm.ai",
    "commission.europa.eu",
)
KINDS = ("verified", "secondary", "unverified", "company record")


@dataclass(frozen=True)
class Fact:
    subject: str  # "provider aws", "route claude-direct"
    field: str
    source: d.Source | None
    sources: int  # how many sources name this field

    @property
    def kind(self) -> str | None:
        """verified | secondary | unverified | company record, or None when unsourced."""
        if self.source is None:
            return None
        return kind_of(self.source)


def kind_of(source: d.Source) -> str:
    if is_company_record(source):
        return COMPANY_RECORD
    return source.status.value


def is_company_record(source: d.Source) -> bool:
    return (source.note or "").lower().startswith(COMPANY_RECORD)


def provider_facts(p: d.Provider) -> list[str]:
    fields = [f for f in PROVIDER_FACTS if getattr(p, f) is not None]
    return fields + [f"certifications.{c.name}" for c in p.certifications]


def route_facts(r: d.Route) -> list[str]:
    fields = list(ROUTE_FACTS)
    if r.regional_premium is not None or r.regional_premium_models:
        fields.append("regional_premium")
    if r.ip_indemnity is not None:
        fields.append("ip_indemnity")
    return fields


def _facts(subject: str, fields: list[str], sources: list[d.Source]) -> list[Fact]:
    found = []
    for name in fields:
        named = [s for s in sources if s.field == name]
        found.append(Fact(subject, name, named[0] if named else None, len(named)))
    return found


def facts(dataset: d.DataSet) -> list[Fact]:
    """Every public fact of every provider and route, with its source."""
    found = []
    for p in dataset.providers:
        found += _facts(f"provider {p.id}", provider_facts(p), p.sources)
    for r in dataset.routes:
        found += _facts(f"route {r.id}", route_facts(r), r.sources)
    return found


def _hosted_on_primary(url: str) -> bool:
    host = (urlparse(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in PRIMARY_HOSTS)


def source_problems(subject: str, source: d.Source, fact_fields: list[str], model: type[BaseModel]) -> list[str]:
    """What is wrong with one source (empty when it meets the standard)."""
    where = f"{subject} source {source.field or '(no field)'}"
    problems = []
    if not source.field or source.field.split(".")[0] not in model.model_fields:
        problems.append(f"{where}: field names nothing in the record")
    if source.as_of is None:
        problems.append(f"{where}: no as_of date")
    if is_company_record(source):
        if source.status.value != "unverified":
            problems.append(f"{where}: a company record is never {source.status.value}")
        return problems
    if source.field not in fact_fields and source.field not in {"notes"}:
        problems.append(f"{where}: not a public fact of this record (a company record? say so in the note)")
    if source.status.value in {"verified", "secondary"} and not source.url:
        problems.append(f"{where}: {source.status.value} without a url")
    if source.status.value == "unverified" and not source.url and not source.note:
        problems.append(f"{where}: unverified without a url needs a note saying what was looked for")
    if source.status.value == "verified" and source.url and not _hosted_on_primary(source.url):
        problems.append(f"{where}: verified, but {urlparse(source.url).hostname} is not the vendor's own site")
    return problems


def problems(dataset: d.DataSet) -> list[str]:
    """Every way the data falls short of the sourcing standard, one line each."""
    found = []
    for fact in facts(dataset):
        if fact.source is None:
            found.append(f"{fact.subject}: public fact {fact.field} has no source")
        elif fact.sources > 1:
            found.append(f"{fact.subject}: public fact {fact.field} has {fact.sources} sources (one, please)")
    records: list[tuple[str, list[str], list[d.Source], type[BaseModel]]] = [
        *((f"provider {p.id}", provider_facts(p), p.sources, d.Provider) for p in dataset.providers),
        *((f"route {r.id}", route_facts(r), r.sources, d.Route) for r in dataset.routes),
    ]
    for subject, fields, sources, model in records:
        for source in sources:
            found += source_problems(subject, source, fields, model)
    return found


def counts(dataset: d.DataSet) -> dict[str, int]:
    """Public facts by the kind of their source, plus the company records kept beside vendor facts."""
    all_facts = facts(dataset)
    by_kind = Counter(f.kind for f in all_facts)
    fact_sources = {id(f.source) for f in all_facts if f.source is not None}
    every: list[d.Source] = [s for p in dataset.providers for s in p.sources]
    every += [s for r in dataset.routes for s in r.sources]
    beside = sum(1 for s in every if is_company_record(s) and id(s) not in fact_sources)
    return {
        "public facts": len(all_facts),
        **{kind: by_kind.get(kind, 0) for kind in KINDS},
        "unsourced": by_kind.get(None, 0),
        "company records beside vendor facts": beside,
        "providers": len(dataset.providers),
        "routes": len(dataset.routes),
    }


def markdown(dataset: d.DataSet) -> str:
    c = counts(dataset)
    rows = [
        ("public facts (providers and routes)", c["public facts"]),
        ("verified from the vendor's own page", c["verified"]),
        ("secondary (third-party page only)", c["secondary"]),
        ("unverified (no source found; the note says what was looked for)", c["unverified"]),
        ("company records standing for a fact (Northwind's own provider and route; no agreement with Meta)",
         c["company record"]),
        ("unsourced or undated", c["unsourced"]),
        ("company records beside vendor facts (agreement states and dates, ZDR approvals and settings)",
         c["company records beside vendor facts"]),
    ]
    lines = ["| | count |", "|---|---:|", *(f"| {label} | {n} |" for label, n in rows)]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    from compliance.store.validate import read_data_dir

    directory = Path(argv[0]) if argv else Path("data")
    dataset, found, _ = read_data_dir(directory)
    if dataset is None:
        for problem in found:
            print(problem, file=sys.stderr)
        return 2
    print(markdown(dataset), end="")
    for line in problems(dataset):
        print(f"problem: {line}", file=sys.stderr)
    return 1 if problems(dataset) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
