"""`warroom keys` (and `warroom --help-keys`): the console's key table, as bound with the
user's keymap, section by section: the same rows as the console's help screen."""

from __future__ import annotations

import argparse

from warroom.bootstrap import settings_from
from warroom.errors import UsageError
from warroom.sanitize import one_line


def keys(args: argparse.Namespace) -> int:
    from warroom.widgets.keys import key_rows, keymap_problems

    settings = settings_from(args)
    for key_id, problem in keymap_problems(settings.keymap):  # as the console would refuse it
        raise UsageError(str(settings.error(f"keymap.{key_id}", problem)))
    rows = key_rows(settings.keymap)
    width = max(len(key) for _, key, _, _ in rows)
    ids = max(len(bid) for _, _, bid, _ in rows)
    section = None
    for sec, key, bid, what in rows:
        if sec != section:
            print(("\n" if section else "") + sec)
            section = sec
        print(f"  {one_line(key):<{width}}  {bid:<{ids}}  {one_line(what)}")
    print('\nRebind in warroom.toml under [keymap] by binding id, e.g. note = "N".')
    return 0
