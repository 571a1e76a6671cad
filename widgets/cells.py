"""Table cells drawn when shown: relative times tick without a table update per second."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

from warroom.model import format_duration, utcnow


@dataclass(frozen=True)
class Since:
    """A cell showing the time since `at`, formatted when drawn: `template` gets the
    duration ("{}" -> "3m05s"). Equal cells compare equal, so unchanged rows stay untouched."""

    at: datetime
    template: str = "{}"
    style: str = ""
    clock: Callable[[], datetime] = field(default=utcnow, compare=False, repr=False)

    @property
    def plain(self) -> str:
        return self.template.format(format_duration(self.clock() - self.at))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text(self.plain, style=self.style, end="")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = cell_len(self.plain)
        return Measurement(width, width)
