"""Vendor token formats the redactor hides by their shape alone, wherever they stand.

Each entry: the literal prefix the token starts with (found with a case-sensitive str.find, so a
line without one costs nothing), the rule name counted in manifests, the regex `match`ed at the
prefix, and where the pattern comes from. A named group `v` narrows what is replaced (the key
word before it stays readable); otherwise the whole match goes.

Sources: detect-secrets 1.5.0 plugins (Yelp, `detect_secrets/plugins/*.py`) and gitleaks' default
rules (`config/gitleaks.toml`). We keep our own copy rather than depend on detect-secrets: see
bench/README.md (it reports findings, not spans to cut, and misses formats listed here).
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["TOKENS", "TokenPattern"]


class TokenPattern(NamedTuple):
    prefix: str
    rule: str
    regex: re.Pattern[str]
    source: str


def _t(prefixes: str, rule: str, pattern: str, source: str) -> list[TokenPattern]:
    rx = re.compile(pattern)
    return [TokenPattern(p, rule, rx, source) for p in prefixes.split()]


_AWS = r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![0-9A-Za-z])"
_SLACK_HOOK = r"hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_]+/[A-Za-z0-9_]+/(?P<v>\w+)"

TOKENS: tuple[TokenPattern, ...] = tuple(
    [
        *_t(
            "AKIA ASIA ABIA ACCA A3T",
            "aws",
            _AWS,
            "detect-secrets aws.py; gitleaks aws-access-token",
        ),
        *_t(
            "ghp_ gho_ ghu_ ghs_ ghr_",
            "github",
            r"gh[pousr]_[A-Za-z0-9_]{36,255}",
            "detect-secrets github_token.py; gitleaks github-pat, github-oauth",
        ),
        *_t(
            "github_pat_",
            "github",
            r"github_pat_[A-Za-z0-9_]{22,255}",
            "gitleaks github-fine-grained-pat",
        ),
        *_t(
            "glpat- glptt- gldt- glrt- gloas-",
            "gitlab",
            r"gl(?:pat|ptt|dt|rt|oas)-[A-Za-z0-9_-]{20,}",
            "detect-secrets gitlab_token.py; gitleaks gitlab-pat, gitlab-ptt, gitlab-rrt",
        ),
        *_t(
            "xoxa- xoxb- xoxp- xoxo- xoxs- xoxr- xoxe-",
            "slack",
            r"xox[abposre]-[0-9A-Za-z-]{10,}",
            "detect-secrets slack.py (widened as gitleaks slack-bot-token, slack-user-token)",
        ),
        *_t("xapp-", "slack", r"xapp-\d-[A-Za-z0-9-]{10,}", "gitleaks slack-app-token"),
        *_t("hooks.slack.com/", "slack", _SLACK_HOOK, "detect-secrets slack.py (webhook URL)"),
        *_t(
            "sk_live_ rk_live_ sk_test_ rk_test_",
            "stripe",
            r"[rs]k_(?:live|test)_[0-9A-Za-z]{10,99}",
            "detect-secrets stripe.py (widened as gitleaks stripe-access-token)",
        ),
        *_t("whsec_", "stripe", r"whsec_[0-9A-Za-z]{16,}", "Stripe webhook signing secret"),
        *_t("AIza", "google", r"AIza[0-9A-Za-z_-]{35}", "gitleaks gcp-api-key"),
        *_t("npm_", "npm", r"npm_[A-Za-z0-9]{36}", "gitleaks npm-access-token"),
        *_t(
            "pypi-AgEIcHlwaS5vcmc pypi-AgENdGVzdC5weXBpLm9yZw",
            "pypi",
            r"pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}",
            "detect-secrets pypi_token.py (minimum length 50, not 70)",
        ),
        *_t("SK", "twilio", r"SK[0-9a-fA-F]{32}(?![0-9A-Za-z])", "detect-secrets twilio.py"),
        *_t(
            "SG.",
            "sendgrid",
            r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
            "detect-secrets sendgrid.py",
        ),
        *_t(
            "AccountKey= SharedAccessKey= SharedAccessSignature=",
            "azure",
            r"(?:AccountKey|SharedAccessKey|SharedAccessSignature)=(?P<v>[^;\s\"'\\]{16,})",
            "detect-secrets azure_storage_key.py (widened to Service Bus / SAS)",
        ),
        *_t(
            "sk-",
            "openai",
            r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}",
            "detect-secrets openai.py",
        ),
        *_t("hvs.", "vault", r"hvs\.[A-Za-z0-9_-]{24,}", "gitleaks vault-service-token"),
    ]
)
