"""Errors the CLI and the console share: a message for the responder and an exit code.

Every entry point turns these into one line (stderr, or a notification), never a traceback:
a commander scripting around warroom should never have to read one.
"""

from __future__ import annotations

EXIT_FAIL = 1  # a refused or failed operation
EXIT_USAGE = 2  # bad configuration or usage


class WarroomError(Exception):
    """Something the responder can act on; str() is the one line they see."""

    def __init__(self, message: str, code: int = EXIT_FAIL) -> None:
        super().__init__(message)
        self.code = code


class UsageError(WarroomError):
    """Bad settings, arguments or input files: exit 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)
