"""Kubeflow training jobs (MXJob, TFJob, PyTorchJob).

Per 更新MXJob.md / 替换MXJob.md only these fields may change after creation.
"""

from __future__ import annotations

from cci_mock.strategies.base import Strategy


class KubeflowJobStrategy(Strategy):
    mutable_paths = (
        "metadata.labels",
        "metadata.annotations",
        "spec.activeDeadlineSeconds",
        "spec.ttlSecondsAfterFinished",
        "spec.cleanPodPolicy",
    )
