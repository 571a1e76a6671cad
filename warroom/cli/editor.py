"""Edit a text in the user's editor ($VISUAL, then $EDITOR), as git does for a commit message.

Lines starting with '#' are instructions and are dropped; an empty result, or an editor that
exits non-zero, means "do not send". The draft lives in a 0600 file in a private temp dir:
an update may quote what is not yet public.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from warroom.errors import UsageError, WarroomError


def editor_command(env: dict[str, str] | None = None) -> list[str]:
    env = dict(os.environ) if env is None else env
    editor = env.get("VISUAL") or env.get("EDITOR")
    if not editor:
        if not sys.stdin.isatty():
            raise UsageError("no --text and no $EDITOR: pass --text TEXT (or '-' for stdin)")
        editor = "vi"
    try:
        return shlex.split(editor)
    except ValueError as exc:
        raise UsageError(f"$EDITOR {editor!r}: {exc}") from None


def edit_text(draft: str, instructions: list[str]) -> str | None:
    """The edited text, without instruction lines; None when the user aborted."""
    cmd = editor_command()
    with tempfile.TemporaryDirectory(prefix="warroom-") as tmp:
        path = Path(tmp) / "UPDATE.txt"
        head = "".join(f"# {line}\n" for line in instructions)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"{head}{draft}\n")
        try:
            code = subprocess.call([*cmd, str(path)])
        except OSError as exc:
            raise WarroomError(f"cannot run the editor {cmd[0]!r}: {exc.strerror}") from None
        if code != 0:
            return None
        text = path.read_text(encoding="utf-8", errors="replace")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return body.strip() or None
