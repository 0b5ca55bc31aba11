"""HTTP conventions of the API, in one place: answers as JSON (``?pretty``, ``Warning``
headers), Status errors, request bodies by Content-Type, query parameters, and the
route of a request (resolved once, shared by every middleware and the handler)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from cci_mock.core import apply, codec, errors, protobuf
from cci_mock.core.catalog import Route, resolve
from cci_mock.core.registry import Options
from cci_mock.web.keys import BACKEND, ROUTE

BODY_TYPES = codec.JSON_TYPES | codec.YAML_TYPES
PROTOBUF = protobuf.MEDIA_TYPE


def route_of(request: web.Request) -> Route:
    """Resolve once per request and cache (the road resolves it first)."""
    try:
        return request[ROUTE]
    except KeyError:
        catalog = request.app[BACKEND].catalog
        route = request[ROUTE] = resolve(catalog, request.method, request.path, request.query)
        return route


def pretty(request: web.Request) -> bool:
    return "pretty" in request.query_string and codec.is_true(request.query.get("pretty"))


def json_response(document: Any, status: int = 200, *, indent: bool = False) -> web.Response:
    return web.Response(body=codec.dumps(document, indent), status=status,
                        content_type="application/json")


def respond(request: web.Request, body: Any, status: int = 200,
            warnings: list[str] | None = None, raw: bytes | None = None) -> web.Response:
    """A JSON answer (indented under ``?pretty``), with a ``Warning: 299`` per warning;
    ``raw``: the body's bytes when they are at hand already (an object just stored)."""
    if raw is not None and not pretty(request):
        response = web.Response(body=raw, status=status, content_type="application/json")
    else:
        response = json_response(body, status, indent=pretty(request))
    for warning in warnings or ():
        response.headers.add("Warning", f'299 - "{_escape(warning)}"')
    return response


def _escape(text: str) -> str:
    """A quoted-string's content; control characters (a field named "\\x00") are
    written as escapes, since HTTP forbids them in a header."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def error_response(error: errors.ApiError, indent: bool = False) -> web.Response:
    """The one encoder of failures: a Status body with the error's code and headers."""
    response = json_response(error.body(), error.code, indent=indent)
    response.headers.update(error.headers)
    return response


async def read_body(request: web.Request, accepted: frozenset[str] | tuple[str, ...],
                    default: str = "", protobuf_type: tuple[str, str] | None = None) -> Any:
    """Decode a body by its Content-Type (``default`` when none is sent); 415 otherwise.

    ``protobuf_type`` (apiVersion, kind) is what the endpoint takes: a built-in type
    also comes as ``application/vnd.kubernetes.protobuf`` (kubectl's generators send
    it), decoded into the object its JSON twin gives; custom resources have no protobuf
    form (415, as upstream)."""
    media = codec.media_type(request.headers.get("Content-Type")) or default
    if media == PROTOBUF and protobuf_type is not None and protobuf.knows(*protobuf_type):
        return decode_protobuf(await request.read())
    if media not in accepted:
        raise errors.unsupported_media_type(media, sorted(m for m in accepted if m))
    raw = await request.read()
    return codec.decode_body(raw, media)


def decode_protobuf(raw: bytes) -> Any:
    """A protobuf body as its JSON object; a body the decoder cannot read is a 400 that
    names the field path and byte offset where it failed."""
    try:
        value = protobuf.decode(raw)
    except protobuf.ProtobufError as exc:
        raise errors.bad_request(f"the protobuf body could not be decoded: {exc}") from None
    codec.check_tree(value)
    return value


_OPTIONS_KINDS = {"POST": "CreateOptions", "PUT": "UpdateOptions", "PATCH": "PatchOptions"}


