"""Live follow: LISTEN on its own connection, in a daemon thread, for the incidents' appends.

Every append notifies CHANNEL with its incident id in the same transaction, so the notification
arrives when the event is committed. The listener only marks its store stale; the store then
reads what is new on its next refresh(). Lost connection: reconnect once a second, and mark
stale meanwhile, so the store falls back to querying.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg

CHANNEL = "warroom_events"
RETRY_EVERY = 1.0  # seconds between reconnection attempts
DOWN = (psycopg.OperationalError, psycopg.InterfaceError)  # the database is out of reach


class Listener:
    def __init__(self, connect: Callable[[], psycopg.Connection], incident_id: str) -> None:
        self.connect = connect
        self.incident_id = incident_id
        self.stale = threading.Event()  # something may have been appended: look
        self.stale.set()
        self.live = False  # LISTEN is in effect
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(
                target=self._run, name=f"pg-listen-{self.incident_id}", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self.connect() as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.live = True
                    self.stale.set()  # anything committed before LISTEN took effect
                    while not self._stop.is_set():
                        for n in conn.notifies(timeout=0.5):
                            if n.payload == self.incident_id:
                                self.stale.set()
            except DOWN:
                pass
            self.live = False
            self.stale.set()
            self._stop.wait(RETRY_EVERY)
