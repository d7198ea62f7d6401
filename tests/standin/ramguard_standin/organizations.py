"""Organizations where moto is more lenient than AWS: the calls AWS allows only from the
management account or a delegated administrator, ListAccounts' page size limits, and policies:
the resource-based delegation policy that lets a member account read and manage them
(Organizations user guide, "Delegated administrator for AWS Organizations"; PutResourcePolicy),
the SCP size limit, the SCP policy type that must be enabled before an SCP is attached, and the
last SCP that cannot be detached (API reference, AttachPolicy/DetachPolicy/CreatePolicy errors)."""
from __future__ import annotations

import json
import re

from moto.organizations.models import FakeDelegatedAdministrator, organizations_backends

from . import state
from .orgs import org_of
from .protocol import AwsError, Call, paginate

# CloudFormation StackSets takes a delegated administrator registered for this principal
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-delegated-admin.html);
# moto refuses it as unrecognized.
if "member.org.stacksets.cloudformation.amazonaws.com" not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
    FakeDelegatedAdministrator.SUPPORTED_SERVICES.append("member.org.stacksets.cloudformation.amazonaws.com")

MANAGEMENT_ONLY = {"ListAccounts", "ListParents", "DescribeAccount", "ListAccountsForParent", "ListTagsForResource",
                   "ListOrganizationalUnitsForParent", "ListRoots", "ListChildren", "DescribeOrganizationalUnit"}
# Policies: the management account, or a member account the delegation policy names.
POLICY_CALLS = {"ListPolicies", "ListPoliciesForTarget", "DescribePolicy", "ListTargetsForPolicy",
                "CreatePolicy", "UpdatePolicy", "DeletePolicy", "AttachPolicy", "DetachPolicy",
                "EnablePolicyType", "DisablePolicyType"}
# Organizations quotas: an SCP's document holds at most 5,120 characters.
SCP_MAX_CHARACTERS = 5120
# The delegation policy per organization id (moto does not keep one).
DELEGATION: dict[str, dict] = {}


def _delegated(org_id: str, account: str, operation: str) -> bool:
    doc = DELEGATION.get(org_id)
    if not doc:
        return False
    statements = doc.get("Statement", [])
    for st in statements if isinstance(statements, list) else [statements]:
        if st.get("Effect") != "Allow":
            continue
        principals = (st.get("Principal") or {}).get("AWS", [])
        principals = principals if isinstance(principals, list) else [principals]
        if not any(p in (account, f"arn:aws:iam::{account}:root") for p in principals):
            continue
        actions = st.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if any(re.fullmatch(re.escape(a).replace(r"\*", ".*"), f"organizations:{operation}", re.I) for a in actions):
            return True
    return False


