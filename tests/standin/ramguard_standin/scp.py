"""Service control policies in force, as AWS applies them to a member account's calls.

Organizations user guide, "SCP evaluation": a call is allowed only if every level of the
account's path (root, each OU, the account) has an attached SCP that allows it and no SCP on the
path denies it; SCPs never apply to the management account, nor before the SCP policy type is
enabled on the root. Condition evaluation follows the IAM user guide ("Condition operators":
a missing key makes a condition false, except a negated operator, which is true, and
...IfExists/Null; "Set operators": ForAllValues is true and ForAnyValue false over a missing key).
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

from moto.organizations.models import organizations_backends

from .protocol import AwsError


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).lower() if isinstance(v, bool) else str(v) for v in value]
    return [str(value).lower() if isinstance(value, bool) else str(value)]


def _glob(pattern: str, text: str, ignore_case: bool = False) -> bool:
    if ignore_case:
        pattern, text = pattern.lower(), text.lower()
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.S) is not None


_OPERATORS = {
    "StringEquals": (False, lambda p, v: p == v),
    "StringNotEquals": (True, lambda p, v: p == v),
    "StringEqualsIgnoreCase": (False, lambda p, v: p.lower() == v.lower()),
    "StringNotEqualsIgnoreCase": (True, lambda p, v: p.lower() == v.lower()),
    "StringLike": (False, _glob),
    "StringNotLike": (True, _glob),
    "ArnLike": (False, _glob),
    "ArnEquals": (False, _glob),
    "ArnNotLike": (True, _glob),
    "ArnNotEquals": (True, _glob),
    "Bool": (False, lambda p, v: p.lower() == v.lower()),
}


def _condition(name: str, key: str, wanted: list[str], context: dict[str, list[str]]) -> bool:
    qualifier = None
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if name.startswith(prefix):
            qualifier, name = prefix[:-1], name[len(prefix):]
    if_exists = name.endswith("IfExists") and name != "IfExists"
    if if_exists:
        name = name[: -len("IfExists")]
    values = context.get(key.lower())
    if name == "Null":
        want_absent = any(w.lower() == "true" for w in wanted)
        return (values is None) == want_absent
    if name not in _OPERATORS:
        raise AwsError("MalformedPolicyDocumentException", f"unsupported condition operator {name}")
    negated, match = _OPERATORS[name]
    if not values:
        if if_exists or qualifier == "ForAllValues":
            return True
        return negated and qualifier is None

    def each(value: str) -> bool:
        hit = any(match(w, value) for w in wanted)
        return hit != negated

    if qualifier == "ForAllValues" or (qualifier is None and negated):
        return all(each(v) for v in values)
    return any(each(v) for v in values)


def _matches(statement: dict, action: str, resource: str, context: dict[str, list[str]]) -> bool:
    if "Action" in statement:
        if not any(_glob(p, action, ignore_case=True) for p in _list(statement["Action"])):
            return False
    elif any(_glob(p, action, ignore_case=True) for p in _list(statement.get("NotAction"))):
        return False
    if "NotResource" in statement:
        if any(_glob(p, resource) for p in _list(statement["NotResource"])):
            return False
    elif not any(_glob(p, resource) for p in _list(statement.get("Resource", "*"))):
        return False
    for name, keys in (statement.get("Condition") or {}).items():
        for key, wanted in keys.items():
            if not _condition(name, key, _list(wanted), context):
                return False
    return True


def _statements(content: str) -> list[dict]:
    doc = json.loads(content)
    statements = doc.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def path_of(backend: Any, account: str) -> list[Any]:
    """The root, the OUs and the account, root first."""
    node = next((a for a in backend.accounts if a.id == account), None)
    path = []
    while node is not None:
        path.append(node)
        parent = getattr(node, "parent_id", None)
        node = next((ou for ou in backend.ou if ou.id == parent), None) if parent else None
    return list(reversed(path))


def scps_enabled(backend: Any) -> bool:
    root = next((ou for ou in backend.ou if getattr(ou, "type", "") == "ROOT"), None)
    return root is not None and any(t["Type"] == "SERVICE_CONTROL_POLICY" and t["Status"] == "ENABLED"
                                    for t in root.policy_types)


def check(account: str, principal: Callable[[], str], action: str, resource: str,
          context: dict[str, list[str]]) -> None:
    """Raises AccessDeniedException when the SCPs in force on `account` stop the call (the
    caller's principal ARN is read only then)."""
    management = organizations_backends.master_accounts.get(account, (account, "aws"))[0]
    if management not in organizations_backends or management == account:
        return
    backend = organizations_backends[management]["aws"]
    if backend.org is None or not scps_enabled(backend):
        return
    principal_arn = principal() or f"arn:aws:iam::{account}:root"
    full = {k.lower(): v for k, v in context.items()}
    full.setdefault("aws:principalarn", [principal_arn])
    full.setdefault("aws:principalaccount", [account])
    denied = f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource} " \
             "with an explicit deny in a service control policy"
    path = path_of(backend, account)
    for level in path:
        for policy in level.attached_policies:
            if policy.type != "SERVICE_CONTROL_POLICY":
                continue
            if any(s.get("Effect") == "Deny" and _matches(s, action, resource, full)
                   for s in _statements(policy.content)):
                raise AwsError("AccessDeniedException", denied, 403)
    for level in path:
        allowed = any(s.get("Effect") == "Allow" and _matches(s, action, resource, full)
                      for p in level.attached_policies if p.type == "SERVICE_CONTROL_POLICY"
                      for s in _statements(p.content))
        if not allowed:
            raise AwsError("AccessDeniedException",
                           f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource} "
                           "because no service control policy allows the action", 403)

