"""Settings for paging tests: contacts bo (L2) and cy (L3), pointed at loopback receivers,
their keys and the SMTP password in files (never in the settings file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fixtures.paging_receivers import OG_KEY, PD_KEY, PD_KEY2, SMTP_PASSWORD, SP_KEY
from warroom.settings import Settings, load_settings


def paging_toml(
    tmp: Path,
    *,
    pagerduty: Any = None,
    opsgenie: Any = None,
    smtp: Any = None,
    statuspage: Any = None,
    extra: str = "",
) -> str:
    keys = tmp / "keys"
    keys.mkdir(exist_ok=True)
    (keys / "pd").write_text(PD_KEY + "\n")
    (keys / "pd2").write_text(PD_KEY2 + "\n")  # Cy's own PagerDuty service
    (keys / "og").write_text(OG_KEY + "\n")
    (keys / "smtp").write_text(SMTP_PASSWORD + "\n")
    (keys / "sp").write_text(SP_KEY + "\n")
    bo = ['name = "Bo Chen"', 'roles = ["tech_lead"]', 'phone = "+1 555 0101"']
    cy = ['name = "Cy Diaz"', 'roles = ["commander"]', 'phone = "+1 555 0102"']
    out = ["[kube]", "enabled = false"]
    if pagerduty is not None:
        bo.append(f'pagerduty_key_file = "{keys / "pd"}"')
        cy.append(f'pagerduty_key_file = "{keys / "pd2"}"')
        out += ["[channels.pagerduty]", f'url = "{pagerduty.url("")}"', "timeout = 2"]
    if opsgenie is not None:
        bo.append('opsgenie = "bo@example.com"')
        out += ["[channels.opsgenie]", f'url = "{opsgenie.url("")}"',
                f'api_key_file = "{keys / "og"}"', "timeout = 2"]  # fmt: skip
    if smtp is not None:
        bo.append('email = "bo@example.com"')
        cy.append('email = "cy@example.com"')
        out += ["[channels.smtp]", 'host = "127.0.0.1"', f"port = {smtp.port}",
                'security = "none"', 'user = "warroom"', f'password_file = "{keys / "smtp"}"',
                'from = "warroom@example.com"', "timeout = 5"]  # fmt: skip
    if statuspage is not None:
        out += ["[[notify.destinations]]", 'name = "status-page"', 'type = "statuspage"',
                f'url = "{statuspage.url("")}"', f'page_id = "{statuspage.page_id}"',
                'components = ["ftgks51sfs2d"]', f'api_key_file = "{keys / "sp"}"',
                'audience = "customers"', "timeout = 2"]  # fmt: skip
    out += ["[contacts.bo]", *bo, "[contacts.cy]", *cy]
    out += ["[teams.leads]", 'members = ["bo"]']
    out += ["[escalation.levels.L2]", 'targets = ["leads"]']
    out += ["[escalation.levels.L3]", 'targets = ["cy"]']
    return "\n".join(out) + "\n" + extra


def paging_settings(tmp: Path, data_dir: Path, **kw: Any) -> Settings:
    cfg = tmp / "paging.toml"
    cfg.write_text(paging_toml(tmp, **kw))
    return load_settings(cfg, env={"USER": "ann"}, data_dir=data_dir)
