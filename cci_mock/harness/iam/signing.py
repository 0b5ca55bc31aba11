"""Verify Huawei Cloud API gateway AK/SK signatures (``SDK-HMAC-SHA256``).

The gateway recomputes what the client's signer computed, so this module mirrors
``huaweicloudsdkcore.signer.signer.Signer`` step by step (the tests sign with it):

* canonical URI: the path, percent-decoded, split on ``/``, each segment encoded
  with only ``~`` left bare, joined, and **always ending in ``/``**;
* canonical query: pairs sorted by (key, value) of the decoded strings, each side
  encoded the same way, joined with ``&``;
* canonical headers: each signed header lowercased, its value stripped, in the order
  of ``SignedHeaders`` (which the signer sorted), one ``name:value\\n`` per line;
* payload: hex SHA-256 of the body; an empty body hashes as empty even when
  ``X-Sdk-Content-Sha256`` is present, otherwise that header's value
  (``UNSIGNED-PAYLOAD``) stands in for the hash;
* string to sign: ``SDK-HMAC-SHA256\\n<X-Sdk-Date>\\n<hex sha256(canonical request)>``;
  signature: hex HMAC-SHA256 keyed with the SK.

Refusals are the gateway's (:mod:`.errors`): APIGW.0301 (401) for every
authentication failure -- malformed header, unknown AK, date off by more than 15
minutes, signature mismatch -- and APIGW.0201 (413) for a body over 12 MB, the
limit 认证鉴权.md sets for AK/SK-signed requests.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from .errors import GatewayError, entity_too_large, incorrect_iam_auth

ALGORITHM = "SDK-HMAC-SHA256"
DATE_HEADER = "x-sdk-date"
CONTENT_HASH_HEADER = "x-sdk-content-sha256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_SKEW = timedelta(minutes=15)
MAX_SIGNED_BODY = 12 * 1024 * 1024
EMPTY_HASH = hashlib.sha256(b"").hexdigest()

Headers = Mapping[str, str] | Iterable[tuple[str, str]]
LookupSecret = Callable[[str], str | None]


@dataclass(frozen=True)
class SignedAuthorization:
    """The parts of ``Authorization: SDK-HMAC-SHA256 Access=.., SignedHeaders=.., Signature=..``."""

    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


def lower_headers(headers: Headers) -> dict[str, str]:
    """Header names lowercased (the first value wins), from a dict or (name, value) pairs."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in pairs:
        out.setdefault(name.lower(), value)
    return out


def is_signed(headers: Headers) -> bool:
    """Does the request carry an APIG AK/SK signature (rather than a token)?"""
    return lower_headers(headers).get("authorization", "").startswith(ALGORITHM + " ")


def scope_headers(headers: Headers) -> tuple[str | None, str | None]:
    """``(X-Project-Id, X-Domain-Id)``: the SDK's Basic/Global credentials send one of them."""
    lowered = lower_headers(headers)
    return lowered.get("x-project-id") or None, lowered.get("x-domain-id") or None


def parse_authorization(value: str | None) -> SignedAuthorization:
    if not value:
        raise incorrect_iam_auth("Authorization header not found")
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise incorrect_iam_auth(f"unsupported signing algorithm {algorithm!r}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key] = val.strip()
    missing = [k for k in ("Access", "SignedHeaders", "Signature") if not fields.get(k)]
    if missing:
        raise incorrect_iam_auth(f"Authorization header lacks {', '.join(missing)}")
    signed = tuple(fields["SignedHeaders"].split(";"))
    return SignedAuthorization(fields["Access"], signed, fields["Signature"].lower())


def _encode(text: str) -> str:
    return quote(text, safe="~")


def canonical_uri(path: str) -> str:
    """The signer's URI form; pass the raw (still percent-encoded) path, without query."""
    uri = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query_pairs: Iterable[tuple[str, str]]) -> str:
    """Decoded (key, value) pairs, as the server parsed them from the query string."""
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(query_pairs))


def payload_hash(body: bytes, headers: Mapping[str, str]) -> str:
    if not body:
        return EMPTY_HASH
    return headers.get(CONTENT_HASH_HEADER) or hashlib.sha256(body).hexdigest()


def canonical_request(method: str, path: str, query_pairs: Iterable[tuple[str, str]],
                      headers: Headers, signed_headers: Iterable[str], body: bytes) -> str:
    lowered = lower_headers(headers)
    signed = list(signed_headers)
    lines = "".join(f"{name}:{lowered.get(name, '').strip()}\n" for name in signed)
    return "\n".join((method.upper(), canonical_uri(path), canonical_query(query_pairs), lines,
                      ";".join(signed), payload_hash(body, lowered)))


def string_to_sign(canonical: str, sdk_date: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def signature(secret: str, canonical: str, sdk_date: str) -> str:
    return hmac.new(secret.encode("utf-8"), string_to_sign(canonical, sdk_date).encode("utf-8"),
                    hashlib.sha256).hexdigest()


def _parse_date(value: str | None) -> datetime:
    if not value:
        raise incorrect_iam_auth("x-sdk-date not found")
    try:
        return datetime.strptime(value.strip(), DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise incorrect_iam_auth(f"x-sdk-date {value!r} is not in {DATE_FORMAT} form") from None


def verify(method: str, path: str, query_pairs: Iterable[tuple[str, str]], headers: Headers,
           body: bytes, lookup_secret: LookupSecret, now: datetime) -> str:
    """Check a signed request; return its access key or raise :class:`.errors.GatewayError`.

    ``path`` is the raw request path (no query), ``query_pairs`` the decoded pairs,
    ``lookup_secret(ak)`` the SK or None, ``now`` the mock clock's aware now.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (the mock clock's now())")
    if len(body) > MAX_SIGNED_BODY:
        raise entity_too_large()
    lowered = lower_headers(headers)
    auth = parse_authorization(lowered.get("authorization"))
    if DATE_HEADER not in auth.signed_headers:
        raise incorrect_iam_auth("x-sdk-date is not among the signed headers")
    sdk_date = lowered.get(DATE_HEADER, "").strip()
    signed_at = _parse_date(sdk_date)
    secret = lookup_secret(auth.access_key)
    if secret is None:
        raise incorrect_iam_auth(f"Get secretKey failed,ak:{auth.access_key},err:ak not exist")
    if abs(now - signed_at) > MAX_SKEW:
        raise incorrect_iam_auth(
            "calc aksk signature fail:signature expired, signature time:"
            f"{sdk_date},server time:{now.astimezone(UTC).strftime(DATE_FORMAT)}")
    missing = [name for name in auth.signed_headers if name not in lowered]
    expected = signature(secret, canonical_request(method, path, query_pairs, lowered,
                                                   auth.signed_headers, body), sdk_date)
    if missing or not hmac.compare_digest(expected, auth.signature):
        raise incorrect_iam_auth("verify aksk signature fail")
    return auth.access_key


__all__ = [
    "ALGORITHM", "MAX_SIGNED_BODY", "MAX_SKEW", "GatewayError", "SignedAuthorization",
    "canonical_query", "canonical_request", "canonical_uri", "is_signed", "lower_headers",
    "parse_authorization", "scope_headers", "signature", "string_to_sign", "verify",
]
