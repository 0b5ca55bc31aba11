"""Kubeflow training jobs (MXJob, TFJob, PyTorchJob).

Per 更新MXJob.md / 替换MXJob.md only a few fields may change after creation. CCI
defaults each container's requests to its limits when only limits are given, on
every write (so a kubectl apply that resends limits alone changes nothing).
"""

from __future__ import annotations

from typing import Any

from cci_mock.strategies.base import Strategy
from cci_mock.validation.rules import KUBEFLOW_UPDATABLE, default_resources


class KubeflowJobStrategy(Strategy):
    mutable_paths = tuple(KUBEFLOW_UPDATABLE)

    def defaults(self, obj: dict[str, Any]) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        for field, replicas in spec.items():
            if not field.endswith("ReplicaSpecs") or not isinstance(replicas, dict):
                continue
            for replica in replicas.values():
                template = replica.get("template") if isinstance(replica, dict) else None
                if isinstance(template, dict) and isinstance(template.get("spec"), dict):
                    default_resources(template["spec"])
