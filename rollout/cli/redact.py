"""Masking secrets in what ``view`` and ``export --redact`` write out.

:data:`PATTERNS` is the tested set: provider API keys, bearer and basic
credentials, JWTs, private key blocks, cloud and forge tokens, passwords in
URLs and in assignments, and the signature parameters of signed URLs. Each match
becomes ``[REDACTED:<kind>]``; where only part of a match is secret (a URL's
password, a query parameter's value, an assignment's value) the rest stays, so
the text still reads.

:func:`redact_rollout` applies them to every JSON string of every line of a
rollout and re-encodes only the lines that changed: the result is still a
rollout Codex can read, and lines without secrets keep their exact bytes.
Base64 image data URIs are left alone (they are pictures, and masking a chance
match inside one would only break the image). Nothing here touches a store.

Must not import: rich, store, replay.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

import msgspec

__all__ = ["PATTERNS", "Pattern", "redact_rollout", "redact_text", "redact_value"]


class Pattern(NamedTuple):
    """One kind of secret: a regex whose group ``secret`` (or whole match) is masked.

    ``hints`` are lowercase strings one of which every match contains: a text
    holding none of them is not searched (plain substring tests are far cheaper
    than running every regex over every string).
    """

    kind: str
    regex: re.Pattern[str]
    hints: tuple[str, ...]


def _p(kind: str, hints: str, regex: str) -> Pattern:
    return Pattern(kind, re.compile(regex), tuple(hints.split()))


_END = r"(?![A-Za-z0-9_])"  # a token ends where its alphabet does
_ASSIGNED_KEY = r"[A-Za-z0-9_.-]*(?:password|passwd|secret|api[_-]?key|access[_-]?key|auth[_-]?token|access[_-]?token|private[_-]?key|client[_-]?secret)[A-Za-z0-9_.-]*"
# A name that only points at a secret (SECRET_NAME, API_KEY_HEADER, PASSWORD_FILE) holds none.
_POINTER = "".join(f"(?<![_.-]{suffix})" for suffix in ("name", "header", "file", "path", "url", "env", "var", "field"))

#: The secret kinds, most specific first (a later pattern never sees an earlier mask).
PATTERNS: tuple[Pattern, ...] = (
    # A block cut before its END line (a truncated tool output) is masked up to where its base64 stops.
    _p("private-key", "private", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|(?:(?:\s|\\n)+[A-Za-z0-9+/=]{16,})*)"),
    _p("jwt", "eyj", r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}" + _END),
    _p("anthropic-key", "sk-ant-", r"(?<![A-Za-z0-9_-])sk-ant-(?:[a-z0-9]+-)?[A-Za-z0-9_-]{32,}" + _END),
    _p("openai-key", "sk-", r"(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin|None)-)?(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9]{20,}(?:[A-Za-z0-9_-]{0,200})" + _END),
    _p("stripe-key", "sk_live_ sk_test_ rk_live_ rk_test_", r"(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}" + _END),
    _p("google-api-key", "aiza", r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}" + _END),
    _p("huggingface-token", "hf_", r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}" + _END),
    _p("github-token", "ghp_ gho_ ghu_ ghs_ ghr_ github_pat_", r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})" + _END),
    _p("gitlab-token", "glpat- gldt- glrt- glptt- glsoat- glft- glcbt-", r"(?<![A-Za-z0-9_-])gl(?:pat|dt|rt|ptt|soat|ft|cbt)-[A-Za-z0-9_-]{20,}" + _END),
    _p("slack-webhook", "hooks.slack.com", r"https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]{16,}"),
    _p("slack-token", "xoxa- xoxb- xoxp- xoxo- xoxs- xoxr-", r"(?<![A-Za-z0-9_-])xox[abposr]-(?:[0-9]+-)+[A-Za-z0-9-]{8,}" + _END),
    _p("npm-token", "npm_", r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}" + _END),
    _p("sendgrid-key", "sg.", r"(?<![A-Za-z0-9_])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" + _END),
    _p("aws-access-key-id", "akia asia abia acca", r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
    _p("aws-secret-key", "aws", r"(?i:aws_?secret_?access_?key|aws_?secret)[\"']?\s*[:=]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"),
    _p("bearer-token", "bearer", r"(?i:\bbearer)\s+(?P<secret>(?=[A-Za-z0-9._~+/-]*\d)[A-Za-z0-9._~+/-]{16,}=*)"),
    _p("basic-auth", "basic", r"(?i:\bauthorization:?\s*[\"']?basic)\s+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})"),
    _p("url-password", "://", r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@\"'<>\[\]]+:(?P<secret>[^\s/@\"'<>\[\]${%][^\s/@\"'<>\[\]]*)@"),
    _p("url-signature", "signature= credential= security-token= sig= key-pair-id= policy=", r"[?&](?:(?i:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|X-Goog-Signature|X-Goog-Credential)|Signature|sig|Key-Pair-Id|Policy)=(?P<secret>[^&\s\"'#<>]+)"),
    # The key starts where a run of name characters starts, so a long base64 run costs one scan, not n.
    _p("assigned-secret", "passw secret api_key api-key apikey access_key access-key accesskey auth_token auth-token authtoken access_token access-token accesstoken private_key private-key privatekey", r"(?i:(?<![A-Za-z0-9_.-])" + _ASSIGNED_KEY + _POINTER + r")[\"']?\s*[:=]\s*(?P<q>[\"'])(?P<secret>[^\"'\s$][^\"'\n]{3,})(?P=q)"),
    _p("env-secret", "password passwd secret api_key apikey access_key private_key _token", r"(?<![A-Za-z0-9_])(?:[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY)[A-Z0-9_]*|[A-Z0-9_]*_TOKEN)(?i:" + _POINTER + r")=(?!\d+(?![^\s\"'`]))(?P<secret>[^\s\"'$`{(\[<][^\s\"'`]{3,})"),
)

_IMAGE_DATA = re.compile(r"data:image/[a-z0-9.+-]+;base64,", re.I)

#: Every hint of every pattern: a string (or raw line, lowercased) with none holds no secret.
_ALL_HINTS = tuple(sorted({hint for pattern in PATTERNS for hint in pattern.hints}))
#: The same for raw JSON lines, where "://" may be written ":\/\/" (letters are never escaped).
_RAW_HINTS = tuple(hint.encode() for hint in (*_ALL_HINTS, ":\\/\\/"))


def _masker(kind: str) -> Callable[[re.Match[str]], str]:
    label = f"[REDACTED:{kind}]"

    def mask(match: re.Match[str]) -> str:
        if "secret" not in match.re.groupindex or match.group("secret") is None:
            return label
        start, end = match.span("secret")
        base = match.start()
        whole = match.group(0)
        return whole[: start - base] + label + whole[end - base:]

    return mask


_MASKS = tuple((pattern.hints, pattern.regex, _masker(pattern.kind)) for pattern in PATTERNS)


def redact_text(text: str) -> str:
    """``text`` with every secret :data:`PATTERNS` finds masked (image data URIs untouched)."""
    if _IMAGE_DATA.match(text):
        return text
    lower = text.lower()
    for hints, regex, mask in _MASKS:
        if any(hint in lower for hint in hints):
            text = regex.sub(mask, text)
            lower = text.lower()
    return text


def redact_value(value: Any) -> Any:
    """A JSON value (dicts, lists, strings ...) with every string redacted; keys are kept."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    return value


_decode = msgspec.json.Decoder()
_encode = msgspec.json.Encoder()


def _redact_line(line: bytes) -> bytes:
    lower = line.lower()
    if not any(hint in lower for hint in _RAW_HINTS):
        return line
    body = line.rstrip(b"\r")
    try:
        value = _decode.decode(body)
    except (msgspec.DecodeError, RecursionError):
        # Not JSON (a torn or malformed line): mask in its text, keep its bytes otherwise.
        text = body.decode("utf-8", "surrogateescape")
        masked = redact_text(text)
        return line if masked == text else masked.encode("utf-8", "surrogateescape") + line[len(body):]
    masked = redact_value(value)
    if masked == value:
        return line
    return _encode.encode(masked) + line[len(body):]


def redact_rollout(data: bytes) -> bytes:
    """A rollout (JSONL bytes) with the secrets in its strings masked, line by line.

    Lines without a secret keep their exact bytes; a changed line is re-encoded
    as compact JSON (its line ending kept).
    """
    return b"\n".join(_redact_line(line) for line in data.split(b"\n"))
