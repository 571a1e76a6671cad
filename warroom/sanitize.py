"""Make outside text inert: pod names, log lines, alert annotations and notes may carry
terminal escape sequences (colour, OSC 8 links, window titles, cursor moves). None may reach
the terminal raw, so every piece of outside text passes through here before it is shown.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte ESC sequences, and C1 CSI.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_ONELINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def strip_control(text: str) -> str:
    """Drop escape sequences and control characters; keeps newlines and tabs."""
    return _CONTROL.sub("", _ANSI.sub("", text))


def one_line(text: str) -> str:
    """Inert text for a single table cell or header: no escapes, no line breaks."""
    return _CONTROL_ONELINE.sub(" ", _ANSI.sub("", text)).strip()
