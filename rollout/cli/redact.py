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
    """One kind of secret: a regex whose group ``secret`` (or whole match) is masked."""

    kind: str
    regex: re.Pattern[str]


def _p(kind: str, regex: str, flags: int = 0) -> Pattern:
    return Pattern(kind, re.compile(regex, flags))


_END = r"(?![A-Za-z0-9_])"  # a token ends where its alphabet does
_ASSIGNED_KEY = r"[A-Za-z0-9_.-]*(?:password|passwd|secret|api[_-]?key|access[_-]?key|auth[_-]?token|access[_-]?token|private[_-]?key|client[_-]?secret)[A-Za-z0-9_.-]*"

#: The secret kinds, most specific first (a later pattern never sees an earlier mask).
PATTERNS: tuple[Pattern, ...] = (
    # A block cut before its END line (a truncated tool output) is masked up to where its base64 stops.
    _p("private-key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|(?:(?:\s|\\n)+[A-Za-z0-9+/=]{16,})*)"),
    _p("jwt", r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}" + _END),
    _p("anthropic-key", r"(?<![A-Za-z0-9_-])sk-ant-(?:[a-z0-9]+-)?[A-Za-z0-9_-]{32,}" + _END),
    _p("openai-key", r"(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin|None)-)?(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9]{20,}(?:[A-Za-z0-9_-]{0,200})" + _END),
    _p("stripe-key", r"(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}" + _END),
    _p("google-api-key", r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}" + _END),
    _p("huggingface-token", r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}" + _END),
    _p("github-token", r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})" + _END),
    _p("gitlab-token", r"(?<![A-Za-z0-9_-])gl(?:pat|dt|rt|ptt|soat|ft|cbt)-[A-Za-z0-9_-]{20,}" + _END),
    _p("slack-webhook", r"https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]{16,}"),
    _p("slack-token", r"(?<![A-Za-z0-9_-])xox[abposr]-(?:[0-9]+-)+[A-Za-z0-9-]{8,}" + _END),
    _p("npm-token", r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}" + _END),
    _p("sendgrid-key", r"(?<![A-Za-z0-9_])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" + _END),
    _p("aws-access-key-id", r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
    _p("aws-secret-key", r"(?i:aws_?secret_?access_?key|aws_?secret)[\"']?\s*[:=]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"),
    _p("bearer-token", r"(?i:\bbearer)\s+(?P<secret>(?=[A-Za-z0-9._~+/-]*\d)[A-Za-z0-9._~+/-]{16,}=*)"),
    _p("basic-auth", r"(?i:\bauthorization:?\s*[\"']?basic)\s+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})"),
    _p("url-password", r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@\"'<>\[\]]+:(?P<secret>[^\s/@\"'<>\[\]]+)@"),
    _p("url-signature", r"[?&](?:(?i:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|X-Goog-Signature|X-Goog-Credential)|Signature|sig|Key-Pair-Id|Policy)=(?P<secret>[^&\s\"'#<>]+)"),
    _p("assigned-secret", r"(?i:(?<![A-Za-z0-9])" + _ASSIGNED_KEY + r")[\"']?\s*[:=]\s*(?P<q>[\"'])(?P<secret>[^\"'\s$][^\"'\n]{3,})(?P=q)"),
    _p("env-secret", r"(?<![A-Za-z0-9_])(?:[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY)[A-Z0-9_]*|[A-Z0-9_]*_TOKEN)=(?!\d+(?![^\s\"'`]))(?P<secret>[^\s\"'$`{(\[<][^\s\"'`]{3,})"),
)

_IMAGE_DATA = re.compile(r"data:image/[a-z0-9.+-]+;base64,", re.I)


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


_MASKS = tuple((pattern.regex, _masker(pattern.kind)) for pattern in PATTERNS)


def redact_text(text: str) -> str:
    """``text`` with every secret :data:`PATTERNS` finds masked (image data URIs untouched)."""
    if _IMAGE_DATA.match(text):
        return text
    for regex, mask in _MASKS:
        text = regex.sub(mask, text)
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
