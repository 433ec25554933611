"""Declared vs actual (2): what production sent, where, and what it cost, from telemetry (observe.md).

    result = import_files(store, [Path("spans.jsonl.gz")], actor=actor)   # daily aggregates, audited
    report = build_report(rows, dataset, decider, as_of=date.today())     # undeclared, never seen, costs
"""
