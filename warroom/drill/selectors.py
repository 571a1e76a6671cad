"""Kubernetes label and field selectors, as the API server parses them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Matcher = Callable[[Mapping[str, str]], bool]

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9./_-]+)\s*(?:(notin|in)\s*\((.*)\))?\s*$")
_EQ_RE = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._:/@-]*)\s*$")


class SelectorError(ValueError):
    pass


def _split(selector: str) -> list[str]:
    """Split on commas that are not inside `in (...)` parentheses."""
    parts, depth, cur = [], 0, []
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in (x.strip() for x in parts) if p]


def label_matcher(selector: str | None) -> Matcher:
    if not selector or not selector.strip():
        return lambda _labels: True
    reqs: list[Matcher] = []
    for part in _split(selector):
        m = _EQ_RE.match(part)
        if m:
            key, op, val = m.groups()
            if op == "!=":
                reqs.append(lambda lb, k=key, v=val: lb.get(k) != v)
            else:
                reqs.append(lambda lb, k=key, v=val: lb.get(k) == v)
            continue
        m = _SET_RE.match(part)
        if not m:
            raise SelectorError(f"unable to parse requirement: {part!r}")
        neg, key, op, values = m.groups()
        if op:
            if neg:
                raise SelectorError(f"unable to parse requirement: {part!r}")
            vals = {v.strip() for v in values.split(",") if v.strip()}
            if op == "in":
                reqs.append(lambda lb, k=key, vs=vals: lb.get(k) in vs)
            else:
                reqs.append(lambda lb, k=key, vs=vals: lb.get(k) not in vs)
        elif neg:
            reqs.append(lambda lb, k=key: k not in lb)
        else:
            reqs.append(lambda lb, k=key: k in lb)
    return lambda lb: all(r(lb) for r in reqs)


def field_matcher(selector: str | None, supported: frozenset[str] | set[str]) -> Matcher:
    """Equality-only field selector; an unknown field is an error like the API server's."""
    if not selector or not selector.strip():
        return lambda _fields: True
    reqs: list[Matcher] = []
    for part in _split(selector):
        m = _EQ_RE.match(part)
        if not m:
            raise SelectorError(f"invalid selector: {part!r}; can't understand {part!r}")
        key, op, val = m.groups()
        if key not in supported:
            raise SelectorError(f'field label not supported: "{key}"')
        if op == "!=":
            reqs.append(lambda f, k=key, v=val: f.get(k, "") != v)
        else:
            reqs.append(lambda f, k=key, v=val: f.get(k, "") == v)
    return lambda f: all(r(f) for r in reqs)


def selector_matcher(selector: dict[str, Any] | None) -> Matcher:
    """A metav1.LabelSelector (matchLabels and matchExpressions); None matches nothing."""
    if selector is None:
        return lambda _labels: False
    reqs: list[Matcher] = []
    for k, v in dict(selector.get("matchLabels") or {}).items():
        reqs.append(lambda lb, k=k, v=v: lb.get(k) == v)
    for e in selector.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), set(e.get("values") or [])
        if op == "In":
            reqs.append(lambda lb, k=key, vs=values: lb.get(k) in vs)
        elif op == "NotIn":
            reqs.append(lambda lb, k=key, vs=values: lb.get(k) not in vs)
        elif op == "Exists":
            reqs.append(lambda lb, k=key: k in lb)
        elif op == "DoesNotExist":
            reqs.append(lambda lb, k=key: k not in lb)
        else:
            raise SelectorError(f"{op!r} is not a valid label selector operator")
    return lambda lb: all(r(lb) for r in reqs)
