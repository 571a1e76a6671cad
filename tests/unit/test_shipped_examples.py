"""The commented examples at the end of the shipped warroom.toml are valid settings: this test
uncomments them and loads them, so the documentation cannot rot."""

from pathlib import Path

from warroom.settings import load_settings, shipped_defaults_text


def uncommented_examples() -> str:
    text = shipped_defaults_text()
    block = text[text.index("# ----- Examples") :].splitlines()[1:]
    return "\n".join(line[2:] for line in block if line.startswith("# ")) + "\n"


def test_the_shipped_examples_load(tmp_path: Path) -> None:
    cfg = tmp_path / "warroom.toml"
    cfg.write_text(uncommented_examples())
    s = load_settings(cfg, env={"USER": "ann"}, data_dir=tmp_path)
    assert s.prometheus.url and s.alertmanager.url
    assert s.kube.mutate_namespaces == ("shop",)
    health = s.health
    assert [c.name for c in health.specs] == [
        "Checkout error ratio",
        "Checkout p99 latency",
        "Orders per minute",
    ]
    assert health.specs[2].direction == "below"
    assert [r.name for r in health.rules] == ["checkout burning"]
    assert {d.type for d in s.destinations} == {"slack", "file", "email", "statuspage"}
    assert {d.name: d.heard_by for d in s.destinations}["execs"] == "executives"
    paging = s.paging
    assert paging.contacts["ann"].roles == ("commander", "tech_lead")
    assert [r.name for r in paging.paged(paging.level("L2"))] == ["Ann Lee"]
    assert paging.channels.smtp_host == "smtp.example.com"
