from datetime import timedelta
from pathlib import Path

import pytest

from warroom.model import Severity
from warroom.playbooks import PlaybookError, checklist_for, load_playbooks, parse_playbook
from warroom.settings import load_settings


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(env={"USER": "t"}, data_dir=tmp_path)


def test_shipped_playbooks_cover_every_severity_and_phase(settings) -> None:
    books = load_playbooks()
    for sev in Severity:
        items = checklist_for(books, sev, "application", settings.policy(sev))
        assert items, sev
        phases = {i.phase for i in items}
        assert phases == {"detect", "contain", "investigate", "recover", "post"}


def test_due_times_come_from_the_severity_sla(settings) -> None:
    items = checklist_for(load_playbooks(), Severity.P0, "application", settings.policy("P0"))
    first_update = next(i for i in items if i.id == "first-update")
    assert first_update.due_after == timedelta(minutes=15)
    p1 = checklist_for(load_playbooks(), Severity.P1, "application", settings.policy("P1"))
    assert next(i for i in p1 if i.id == "first-update").due_after == timedelta(hours=1)


def test_category_playbook_adds_items(settings) -> None:
    books = load_playbooks()
    plain = {i.id for i in checklist_for(books, Severity.P1, "application", settings.policy("P1"))}
    sec = {i.id for i in checklist_for(books, Severity.P1, "security", settings.policy("P1"))}
    assert "forensic-evidence" in sec - plain
    assert plain < sec


def test_malformed_yaml_names_file_and_line() -> None:
    with pytest.raises(PlaybookError, match=r"^x.yaml:3: invalid YAML"):
        parse_playbook("name: a\nphases:\n\t- id: p\n", "x.yaml")


def test_bad_item_names_file_line_and_item() -> None:
    text = (
        "name: a\nseverities: [P1]\nphases:\n  - id: detect\n    items:\n"
        "      - id: ok-item\n        text: fine\n"
        "      - id: late\n        text: due wrong\n        due: tomorrow\n"
    )
    with pytest.raises(PlaybookError) as err:
        parse_playbook(text, "mine.yaml")
    assert str(err.value).startswith("mine.yaml:10: item 'late': due: not a duration")


def test_missing_text_duplicate_and_bad_severity() -> None:
    base = "name: a\nphases:\n  - id: p\n    items:\n"
    with pytest.raises(PlaybookError, match=r"mine.yaml:5: item 'x': text is required"):
        parse_playbook(base + "      - id: x\n", "mine.yaml")
    dup = base + "      - id: x\n        text: a\n      - id: x\n        text: b\n"
    with pytest.raises(PlaybookError, match=r":7: item 'x': duplicate id"):
        parse_playbook(dup, "mine.yaml")
    with pytest.raises(PlaybookError, match=r"severities: use P0\.\.P3"):
        parse_playbook("name: a\nseverities: [P7]\nphases: [{id: p}]\n", "m.yaml")


def test_user_directory_overrides_and_adds(tmp_path: Path, settings) -> None:
    (tmp_path / "extra.yaml").write_text(
        "name: db\ncategories: [data]\nphases:\n  - id: recover\n    items:\n"
        "      - id: backup-verified\n        text: Backup integrity verified\n"
    )
    books = load_playbooks(tmp_path)
    ids = {i.id for i in checklist_for(books, Severity.P2, "data", settings.policy("P2"))}
    assert "backup-verified" in ids
    with pytest.raises(PlaybookError, match="not found"):
        load_playbooks(tmp_path / "missing")


def test_done_when_names_an_event_kind_or_fails_with_file_and_line() -> None:
    ok = "name: x\nphases:\n  - id: p\n    items:\n      - {id: a, text: A, done_when: evidence}\n"
    assert parse_playbook(ok, "x.yaml").items[0].done_when == "evidence"
    bad = "name: x\nphases:\n  - id: p\n    items:\n      - id: a\n        text: A\n"
    bad += "        done_when: coffee\n"
    with pytest.raises(PlaybookError, match=r"^x\.yaml:7: item 'a': done_when: one of evidence"):
        parse_playbook(bad, "x.yaml")
