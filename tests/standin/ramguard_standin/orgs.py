"""A read-only view of moto's Organizations state, for the services that depend on it."""
from __future__ import annotations

from dataclasses import dataclass

from moto.organizations.models import organizations_backends


@dataclass(frozen=True)
class OrgView:
    id: str
    arn: str
    management_account: str
    accounts: frozenset[str]
    ous: dict[str, str | None]  # OU or root id -> parent id

    def has_account(self, account_id: str) -> bool:
        return account_id in self.accounts

    def has_ou(self, ou_id: str) -> bool:
        return ou_id in self.ous

    def ou_arn(self, ou_id: str) -> str:
        return f"arn:aws:organizations::{self.management_account}:ou/{self.id}/{ou_id}"


def org_of(account_id: str, partition: str = "aws") -> OrgView | None:
    """The organization an account belongs to, or None."""
    management = organizations_backends.master_accounts.get(account_id, (account_id, partition))[0]
    if management not in organizations_backends:
        return None
    backend = organizations_backends[management][partition]
    org = backend.org
    if org is None:
        return None
    accounts = frozenset(a.id for a in backend.accounts if getattr(a, "status", "ACTIVE") != "SUSPENDED")
    ous = {ou.id: getattr(ou, "parent_id", None) for ou in backend.ou}
    return OrgView(org.id, org.arn, org.master_account_id, accounts, ous)


def org_by_id(org_id: str) -> OrgView | None:
    for management, partitions in list(organizations_backends.items()):
        backend = partitions["aws"] if "aws" in partitions else None
        if backend is not None and backend.org is not None and backend.org.id == org_id:
            return org_of(management)
    return None
