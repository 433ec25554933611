"""The cheap text checks in front of the syntax-tree walk, with every word taken from the rules file.

A file can hold an LLM call only if it imports a package the rules know (the scanner only follows
names bound by an `import`), so a file naming none of them is parsed (a syntax error is still
reported) but not walked. In the files that do, only the statements on lines naming one of the
rules' words (a constructor's, function's, call's or wrapper's last name, a set-up call such as
`vertexai.init`, the product's `require` guard, or a name the module imports from such a package)
are looked at closely: every call site the rules describe has one of those words in its text.

The parser reads identifiers after NFKC normalisation (`ｏｐｅｎａｉ` is `openai`), so a file whose text
is not NFKC-normal skips both checks and is walked in full.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left

from compliance.scan.rules import Rules

GUARD = "require"  # the product's guard, compliance.require(feature=...): attribution, not a rule
_PATTERNS: dict[tuple[int, frozenset[str]], tuple[Rules, re.Pattern[str]]] = {}  # the Rules kept: ids stay unique


def rule_words(rules: Rules) -> frozenset[str]:
    """Every name a call site the rules describe (or the product's guard) must spell out on one of its lines."""
    return rules.words | {GUARD}


def alias_words(rules: Rules, aliases: dict[str, str]) -> frozenset[str]:
    """Local names an import binds to one of the rules' callables (`from litellm import completion as ask`).

    A call through any other imported name is an attribute chain that ends in one of the rule words.
    """
    known = rules.callables
    words = rule_words(rules)
    return frozenset(name for name, target in aliases.items() if target in known and name not in words)


def normal(text: str) -> bool:
    """True when the text reads the same after NFKC normalisation (so words can be searched as written)."""
    return text.isascii() or unicodedata.is_normalized("NFKC", text)


def may_call(text: str, rules: Rules) -> bool:
    """False only when no package the rules know is named anywhere in the text: nothing in it can be reported."""
    return not normal(text) or any(name in text for name in rules.modules)


def _pattern(rules: Rules, aliases: frozenset[str]) -> re.Pattern[str]:
    key = (id(rules), aliases)
    found = _PATTERNS.get(key)
    if found is None:
        if len(_PATTERNS) > 512:
            _PATTERNS.clear()
        words = rule_words(rules) | aliases
        found = _PATTERNS[key] = (rules, re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, words))) + r")\b"))
    return found[1]


class Lines:
    """The lines of one module worth a close look: those naming a rule's word or an imported SDK name."""

    def __init__(self, text: str, rules: Rules, aliases: dict[str, str]):
        lines: list[int] = []
        line, last = 1, 0
        for found in _pattern(rules, alias_words(rules, aliases)).finditer(text):
            line += text.count("\n", last, found.start())
            last = found.start()
            if not lines or lines[-1] != line:
                lines.append(line)
        self.lines = lines

    def any_between(self, start: int, end: int) -> bool:
        """True when a line from `start` to `end` (inclusive) is worth a look."""
        at = bisect_left(self.lines, start)
        return at < len(self.lines) and self.lines[at] <= end
