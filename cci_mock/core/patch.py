"""Patch documents applied to a stored object.

JSON Patch (RFC 6902) comes from the ``jsonpatch`` library. JSON Merge Patch
(RFC 7386) is a dozen lines, below. Strategic merge patch (built-in kinds only, as
upstream) is :mod:`cci_mock.core.strategic`, steered by the kind's type graph (list merge
keys and strategies) that the caller passes in. Server-side apply is not a patch of
the stored object but a merge with field ownership: :mod:`cci_mock.core.apply`.
"""

from __future__ import annotations

from typing import Any

import jsonpatch

from cci_mock.core import errors, strategic
from cci_mock.core.codec import JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, clone


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return clone(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def apply(patch_type: str, target: dict[str, Any], patch: Any,
          schema: strategic.TypeSchema | None = None) -> dict[str, Any]:
    """Return a new object; raise 400/422 ApiError when the patch cannot apply.
    ``schema`` is the kind's root in the strategic-merge type graph (None: every list
    is replaced, as for a type the graph does not know)."""
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
    elif patch_type == MERGE_PATCH:
        if not isinstance(patch, dict):
            raise errors.bad_request("a merge patch must be a JSON object")
        result = merge_patch(target, patch)
    elif patch_type == STRATEGIC_PATCH:
        try:
            result = strategic.apply_strategic(target, patch, schema)
        except strategic.PatchError as exc:
            # upstream: malformed directives are 400, a patch that does not fit 422
            raise errors.ApiError(exc.code, str(exc)) from None
    else:  # an apply to /status or /scale: apply is registry.apply, on the object only
        raise errors.unsupported_media_type(patch_type, [MERGE_PATCH, JSON_PATCH,
                                                         STRATEGIC_PATCH])
    if not isinstance(result, dict):
        raise errors.ApiError(422, "the patch must leave an object", reason="Invalid")
    return result
