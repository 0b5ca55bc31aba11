"""The fake CCI account every namespace belongs to.

CCI stamps each namespace with its tenant's domain and project (the
``tenant.kubernetes.io/*`` annotations of 创建Namespace.md's response). The mock
invents one tenant per app with a seeded Faker, so the ids look real and a given
seed always gives the same account.
"""

from __future__ import annotations

from dataclasses import dataclass

REGIONS = ("cn-north-4", "cn-east-3", "cn-east-2", "cn-south-1")  # 创建Network.md's zones


@dataclass(frozen=True)
class Tenant:
    domain_id: str
    domain_name: str
    project_id: str
    project_name: str

    def annotations(self) -> dict[str, str]:
        return {
            "pv.kubernetes.io/enable-dynamic-provisioning": "true",
            "tenant.kubernetes.io/domain-id": self.domain_id,
            "tenant.kubernetes.io/domain-name": self.domain_name,
            "tenant.kubernetes.io/project-id": self.project_id,
            "tenant.kubernetes.io/project-name": self.project_name,
        }


def make_tenant(seed: int | None) -> Tenant:
    from faker import Faker  # lazy: importing Faker costs ~0.1 s, paid by the first namespace

    fake = Faker()
    fake.seed_instance(seed)
    return Tenant(domain_id=fake.hexify("^" * 32), domain_name=fake.user_name(),
                  project_id=fake.hexify("^" * 32), project_name=fake.random_element(REGIONS))
