"""The WHERE of a list query: columns equal to a value when one is given, and
columns within the set a caller's scope allows (none allowed: nothing matches)."""

from __future__ import annotations

from typing import Any, Iterable


def conditions(equal: dict[str, Any], within: dict[str, Iterable[str] | None]) -> tuple[str, list[Any]]:
    clauses, params = ["1 = 1"], []
    for column, value in equal.items():
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    for column, allowed in within.items():
        if allowed is not None:
            values = sorted(allowed)
            clauses.append(f"{column} IN ({', '.join('?' * len(values)) or 'NULL'})")
            params += values
    return " AND ".join(clauses), params
