"""Make outside text inert: pod names, log lines, alert annotations and notes may carry
terminal escape sequences (colour, OSC 8 links, window titles, cursor moves) and invisible
characters that reorder or hide text (bidi overrides, zero-width spaces). None may reach the
terminal raw, so every piece of outside text passes through here before it is shown. The store
keeps the raw text; only what is displayed or exported is neutralised.
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
# Invisible characters that change how text reads: bidi embeddings, overrides and isolates
# (U+202E turns "exe.txt" into "txt.exe" on screen), zero-width ones, line/paragraph
# separators, the BOM. Shown as <U+202E> so a reader sees they are there.
INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u2028\u2029\ufeff]")


def _visible(m: re.Match[str]) -> str:
    return f"<U+{ord(m.group()):04X}>"


def strip_control(text: str) -> str:
    """Drop escape sequences and control characters, show invisible ones; keeps newlines and
    tabs."""
    return INVISIBLE.sub(_visible, _CONTROL.sub("", _ANSI.sub("", text)))


def one_line(text: str) -> str:
    """Inert text for a single table cell, title or terminal line: no escapes, no line breaks,
    invisible characters shown."""
    return INVISIBLE.sub(_visible, _CONTROL_ONELINE.sub(" ", _ANSI.sub("", text))).strip()


def json_safe(dumped: str) -> str:
    """JSON text with C1 controls and invisible characters as \\u escapes (still the same JSON
    value: they only ever occur inside strings), so a terminal that shows the file is safe."""
    return re.sub(r"[\x7f-\x9f]|" + INVISIBLE.pattern, lambda m: f"\\u{ord(m.group()):04x}", dumped)
