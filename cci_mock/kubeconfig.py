"""kubeconfig documents pointing kubectl (or any client-go / kubernetes-client user) at the mock.

Written as JSON: every YAML reader (kubectl included) reads JSON, and it needs no
YAML dumper at fixture start.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

CONTEXT = "cci-mock"


def build(server: str, token: str, *, ca_pem: bytes | None = None,
          namespace: str | None = None, insecure: bool = False) -> dict[str, Any]:
    """One cluster, one user (a bearer token, as CCI's IAM token is used), one context."""
    cluster: dict[str, Any] = {"server": server}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    elif insecure and server.startswith("https:"):
        cluster["insecure-skip-tls-verify"] = True
    context: dict[str, Any] = {"cluster": CONTEXT, "user": CONTEXT}
    if namespace:
        context["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": cluster}],
        "users": [{"name": CONTEXT, "user": {"token": token}}],
        "contexts": [{"name": CONTEXT, "context": context}],
        "current-context": CONTEXT,
        "preferences": {},
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def write(path: str | Path, document: dict[str, Any]) -> Path:
    """Write with owner-only permissions: a kubeconfig holds a token."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(dumps(document))
    return target
