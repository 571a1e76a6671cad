"""Redaction rules: what is hidden, what survives, counts, and PEM state across chunks."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.secrets import PLANTED, PLANTED_ANNOTATIONS, PLANTED_ENV, Planted
from warroom.actions.redact import REDACTED, Redactor, redact, redact_json
from warroom.drill.logs import FAKE_BEARER

JWT = FAKE_BEARER  # header.payload.signature, as services print them

HIDDEN = [
    # (line, secret that must be gone, rule)
    (f"Authorization: Bearer {JWT}", JWT, "auth"),
    (f'{{"headers":{{"Authorization":"Bearer {JWT}"}}}}', JWT, "auth"),
    ("curl -H 'authorization: Basic dXNlcjpwYXNzd29yZA=='", "dXNlcjpwYXNzd29yZA==", "auth"),
    ("Proxy-Authorization: Bearer abcDEF123456", "abcDEF123456", "auth"),
    ("authorization=tok_live_9f8e7d6c5b4a", "tok_live_9f8e7d6c5b4a", "auth"),
    ("calling upstream with bearer a1b2c3d4e5f6g7h8", "a1b2c3d4e5f6g7h8", "bearer"),
    ("token=Bearer Zm9vYmFyYmF6cXV4", "Zm9vYmFyYmF6cXV4", "bearer"),
    ("dsn=postgres://checkout:s3cr3t-pw@orders-db:5432/orders", "s3cr3t-pw", "url"),
    ("GET https://admin:hunter22@internal.example.com/api", "hunter22", "url"),
    ("redis://:r3d1spass@redis-cart-0:6379/0", "r3d1spass", "url"),
    (f"session {JWT} expired", JWT, "jwt"),
    ("password=hunter2 user=bob", "hunter2", "kv"),
    ("DB_PASSWORD=correcthorse", "correcthorse", "kv"),
    ("passwd: letmein99", "letmein99", "kv"),
    ('{"password": "p@ss word"}', "p@ss word", "kv"),
    ("{'api_key': 'AKIA1234567890'}", "AKIA1234567890", "kv"),
    ("x-api-key: 0123456789abcdef", "0123456789abcdef", "kv"),
    ("apikey=live_abcdef", "live_abcdef", "kv"),
    (
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCY",
        "kv",
    ),
    ("aws.access_key = AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "aws"),
    ('"client_secret":"c5f1e2d3"', "c5f1e2d3", "kv"),
    ("private_key: mysecretkeymaterial", "mysecretkeymaterial", "kv"),
    ("SECRET_KEY=django-insecure-xyz", "django-insecure-xyz", "kv"),
    ("callback?access_token=ya29.a0Af&state=1", "ya29.a0Af", "kv"),
    ("refresh_token: rt_0011223344", "rt_0011223344", "kv"),
    ("github_token=ghp_16C7e42F292c6912E7710c838347Ae178B4a", "ghp_16C7e42F", "github"),
    ('annotation {\\"password\\":\\"hunter2\\"}', "hunter2", "kv"),
    ("webhook secret: whsec_abc123", "whsec_abc123", "kv"),
]


@pytest.mark.parametrize(("line", "secret", "rule"), HIDDEN)
def test_secret_is_hidden_and_counted(line: str, secret: str, rule: str) -> None:
    r = Redactor()
    out, n = r.redact(line)
    assert secret not in out, out
    assert REDACTED in out
    assert n >= 1
    assert r.counts[rule] >= 1, r.counts


SURVIVES = [
    "token bucket refill: 5 tokens/s",
    "tokens=5 refill=10/s max_tokens: 100",
    "token_count=3 token_type=access",
    "rotating the secret store next week",
    "password reset email sent to u-123456",
    "Authorization header missing",
    "the bearer of bad news",
    "Bearer authentication required",
    "connected dsn=postgres://checkout@orders-db.shop.svc:5432/orders",
    "GET http://localhost:3000/api/products?page=2 200",
    "http://example.com:8080/path@v2",
    '{"key":"value","keyboard":"us"}',
    "password: null",
    'password: ""',
    "secret: [REDACTED]",
    "api_key=***",
    "private network 10.0.0.0/8",
    "eyJust kidding, not a token",
    "tokenizer=bert-base",
    "publickey=ssh-ed25519",
    "",
]


@pytest.mark.parametrize("line", SURVIVES)
def test_false_positives_survive(line: str) -> None:
    assert redact(line) == (line, 0)


def test_drill_log_lines() -> None:
    checkout = (
        '{"level":"debug","ts":"2026-01-01T00:00:00.000Z","msg":"payments call",'
        f'"request_id":"ab12","headers":{{"Authorization":"Bearer {FAKE_BEARER}"}}}}'
    )
    payments = (
        "2026-01-01T00:00:00.000Z DEBUG 1 --- [nio-8443-exec-3] c.e.shop.payments.PspClient"
        f"              : POST https://api.psp.example.com/v2/charges Authorization: Bearer "
        f"{FAKE_BEARER}"
    )
    for line in (checkout, payments):
        out, n = redact(line)
        assert FAKE_BEARER not in out and n == 1
        assert "Bearer [REDACTED]" in out
    out, _ = redact(checkout)
    assert json.loads(out)["headers"]["Authorization"] == "Bearer [REDACTED]"


def test_extra_strings_anywhere() -> None:
    token = "kube-admin-token-7f3a"
    r = Redactor([token, "", "abc"])  # empty and too-short extras are ignored
    out, n = r.redact(f"ran kubectl --token {token} get pods\nabc stays\n")
    assert token not in out and n == 1 and r.counts == {"extra": 1}
    assert "abc stays" in out


def test_multiline_extra_is_matched_by_line() -> None:
    pem_like = "line-one-secret-material\nline-two-secret-material"
    out, n = redact("a line-two-secret-material b", [pem_like])
    assert out == f"a {REDACTED} b" and n == 1


PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----\n"
)


def test_pem_block_whole_text() -> None:
    out, n = redact(f"before\n{PEM}after password=x1\n")
    assert "MIIEowIBAAKCAQEA" not in out and "VTLw7onLRnrq0" not in out
    assert out.startswith("before\n-----BEGIN RSA PRIVATE KEY-----[REDACTED]\n")
    assert "-----END RSA PRIVATE KEY-----\nafter password=[REDACTED]\n" in out
    assert n == 2


def test_pem_block_split_across_stream_chunks() -> None:
    r = Redactor()
    lines = f"ts=1 loading key\n{PEM}ts=2 ok\n".splitlines(keepends=True)
    out = "".join(r.redact(line)[0] for line in lines)  # one line per call, as a stream
    assert "MIIEowIBAAKCAQEA" not in out and "VTLw7onLRnrq0" not in out
    assert "ts=2 ok\n" in out and not r.in_pem
    assert r.counts == {"pem": 1}


def test_pem_with_log_timestamps() -> None:
    stamped = "".join(f"2026-01-01T00:00:00Z {line}" for line in PEM.splitlines(keepends=True))
    out, n = redact(stamped + "2026-01-01T00:00:01Z next\n")
    assert "MIIEowIBAAKCAQEA" not in out and "2026-01-01T00:00:01Z next" in out and n == 1


def test_pem_on_one_line_escaped() -> None:
    line = '{"key":"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----\\n"}'
    out, n = redact(line)
    assert "MIIEvQIBADANBg" not in out and n == 1
    cut = '{"key":"-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIBk truncated'
    out, n = redact(cut + "\nnext line\n")
    assert "MHcCAQEEIBk" not in out and "next line" in out and n == 1


def test_unterminated_pem_stops_eating_eventually() -> None:
    body = "".join(f"AAAA{i}\n" for i in range(300))
    out, _ = redact("-----BEGIN PRIVATE KEY-----\n" + body)
    assert "AAAA0\n" not in out and "AAAA199\n" not in out
    assert "AAAA299\n" in out  # past MAX_PEM_LINES it was no key


def test_public_key_and_certificate_survive() -> None:
    text = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
    assert redact(text) == (text, 0)


def test_block_fast_path_matches_line_by_line() -> None:
    lines = [
        "plain line one",
        f"Authorization: Bearer {JWT}",
        "token bucket refill",
        "password=abc123",
        "GET /healthz 200",
        "postgres://u:pw123@db/x",
    ] * 50
    text = "\n".join(lines) + "\n"
    whole, n_whole = redact(text)
    r = Redactor()
    by_line = "".join(r.redact(line + "\n")[0] for line in lines)
    assert whole == by_line and n_whole == r.total == 150


def test_non_ascii_text() -> None:
    out, n = redact("Straße İstanbul password=geheim123 ünïcode\nnothing here ✓\n")
    assert "geheim123" not in out and n == 1
    assert "Straße İstanbul" in out and "nothing here ✓" in out


def test_counts_accumulate_per_rule() -> None:
    r = Redactor(["my-extra-secret"])
    r.redact(f"Authorization: Bearer {JWT}\n")
    r.redact("password=x1 and my-extra-secret\n")
    r.redact(f"jwt {JWT}\n")
    assert r.counts == {"auth": 1, "kv": 1, "extra": 1, "jwt": 1}
    assert r.total == 4


def test_redact_json_env_and_embedded_json() -> None:
    pod = {
        "metadata": {
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": json.dumps(
                    {"env": [{"name": "DB_PASSWORD", "value": "hunter2"}]}
                )
            }
        },
        "spec": {
            "containers": [
                {
                    "env": [
                        {"name": "DB_PASSWORD", "value": "hunter2"},
                        {"name": "API_TOKEN", "value": "tok-123"},
                        {"name": "LOG_LEVEL", "value": "debug"},
                        {"name": "PASSWORD_SECRET", "valueFrom": {"secretKeyRef": {"name": "x"}}},
                    ]
                }
            ]
        },
    }
    r = Redactor()
    text, n = redact_json(pod, r)
    assert "hunter2" not in text and "tok-123" not in text
    assert '"debug"' in text and "secretKeyRef" in text
    assert n == 3 and r.counts["env"] == 3
    assert json.loads(text)["spec"]["containers"][0]["env"][2]["value"] == "debug"


# ----- planted secrets: every kind in tests/fixtures/secrets.py -------------------------------
@pytest.mark.parametrize("planted", PLANTED, ids=[p.kind for p in PLANTED])
def test_planted_kind_is_hidden(planted: Planted) -> None:
    out, n = redact(f"2026-01-01T00:00:00Z INFO {planted.line}\nnext line stays\n")
    assert planted.secret not in out, out
    assert n >= 1 and REDACTED in out and out.endswith("next line stays\n")


def test_planted_kinds_are_many() -> None:
    assert len({p.kind for p in PLANTED}) >= 30


def test_planted_in_one_stream_line_by_line() -> None:
    text = "".join(f"{p.line}\n" for p in PLANTED)
    r = Redactor()
    out = "".join(r.redact(line)[0] for line in text.splitlines(keepends=True))
    assert not [s for s in (p.secret for p in PLANTED) if s in out]
    assert {"aws", "github", "gitlab", "slack", "stripe", "google", "pem", "cookie"} <= set(
        r.counts
    )


def test_planted_env_and_annotations_in_objects() -> None:
    pod = {
        "metadata": {"annotations": {**PLANTED_ANNOTATIONS, "team": "payments"}},
        "spec": {
            "containers": [
                {"env": [{"name": k, "value": v} for k, v in PLANTED_ENV.items()]},
            ]
        },
    }
    r = Redactor()
    text, _ = redact_json(pod, r)
    assert not [s for s in [*PLANTED_ENV.values(), *PLANTED_ANNOTATIONS.values()] if s in text]
    assert json.loads(text)["metadata"]["annotations"]["team"] == "payments"
    # STRIPE_SK says nothing by its name: its value's shape does
    assert r.counts["env"] == len(PLANTED_ENV) - 1 and r.counts["stripe"] == 1
    assert r.counts["annotation"] == 3


@pytest.mark.parametrize(
    "line",
    [
        "bypass=cache hit",
        "TASK-1234 done",
        "disk-usage 80%",
        "SKU=ab12 qty=3",
        "Cookie header missing",
        "cookies: 3",
        "set via AccountKey rotation",
        "asked AKIA about it",
        "AIzawhat is this",
    ],
)
def test_token_shapes_need_their_shape(line: str) -> None:
    assert redact(line) == (line, 0)


def test_env_names_that_are_not_secret_keep_their_value() -> None:
    env = [
        {"name": "PASSENGER_APP_ENV", "value": "production"},
        {"name": "TOKENIZER_MODEL", "value": "bert"},
        {"name": "KEYCLOAK_URL", "value": "https://kc"},
    ]
    text, n = redact_json({"env": env}, Redactor())
    assert n == 0 and json.loads(text) == {"env": env}


def test_lone_carriage_return_does_not_hide_a_line_from_the_rules() -> None:
    out, _ = redact(f"progress 10%\rprogress 20% password=cr-secret-1\n{PEM}")
    assert "cr-secret-1" not in out and "MIIEowIBAAKCAQEA" not in out


def test_every_token_prefix_holds_a_scan_anchor() -> None:
    from warroom.actions.redact import _TOKEN_ANCHORS
    from warroom.actions.secret_patterns import TOKENS

    assert [t.prefix for t in TOKENS if not any(a in t.prefix for a in _TOKEN_ANCHORS)] == []
