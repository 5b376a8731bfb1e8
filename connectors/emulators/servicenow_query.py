"""ServiceNow encoded queries (`sysparm_query`) as the emulator understands them.

Grammar: `^NQ` separates alternative queries (OR of whole queries), `^` joins conditions (AND),
`^OR` makes a condition an alternative of the one before it, `ORDERBYfield` / `ORDERBYDESCfield`
sort the result wherever they appear. A part that names an unknown field or cannot be parsed is
dropped and the rest still filters, as the real Table API does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

_CONDITION = re.compile(
    r"^([a-z_][a-z0-9_]*)"
    r"(ISNOTEMPTY|ISEMPTY|STARTSWITH|ENDSWITH|NOT IN|NOTLIKE|LIKE|IN|!=|>=|<=|=|>|<)(.*)$",
    re.DOTALL,
)
_ORDERING = frozenset({">", ">=", "<", "<="})
_LOWER_BOUNDS = frozenset({"=", ">", ">="})

Record = Mapping[str, str]


@dataclass(frozen=True)
class Condition:
    """One `field<op>value` test; `numeric` fields compare as numbers."""

    field: str
    op: str
    value: str
    numeric: bool = False

    def matches(self, record: Record) -> bool:
        actual = record.get(self.field, "")
        op = self.op
        if op == "ISEMPTY":
            return actual == ""
        if op == "ISNOTEMPTY":
            return actual != ""
        if op in _ORDERING:
            if actual == "":
                return False
            left, right = self._comparable(actual, self.value)
            if op == ">":
                return left > right
            if op == ">=":
                return left >= right
            if op == "<":
                return left < right
            return left <= right
        text, wanted = actual.lower(), self.value.lower()
        if op == "=":
            return self._equal(actual, self.value)
        if op == "!=":
            return not self._equal(actual, self.value)
        if op == "STARTSWITH":
            return text.startswith(wanted)
        if op == "ENDSWITH":
            return text.endswith(wanted)
        if op == "LIKE":
            return wanted in text
        if op == "NOTLIKE":
            return wanted not in text
        options = [self._equal(actual, option) for option in self.value.split(",")]
        return any(options) if op == "IN" else not any(options)

    def _comparable(self, left: str, right: str) -> tuple[float, float] | tuple[str, str]:
        if self.numeric:
            try:
                return float(left), float(right)
            except ValueError:
                pass
        return left, right

    def _equal(self, left: str, right: str) -> bool:
        a, b = self._comparable(left, right)
        return a == b if self.numeric else left.lower() == right.lower()


# A term is a condition with its ^OR alternatives; a clause is the AND of its terms.
Term = tuple[Condition, ...]
Clause = tuple[Term, ...]


@dataclass(frozen=True)
class Query:
    clauses: tuple[Clause, ...] = ()
    order: tuple[tuple[str, bool], ...] = ()  # (field, descending)

    def matches(self, record: Record) -> bool:
        if not self.clauses:
            return True
        return any(
            all(any(c.matches(record) for c in term) for term in clause) for clause in self.clauses
        )

    def lower_bound(self, field: str) -> str | None:
        """The smallest value of `field` any matching record can have, when the query says so.

        Lets a store sorted on `field` start scanning there instead of at its first record.
        """
        bounds = []
        for clause in self.clauses:
            found = [
                term[0].value
                for term in clause
                if len(term) == 1 and term[0].field == field and term[0].op in _LOWER_BOUNDS
            ]
            if not found:
                return None
            bounds.append(max(found))
        return min(bounds) if bounds else None


def parse(
    text: str | None,
    known: Callable[[str], bool] = lambda field: True,
    numeric: Callable[[str], bool] = lambda field: False,
) -> Query:
    """Parse an encoded query; parts with unknown fields or bad syntax are ignored."""
    clauses: list[Clause] = []
    order: list[tuple[str, bool]] = []
    for part_text in (text or "").split("^NQ"):
        terms: list[list[Condition]] = []
        for part in part_text.split("^"):
            if part.startswith("ORDERBYDESC"):
                if known(part[11:]):
                    order.append((part[11:], True))
                continue
            if part.startswith("ORDERBY"):
                if known(part[7:]):
                    order.append((part[7:], False))
                continue
            alternative = part.startswith("OR")
            condition = _condition(part[2:] if alternative else part, known, numeric)
            if condition is None:
                continue
            if alternative and terms:
                terms[-1].append(condition)
            else:
                terms.append([condition])
        if terms:
            clauses.append(tuple(tuple(term) for term in terms))
    return Query(tuple(clauses), tuple(order))


def _condition(
    text: str, known: Callable[[str], bool], numeric: Callable[[str], bool]
) -> Condition | None:
    match = _CONDITION.match(text)
    if not match or not known(match[1]):
        return None
    field, op, value = match[1], match[2], match[3]
    return Condition(field, op, value, numeric(field))
