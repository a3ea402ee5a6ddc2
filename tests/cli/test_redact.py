"""``--redact``: each secret pattern masks what it should and leaves its near misses alone.

Fake secrets are assembled at run time (``_rep``), so this file holds no string
that looks like a live credential to a secret scanner.
"""

from __future__ import annotations

import json

import pytest

from rollout.cli.redact import PATTERNS, redact_rollout, redact_text


def _rep(unit: str, length: int) -> str:
    """``unit`` repeated and cut to ``length`` characters."""
    return (unit * (length // len(unit) + 1))[:length]


B64 = _rep("Qm9hdGluZyBpcyBmdW4h", 64)
KEY_BODY = "\n".join([B64, B64, B64[:40]])

# (kind, text with a secret, what must be gone, what must stay)
POSITIVES = [
    ("private-key", f"key:\n-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\n-----END RSA PRIVATE KEY-----\nok",
     B64[:40], "key:"),
    ("private-key", f"-----BEGIN OPENSSH PRIVATE KEY-----\\n{B64}\\n{B64}\\n(output truncated)",
     B64, "(output truncated)"),
    ("private-key", f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n{KEY_BODY}\n-----END PGP PRIVATE KEY BLOCK-----",
     B64[:40], ""),
    ("jwt", "token=eyJ" + _rep("hbGciOiJI", 20) + ".eyJ" + _rep("zdWIiOiIx", 30) + "." + _rep("SflKxwRJ", 43),
     _rep("zdWIiOiIx", 30), "token="),
    ("anthropic-key", "ANTHROPIC=sk-ant-api03-" + _rep("Xy9_Zq-", 93) + "AA", _rep("Xy9_Zq-", 40), "ANTHROPIC="),
    ("openai-key", "key sk-proj-" + _rep("aB3dE5", 48) + "_" + _rep("Kx", 20) + " used", _rep("aB3dE5", 48), " used"),
    ("openai-key", "OPENAI_API_KEY=sk-" + _rep("T3BlbkFJ9", 48), _rep("T3BlbkFJ9", 48), "OPENAI_API_KEY="),
    ("stripe-key", "stripe sk_live_" + _rep("4eC39HqLyj", 24), _rep("4eC39HqLyj", 24), "stripe "),
    ("google-api-key", "url?key=AIza" + _rep("SyD-9tSrke72", 35), _rep("SyD-9tSrke72", 35), "url?key="),
    ("huggingface-token", "HF hf_" + _rep("aBcD3", 34), _rep("aBcD3", 34), "HF "),
    ("github-token", "git clone https://ghp_" + _rep("R2Vk9z", 36) + "@github.com/o/r", _rep("R2Vk9z", 36), "github.com/o/r"),
    ("github-token", "github_pat_" + _rep("11AB_cd9", 82), _rep("11AB_cd9", 60), ""),
    ("gitlab-token", "PRIVATE-TOKEN: glpat-" + _rep("x9Y_z-", 20), _rep("x9Y_z-", 20), "PRIVATE-TOKEN: "),
    ("slack-webhook", "post to https://hooks.slack.com/services/T0ABC123/B0DEF456/" + _rep("aZ9", 24),
     _rep("aZ9", 24), "post to "),
    ("slack-token", "xoxb-123456789012-1234567890123-" + _rep("AbCdEf9", 24), _rep("AbCdEf9", 24), ""),
    ("npm-token", "//registry.npmjs.org/:_authToken=npm_" + _rep("a1B2c3", 36), _rep("a1B2c3", 36), "registry.npmjs.org"),
    ("sendgrid-key", "SG." + _rep("aB9_-", 22) + "." + _rep("xY8-_", 43), _rep("xY8-_", 43), ""),
    ("aws-access-key-id", "aws_access_key_id = AKIA" + _rep("IOSFODNN7", 16), "AKIA" + _rep("IOSFODNN7", 16), "aws_access_key_id = "),
    ("aws-secret-key", "aws_secret_access_key = " + _rep("wJalrXUtnFEMI/K7MDENG+", 40), _rep("wJalrXUtnFEMI/K7MDENG+", 40),
     "aws_secret_access_key = "),
    ("bearer-token", 'curl -H "Authorization: Bearer abc123' + _rep("def456.", 24) + '"', _rep("def456.", 24),
     'curl -H "Authorization: Bearer '),
    ("basic-auth", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA==", "Authorization: Basic "),
    ("url-password", "DATABASE_URL=postgres://app:s3cr3t-pw@db.internal:5432/app", "s3cr3t-pw", "postgres://app:"),
    ("url-password", "fetch https://deploy:hunter2@example.com/x", "hunter2", "@example.com/x"),
    ("url-signature", "https://b.s3.amazonaws.com/f.png?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIDEXAMPLE%2F2026"
     "&X-Amz-Signature=" + _rep("fe5f80f7", 64), _rep("fe5f80f7", 64), "X-Amz-Algorithm=AWS4"),
    ("url-signature", "https://acct.blob.core.windows.net/c/b?sv=2024-01-01&sig=" + _rep("Zm9vYmFy%2B", 44),
     _rep("Zm9vYmFy%2B", 44), "sv=2024-01-01"),
    ("url-signature", "https://d1.cloudfront.net/a.mp4?Expires=1&Signature=" + _rep("Lw~k9", 60) + "&Key-Pair-Id=K2ABC",
     _rep("Lw~k9", 60), "Expires=1"),
    ("assigned-secret", '{"db": {"password": "correct-horse-9"}}', "correct-horse-9", '"password": "'),
    ("assigned-secret", "client_secret: 'q8Zr-ww2'", "q8Zr-ww2", "client_secret: '"),
    ("env-secret", "export DB_PASSWORD=Tr0ub4dor&3 && run", "Tr0ub4dor&3", "&& run"),
    ("env-secret", "CI_JOB_TOKEN=" + _rep("k9Lm", 20) + " make", _rep("k9Lm", 20), " make"),
]

NEGATIVES = [
    ("private-key", "-----BEGIN PUBLIC KEY-----\n" + KEY_BODY + "\n-----END PUBLIC KEY-----"),
    ("private-key", "-----BEGIN CERTIFICATE-----\n" + KEY_BODY + "\n-----END CERTIFICATE-----"),
    ("private-key", "grep 'PRIVATE KEY' config/ returned nothing"),
    ("jwt", "eyJhbGciOiJIUzI1NiJ9 is only a header"),
    ("jwt", "version eyJ.eyJ.abc"),
    ("anthropic-key", "sk-ant-short"),
    ("openai-key", "pip install scikit-learn sk-learn"),
    ("openai-key", "task-" + _rep("aB3dE5", 48)),
    ("openai-key", "sk-this-is-a-long-slug-without-numbers-at-all"),
    ("stripe-key", "pk_live_" + _rep("4eC39HqLyj", 24)),
    ("stripe-key", "sk_live_short"),
    ("google-api-key", "AIzaShortKey"),
    ("huggingface-token", "hf_hub_download(repo_id)"),
    ("github-token", "ghp_short and gh_" + _rep("R2Vk9z", 36)),
    ("github-token", "the branch ghx_" + _rep("R2Vk9z", 36)),
    ("gitlab-token", "glpat-short"),
    ("slack-webhook", "https://hooks.slack.com/services/"),
    ("slack-token", "xoxb- is the bot prefix"),
    ("npm-token", "npm_config_cache=/tmp/npm"),
    ("sendgrid-key", "SG.ok.done"),
    ("aws-access-key-id", "AKIA is the prefix; AKIAIOSFODNN7EXAMPLEX9 is too long"),
    ("aws-secret-key", "aws_secret_access_key = ${AWS_SECRET}"),
    ("bearer-token", "Send a Bearer token in the Authorization header"),
    ("bearer-token", "Bearer authenticationschemes-explained"),
    ("bearer-token", "Authorization: Bearer $TOKEN"),
    ("basic-auth", "HTTP Basic authentication is weak"),
    ("url-password", "http://localhost:8080/path@v2"),
    ("url-password", "ssh://git@github.com:22/o/r.git and git@github.com:o/r.git"),
    ("url-password", 'return "postgres://$user:$pass@$host" or "postgres://{0}:{1}@{2}"'),
    ("url-signature", "https://example.com/page?signal=5&sign=up&design=x"),
    ("url-signature", "https://example.com/?q=Signature"),
    ("assigned-secret", "password = os.environ['DB_PASSWORD']"),
    ("assigned-secret", "def check(password: str) -> bool:"),
    ("assigned-secret", '{"password": ""}'),
    ("assigned-secret", 'api_key = "$API_KEY"'),
    ("assigned-secret", '{"secret_name": "prod-db-password", "api_key_header": "X-Api-Key"}'),
    ("env-secret", "PASSWORD=$DB_PASS ./run"),
    ("env-secret", "API_KEY=${API_KEY:-none}"),
    ("env-secret", "MAX_TOKEN=4096 python train.py"),
    ("env-secret", "max_tokens=4096"),
    ("env-secret", "API_KEY_HEADER=X-Api-Key PASSWORD_FILE=/run/secrets/db SECRET_NAME=prod"),
]


@pytest.mark.parametrize(("kind", "text", "secret", "kept"), POSITIVES, ids=[f"{p[0]}-{i}" for i, p in enumerate(POSITIVES)])
def test_pattern_masks_its_secret(kind, text, secret, kept):
    """The secret is replaced by a [REDACTED:kind] label; the text around it stays."""
    out = redact_text(text)
    assert secret not in out
    assert f"[REDACTED:{kind}]" in out
    assert kept in out


@pytest.mark.parametrize(("kind", "text", "secret", "kept"), POSITIVES, ids=[f"{p[0]}-{i}" for i, p in enumerate(POSITIVES)])
def test_rollout_line_holding_a_secret_is_masked(kind, text, secret, kept):
    """Every positive is also caught inside a rollout line (the raw-line prefilter lets it through)."""
    line = json.dumps({"type": "event_msg", "payload": {"type": "user_message", "message": text}}).encode()
    message = json.loads(redact_rollout(line))["payload"]["message"]
    assert secret not in message and f"[REDACTED:{kind}]" in message


@pytest.mark.parametrize(("kind", "text"), NEGATIVES, ids=[f"{n[0]}-{i}" for i, n in enumerate(NEGATIVES)])
def test_near_miss_is_left_alone(kind, text):
    """Text that only resembles a secret is not touched."""
    assert redact_text(text) == text


def test_every_pattern_has_positives_and_negatives():
    """The tables above cover each kind in PATTERNS both ways."""
    kinds = {p.kind for p in PATTERNS}
    assert {p[0] for p in POSITIVES} == kinds
    assert {n[0] for n in NEGATIVES} == kinds


def test_image_data_uris_are_not_touched():
    """A base64 image stays whole even if its characters happen to spell a key."""
    uri = "data:image/png;base64,AKIA" + _rep("IOSFODNN7", 16) + "AAAA"
    assert redact_text(uri) == uri


def test_rollout_keeps_unchanged_lines_byte_for_byte():
    """Only lines holding a secret are re-encoded; others (and line endings) stay exact."""
    secret = "ghp_" + _rep("R2Vk9z", 36)
    clean = b'{"timestamp":"2026-06-01T10:00:00.000Z", "type":"event_msg","payload":{"type":"user_message","message":"hi"}}'
    dirty = json.dumps({"type": "event_msg", "payload": {"type": "user_message", "message": f"use {secret}"}}).encode()
    data = clean + b"\r\n" + dirty + b"\r\n" + b"{not json " + secret.encode() + b"\n"
    out = redact_rollout(data)
    lines = out.split(b"\n")
    assert lines[0] == clean + b"\r"
    assert json.loads(lines[1])["payload"]["message"] == "use [REDACTED:github-token]"
    assert lines[1].endswith(b"\r")
    assert lines[2] == b"{not json [REDACTED:github-token]"
    assert secret.encode() not in out


def test_secret_inside_tool_arguments_json_stays_valid_json():
    """A key inside a function_call's JSON-in-a-string arguments is masked, the arguments still parse."""
    key = "sk-" + _rep("T3BlbkFJ9", 48)
    arguments = json.dumps({"cmd": f'curl -H "Authorization: Bearer {key}" https://api.example.com'})
    line = json.dumps({"type": "response_item", "payload": {"type": "function_call", "arguments": arguments}}).encode()
    out = json.loads(redact_rollout(line))
    inner = json.loads(out["payload"]["arguments"])
    assert key not in inner["cmd"] and "[REDACTED:" in inner["cmd"]