def options(request: web.Request) -> Options:
    """dryRun, fieldValidation (the server's default when the request names none), and
    fieldManager (else the User-Agent's product) and force for field ownership."""
    query = request.query
    dry_run = "All" in query.getall("dryRun", [])
    validation = query.get("fieldValidation") or request.app[BACKEND].config.field_validation
    if validation not in ("Ignore", "Warn", "Strict"):
        raise errors.bad_request(
            f'fieldValidation must be one of "Ignore", "Warn" or "Strict", not "{validation}"')
    if query.get("fieldManager"):
        causes = apply.check_manager(query["fieldManager"], explicit=True, apply=False)
        if causes:
            raise errors.invalid(_OPTIONS_KINDS.get(request.method, "PatchOptions"),
                                 "meta.k8s.io", None, causes)
    return Options(dry_run=dry_run, field_validation=validation,
                   field_manager=query.get("fieldManager", ""),
                   default_manager=apply.manager_from_user_agent(request.headers.get("User-Agent")),
                   force=codec.is_true(query.get("force")))


def int_param(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value in (None, ""):
        return None
    if not _INTEGER.fullmatch(value) or not -2**63 <= int(value) < 2**63:
        raise errors.bad_request(f"{name} must be an integer, not {value!r}")  # as Go parses int64
    return int(value)


_INTEGER = re.compile(r"-?[0-9]{1,19}")


def wants_table(request: web.Request) -> bool:
    """kubectl asks for the server-side table view (``Accept: ...;as=Table``)."""
    return "as=Table" in request.headers.get("Accept", "")


def wants_view(request: web.Request) -> bool:
    """Does the client ask for another form than the objects (``as=Table``,
    ``as=PartialObjectMetadata[List]``)? A cheap test before :func:`object_view`."""
    return "as=" in request.headers.get("Accept", "")


# Media ranges the mock answers: JSON (protobuf and CBOR ranges are passed over, so a
# client listing JSON after them gets JSON).
_ANSWERABLE = ("application/json", "application/*", "*/*")
_META_GROUP_VERSIONS = (("meta.k8s.io", "v1"), ("meta.k8s.io", "v1beta1"))


def accepted_ranges(request: web.Request) -> list[tuple[str, dict[str, str]]]:
    """The Accept header's media ranges in order, with their parameters
    (``application/json;as=Table;v=v1;g=meta.k8s.io`` -> ("application/json", {...}))."""
    ranges = []
    for item in request.headers.get("Accept", "").split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if media:
            ranges.append((media.lower(), dict(p.partition("=")[::2] for p in params if p)))
    return ranges


def check_json_accepted(request: web.Request) -> None:
    """Answers are JSON, which every client that sends protobuf also accepts; one that
    accepts only protobuf gets a 406 instead of an answer it cannot read."""
    header = request.headers.get("Accept", "")
    if "protobuf" in header and not any(media in _ANSWERABLE
                                        for media, _ in accepted_ranges(request)):
        raise errors.ApiError(406, "only application/json answers are served, not "
                                   f"{header}")


def object_view(request: web.Request, collection: bool) -> str | None:
    """The form the client asks for: ``Table`` (kubectl), ``PartialObjectMetadata`` (a get
    or a watch) or ``PartialObjectMetadataList`` (a list) of meta.k8s.io/v1 (or v1beta1),
    or None for the objects themselves. The first range the mock can answer wins, as the
    apiserver negotiates; 406 when it can answer none of them."""
    if not wants_view(request):
        return None
    partial = "PartialObjectMetadataList" if collection else "PartialObjectMetadata"
    for media, params in accepted_ranges(request):
        if media not in _ANSWERABLE:
            continue
        view = params.get("as")
        if view is None:
            return None
        if view in ("Table", partial) and (params.get("g", "meta.k8s.io"),
                                            params.get("v", "v1")) in _META_GROUP_VERSIONS:
            return view
    raise errors.ApiError(406, "only the following media types are accepted: application/json, "
                               f"application/json;as=Table;v=v1;g=meta.k8s.io, application/json;"
                               f"as={partial};v=v1;g=meta.k8s.io")