def _require_policy_access(call: Call) -> None:
    org = org_of(call.account)
    if org is None:
        raise AwsError("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
    if call.account == org.management_account or _delegated(org.id, call.account, call.operation or ""):
        return
    raise AwsError("AccessDeniedException",
                   f"You don't have permissions to access this resource: organizations:{call.operation} is allowed "
                   "only to the management account or to a member account the organization's resource-based "
                   "delegation policy names.")


def _check_policy_content(p: dict) -> None:
    if p.get("Type", "SERVICE_CONTROL_POLICY") != "SERVICE_CONTROL_POLICY" or "Content" not in p:
        return
    content = p["Content"]
    if len(content) > SCP_MAX_CHARACTERS:
        raise AwsError("ConstraintViolationException",
                       "You attempted to create or update a policy whose size exceeds the allowed maximum.",
                       extra={"Reason": "POLICY_CONTENT_LIMIT_EXCEEDED"})
    try:
        doc = json.loads(content)
    except ValueError:
        raise AwsError("MalformedPolicyDocumentException", "The provided policy document doesn't meet the "
                                                           "requirements of the specified policy type.") from None
    if not isinstance(doc, dict) or "Statement" not in doc:
        raise AwsError("MalformedPolicyDocumentException", "The provided policy document doesn't meet the "
                                                           "requirements of the specified policy type.")


def _policy(backend, policy_id: str):
    return next((x for x in backend.policies if x.id == policy_id), None)


def _check_attach(backend, p: dict) -> None:
    policy = _policy(backend, p.get("PolicyId", ""))
    if policy is None or policy.type != "SERVICE_CONTROL_POLICY":
        return
    root = next((ou for ou in backend.ou if getattr(ou, "type", "") == "ROOT"), None)
    if root is None or not any(t["Type"] == "SERVICE_CONTROL_POLICY" and t["Status"] == "ENABLED"
                               for t in root.policy_types):
        raise AwsError("PolicyTypeNotEnabledException",
                       "This operation can be performed only for enabled policy types.")


def _check_detach(backend, p: dict) -> None:
    policy = _policy(backend, p.get("PolicyId", ""))
    if policy is None or policy.type != "SERVICE_CONTROL_POLICY":
        return
    target = p.get("TargetId", "")
    entity = next((x for x in list(backend.ou) + list(backend.accounts) if x.id == target), None)
    if entity is None or policy not in entity.attached_policies:
        return
    if sum(1 for x in entity.attached_policies if x.type == "SERVICE_CONTROL_POLICY") <= 1:
        raise AwsError("ConstraintViolationException",
                       "You attempted to detach a policy from an entity that would leave the entity with fewer "
                       "than the minimum number of policies of the specified type.",
                       extra={"Reason": "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"})


def _summary(policy) -> dict:
    return policy.describe()["Policy"]["PolicySummary"]


def list_policies_for_target(backend, call: Call, p: dict) -> dict:
    limit = p.get("MaxResults", 20)
    if not isinstance(limit, int) or not 1 <= limit <= 20:
        raise AwsError("InvalidInputException", "MaxResults must be between 1 and 20.",
                       extra={"Reason": "INVALID_INPUT"})
    target = p.get("TargetId", "")
    entity = next((x for x in list(backend.ou) + list(backend.accounts) if x.id == target), None)
    if entity is None:
        raise AwsError("TargetNotFoundException", "We can't find a root, OU, account, or policy with the "
                                                  "TargetId that you specified.")
    policies = [_summary(x) for x in entity.attached_policies if x.type == p.get("Filter")]
    page, token = paginate(policies, limit, p.get("NextToken"), f"lpt:{target}:{p.get('Filter')}",
                           "InvalidInputException", state.empty_first(call))
    out: dict = {"Policies": page}
    if token:
        out["NextToken"] = token
    return out


def list_parents(backend, call: Call, p: dict) -> dict:
    child = p.get("ChildId", "")
    entity = next((x for x in list(backend.ou) + list(backend.accounts) if x.id == child), None)
    if entity is None:
        raise AwsError("ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account "
                                                 "with the ChildId that you specified.")
    parents = [{"Id": ou.id, "Type": ou.type} for ou in backend.ou if ou.id == getattr(entity, "parent_id", None)]
    page, token = paginate(parents, p.get("MaxResults", 20), p.get("NextToken"), f"lp:{child}",
                           "InvalidInputException", state.empty_first(call))
    out: dict = {"Parents": page}
    if token:
        out["NextToken"] = token
    return out


def put_resource_policy(call: Call, p: dict) -> dict:
    org = org_of(call.account)
    if org is None or call.account != org.management_account:
        raise AwsError("AccessDeniedException", "You can only call this operation from the organization's "
                                                "management account.")
    DELEGATION[org.id] = json.loads(p["Content"])
    return {"ResourcePolicy": {"ResourcePolicySummary": {
        "Id": "rp-standin", "Arn": f"arn:aws:organizations::{org.management_account}:resourcepolicy/{org.id}/rp-standin"},
        "Content": p["Content"]}}


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
    if call.operation == "PutResourcePolicy":
        return put_resource_policy(call, call.params)
    if call.operation in POLICY_CALLS:
        _require_policy_access(call)
        backend = organizations_backends[org_of(call.account).management_account]["aws"]  # type: ignore[union-attr]
        with state.LOCK:
            if call.operation in ("CreatePolicy", "UpdatePolicy"):
                _check_policy_content(call.params)
            elif call.operation == "AttachPolicy":
                _check_attach(backend, call.params)
            elif call.operation == "DetachPolicy":
                _check_detach(backend, call.params)
            elif call.operation == "ListPoliciesForTarget":
                return list_policies_for_target(backend, call, call.params)
            elif call.operation == "DescribePolicy":
                policy = _policy(backend, call.params.get("PolicyId", ""))
                if policy is None:
                    raise AwsError("PolicyNotFoundException", "We can't find a policy with the PolicyId that "
                                                              "you specified.")
                return policy.describe()
        if call.account != org_of(call.account).management_account:  # type: ignore[union-attr]
            raise AwsError("AccessDeniedException", f"The stand-in serves organizations:{call.operation} from "
                                                    "the management account only.")
        return None
    if call.operation in MANAGEMENT_ONLY or call.operation in ORGANIZATION_VIEWS:
        _require_admin(call)
    if call.operation == "ListParents":
        with state.LOCK:
            backend = organizations_backends[org_of(call.account).management_account]["aws"]  # type: ignore[union-attr]
            return list_parents(backend, call, call.params)
    if call.operation == "ListRoots" and call.account != org_of(call.account).management_account:  # type: ignore[union-attr]
        backend = organizations_backends[org_of(call.account).management_account]["aws"]  # type: ignore[union-attr]
        return backend.list_roots()
    if call.operation == "ListAccounts":
        with state.LOCK:
            return list_accounts(call, call.params)
    view = ORGANIZATION_VIEWS.get(call.operation or "")
    if view is not None and call.account != org_of(call.account).management_account:  # type: ignore[union-attr]
        backend = organizations_backends[org_of(call.account).management_account]["aws"]  # type: ignore[union-attr]
        return view(backend, call.params)
    return None
