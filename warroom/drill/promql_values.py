"""The values PromQL evaluation produces and the errors it raises, and what a helper of the
evaluator (aggregations, binary operators, functions) may ask of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from warroom.drill.promql_ast import Matcher, Node


class QueryError(Exception):
    """An execution error: 422 execution in the API."""


class QueryTimeout(QueryError):
    """The query ran past its deadline: 503 timeout in the API."""

    def __init__(self) -> None:
        super().__init__("query timed out in expression evaluation")


Labels = dict[str, str]


@dataclass(slots=True)
class Sample:
    labels: Labels
    value: float
    t: int = 0  # ms; set for range selector points, and timestamp()


@dataclass(slots=True)
class Series:
    labels: Labels
    points: list[tuple[int, float]]


@dataclass(slots=True)
class RangeArg:
    """A range vector argument with the window it was selected over (rate needs it)."""

    series: list[Series]
    range_ms: int
    offset_ms: int


Value = float | str | list[Sample] | RangeArg


class Storage(Protocol):
    def select(self, matchers: list[Matcher], mint: int, maxt: int) -> list[Series]:
        """Series matching all matchers, with their points in (mint, maxt] (ms)."""


Served = Callable[[str, int], "list[Sample] | None"]


def key(labels: Labels) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def without_name(labels: Labels) -> Labels:
    return {k: v for k, v in labels.items() if k != "__name__"}


class Evaluates(Protocol):
    """The evaluator as its helpers see it: evaluate a subtree as a value of a known type."""

    def eval(self, node: Node, t: int) -> Value: ...

    def vector(self, node: Node, t: int) -> list[Sample]: ...

    def scalar(self, node: Node, t: int) -> float: ...

    def range_arg(self, node: Node, t: int) -> RangeArg: ...
