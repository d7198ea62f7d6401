"""Organizations where moto is more lenient than AWS: the calls AWS allows only from the
management account or a delegated administrator, and ListAccounts' page size limits."""
from __future__ import annotations

from moto.organizations.models import FakeDelegatedAdministrator, organizations_backends

from . import state
from .orgs import org_of
from .protocol import AwsError, Call, paginate

# CloudFormation StackSets takes a delegated administrator registered for this principal
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-delegated-admin.html);
# moto refuses it as unrecognized.
if "member.org.stacksets.cloudformation.amazonaws.com" not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
    FakeDelegatedAdministrator.SUPPORTED_SERVICES.append("member.org.stacksets.cloudformation.amazonaws.com")

MANAGEMENT_ONLY = {"ListAccounts", "ListParents", "DescribeAccount", "ListAccountsForParent",
                   "ListOrganizationalUnitsForParent", "ListRoots", "ListChildren", "DescribeOrganizationalUnit"}


def _require_admin(call: Call) -> None:
    org = org_of(call.account)
    if org is None:
        raise AwsError("AWSOrganizationsNotInUseException",
                       "Your account is not a member of an organization.")
    if call.account == org.management_account:
        return
    backend = organizations_backends[org.management_account]["aws"]
    if any(getattr(admin, "account", None) is not None and admin.account.id == call.account for admin in backend.admins):
        return
    raise AwsError("AccessDeniedException",
                   "You don't have permissions to access this resource: the operation can be called only from "
                   "the organization's management account or by a member account that is a delegated administrator.")


def list_accounts(call: Call, p: dict) -> dict:
    limit = p.get("MaxResults", 20)
    if not isinstance(limit, int) or not 1 <= limit <= 20:
        raise AwsError("InvalidInputException", "MaxResults must be between 1 and 20.",
                       extra={"Reason": "INVALID_INPUT"})
    org = org_of(call.account)
    backend = organizations_backends[org.management_account]["aws"]  # type: ignore[union-attr]
    accounts = sorted((a.describe() for a in backend.accounts), key=lambda a: (a["JoinedTimestamp"], a["Id"]))
    page, token = paginate(accounts, limit, p.get("NextToken"), f"la:{org.id}", "InvalidInputException",  # type: ignore[union-attr]
                           state.empty_first(call))
    out: dict = {"Accounts": page}
    if token:
        out["NextToken"] = token
    return out


# Organization-wide views a delegated administrator reads too: moto keeps them in the management
# account's backend only, so they are served from there.
ORGANIZATION_VIEWS = {
    "ListDelegatedAdministrators": lambda backend, p: backend.list_delegated_administrators(**p),
    "ListAWSServiceAccessForOrganization": lambda backend, p: backend.list_aws_service_access_for_organization(),
}


def handle(call: Call) -> dict | None:
    if call.operation in MANAGEMENT_ONLY or call.operation in ORGANIZATION_VIEWS:
        _require_admin(call)
    if call.operation == "ListAccounts":
        with state.LOCK:
            return list_accounts(call, call.params)
    view = ORGANIZATION_VIEWS.get(call.operation or "")
    if view is not None and call.account != org_of(call.account).management_account:  # type: ignore[union-attr]
        backend = organizations_backends[org_of(call.account).management_account]["aws"]  # type: ignore[union-attr]
        return view(backend, call.params)
    return None
