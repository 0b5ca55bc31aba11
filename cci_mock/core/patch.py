"""Patch documents applied to a stored object.

JSON Patch (RFC 6902) comes from the ``jsonpatch`` library. JSON Merge Patch
(RFC 7386) is a dozen lines, below. Strategic merge patch (core kinds only, as
upstream) is treated as a merge patch plus list merging by ``name`` for lists of
named objects (containers, ports, env, volumes): enough for kubectl's label,
annotate, scale and edit; ``$patch`` directives are not interpreted
(see docs/deviations.md).
"""

from __future__ import annotations

from typing import Any

import jsonpatch

from cci_mock.core import errors
from cci_mock.core.codec import JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, clone


def merge_patch(target: Any, patch: Any, *, by_name: bool = False) -> Any:
    if not isinstance(patch, dict):
        return clone(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif by_name and _named_list(value) and _named_list(result.get(key)):
            result[key] = _merge_named(result[key], value)
        else:
            result[key] = merge_patch(result.get(key), value, by_name=by_name)
    return result


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value)


def _merge_named(current: list[dict], patch: list[dict]) -> list[dict]:
    merged = [dict(item) for item in current]
    index = {item["name"]: i for i, item in enumerate(merged)}
    for item in patch:
        if item["name"] in index:
            position = index[item["name"]]
            merged[position] = merge_patch(merged[position], item, by_name=True)
        else:
            merged.append(clone(item))
    return merged


def apply(patch_type: str, target: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Return a new object; raise 400/422 ApiError when the patch cannot apply."""
    if patch_type == JSON_PATCH:
        if not isinstance(patch, list):
            raise errors.bad_request("a JSON patch must be an array of operations")
        try:
            result = jsonpatch.JsonPatch(patch).apply(target)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise errors.ApiError(422, f"the JSON patch could not be applied: {exc}",
                                  reason="Invalid") from None
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            raise errors.bad_request(f"the JSON patch is malformed: {exc}") from None
    elif patch_type in (MERGE_PATCH, STRATEGIC_PATCH):
        if not isinstance(patch, dict):
            raise errors.bad_request("a merge patch must be a JSON object")
        result = merge_patch(target, patch, by_name=patch_type == STRATEGIC_PATCH)
    else:  # pragma: no cover - the handler checks the media type first
        raise errors.unsupported_media_type(patch_type, [MERGE_PATCH, JSON_PATCH])
    if not isinstance(result, dict):
        raise errors.ApiError(422, "the patch must leave an object", reason="Invalid")
    return result
