"""Intents the widgets post; the app routes them to WarRoom use cases. Widgets never call the
store or an adapter themselves (DESIGN.md section 2)."""

from __future__ import annotations

from textual.message import Message


class PinRequested(Message):
    def __init__(self, seq: int) -> None:
        super().__init__()
        self.seq = seq


class EventSelected(Message):
    def __init__(self, seq: int) -> None:
        super().__init__()
        self.seq = seq


class ToggleRequested(Message):
    def __init__(self, item_id: str) -> None:
        super().__init__()
        self.item_id = item_id


class EventHighlighted(Message):
    """The timeline's cursor is on this event; `cut`: its text does not fit on its row."""

    def __init__(self, seq: int, cut: bool) -> None:
        super().__init__()
        self.seq = seq
        self.cut = cut
