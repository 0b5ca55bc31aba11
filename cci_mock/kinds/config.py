"""ConfigMap and Secret: configuration a pod mounts or reads.

Kubernetes' rules (core/v1 validation): keys are config keys, a ConfigMap's
``data``/``binaryData`` and a Secret's ``data`` hold at most 1 MiB together, binary
values are base64, a Secret's ``stringData`` is folded into ``data`` (encoded, and
winning over a ``data`` key of the same name) and never stored, and a Secret's type
brings the keys it needs. What an update may change follows 更新ConfigMap.md /
替换Secret.md (a Secret that is not Opaque keeps its keys).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from cci_mock.core.catalog import CORE_PATCHES, Kind
from cci_mock.core.causes import forbidden, invalid, required, too_long
from cci_mock.core.fields import key
from cci_mock.core.strategy import StatuslessStrategy

MAX_SIZE = 1024 * 1024  # core.MaxSecretSize: the limit of a Secret and of a ConfigMap
CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_KEY = re.compile(f"^{CONFIG_KEY_FMT}$")
CONFIG_KEY_MESSAGE = ("a valid config key must consist of alphanumeric characters, '-', '_' or "
                      "'.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
                      f"validation is '{CONFIG_KEY_FMT}')")
# keys a Secret of each type must carry
SECRET_TYPE_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}


def config_key(name: str, path: str) -> list[dict]:
    """apimachinery IsConfigMapKey."""
    messages = []
    if len(name) > 253:
        messages.append("must be no more than 253 characters")
    if not _CONFIG_KEY.match(name):
        messages.append(CONFIG_KEY_MESSAGE)
    if name in (".", ".."):
        messages.append(f"must not be '{name}'")
    elif name.startswith(".."):
        messages.append("must not start with '..'")
    return [invalid(key(path, name), name, m) for m in messages]


def decoded(value: Any) -> bytes | None:
    """The bytes of a base64 value (None: not base64)."""
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _base64_map(values: Any, path: str) -> tuple[list[dict], int]:
    """Causes for the keys and non-base64 values of a map of base64 values; its size."""
    causes, size = [], 0
    for name, value in values.items() if isinstance(values, dict) else ():
        causes += config_key(name, path)
        data = decoded(value)
        if data is None and isinstance(value, str):
            causes.append(invalid(key(path, name), "<secret contents redacted>",
                                  "must be base64 encoded"))
        size += len(data or b"")
    return causes, size


class ConfigMapStrategy(StatuslessStrategy):
    mutable_paths = ("metadata.labels", "metadata.annotations", "data")  # 更新ConfigMap.md

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        causes: list[dict] = []
        data, binary = obj.get("data"), obj.get("binaryData")
        size = 0
        for name, value in data.items() if isinstance(data, dict) else ():
            causes += config_key(name, "data")
            if isinstance(binary, dict) and name in binary:
                causes.append(invalid(key("data", name), name,
                                      "duplicate of key present in binaryData"))
            size += len(value.encode()) if isinstance(value, str) else 0
        binary_causes, binary_size = _base64_map(binary, "binaryData")
        causes += binary_causes
        if size + binary_size > MAX_SIZE:
            causes.append(too_long("", MAX_SIZE))
        return causes


class SecretStrategy(StatuslessStrategy):
    mutable_paths = ("metadata.labels", "metadata.annotations", "data")  # 替换Secret.md

    def defaults(self, obj: dict[str, Any]) -> None:
        obj.setdefault("type", "Opaque")
        strings = obj.pop("stringData", None)
        if isinstance(strings, dict):
            data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
            data.update({name: base64.b64encode(value.encode()).decode()
                         for name, value in strings.items() if isinstance(value, str)})
            obj["data"] = data

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        causes, size = _base64_map(obj.get("data"), "data")
        if size > MAX_SIZE:
            causes.append(too_long("data", MAX_SIZE))
        data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
        for name in SECRET_TYPE_KEYS.get(obj.get("type"), ()):
            if name not in data:
                causes.append(required(key("data", name)))
        return causes

    def validate_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[dict]:
        causes = super().validate_update(new, old)
        if new.get("type") != old.get("type"):
            causes.append(invalid("type", new.get("type"), "field is immutable"))
        elif old.get("type") != "Opaque" and set(new.get("data") or {}) != set(old.get("data") or {}):
            causes.append(forbidden("data", "the keys of a Secret that is not Opaque cannot change"))
        return causes


_CONFIG = dict(typed=True, patch_types=CORE_PATCHES, unconditional_update=True, generation=False,
               subresources=(), delete_returns="status", enable_paths=("metadata",))
CONFIGMAP = Kind(group="", version="v1", kind="ConfigMap", plural="configmaps",
                 short_names=("cm",), strategy=ConfigMapStrategy(),
                 columns=(("Data", "len(data, binaryData)"),), **_CONFIG)
SECRET = Kind(group="", version="v1", kind="Secret", plural="secrets",
              strategy=SecretStrategy(), secret_fields=("data", "stringData"),
              columns=(("Type", "type"), ("Data", "len(data)")), **_CONFIG)
KINDS = (CONFIGMAP, SECRET)
