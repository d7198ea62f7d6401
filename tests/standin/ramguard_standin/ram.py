"""AWS RAM, as the API reference describes it: share and association lifecycles, invitations,
organization-aware principal validation, the `external` flag, filters, pagination and tags."""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from . import scp, state
from .orgs import OrgView, org_of
from .protocol import AwsError, Call, paginate

PARTITIONS = "aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc"
ACCOUNT_RE = re.compile(r"^\d{12}$")
ORG_RE = re.compile(rf"^arn:({PARTITIONS}):organizations::(\d{{12}}):organization/(o-[a-z0-9]{{10,32}})$")
OU_RE = re.compile(
    rf"^arn:({PARTITIONS}):organizations::(\d{{12}}):ou/(o-[a-z0-9]{{10,32}})/(ou-[0-9a-z]{{4,32}}-[a-z0-9]{{8,32}})$")
IAM_RE = re.compile(rf"^arn:({PARTITIONS}):iam::(\d{{12}}):(role|user)/[\w+=,.@/-]+$")
SERVICE_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$")
ARN_RE = re.compile(rf"^arn:({PARTITIONS}):[a-z0-9-]+:[a-z0-9-]*:(\d{{12}})?:.+$")

SHARE_STATUSES = {"PENDING", "ACTIVE", "FAILED", "DELETING", "DELETED"}
ASSOCIATION_STATUSES = {"ASSOCIATING", "ASSOCIATED", "FAILED", "DISASSOCIATING", "DISASSOCIATED",
                        "SUSPENDED", "SUSPENDING", "RESTORING"}
EXPOSED = {"ASSOCIATING", "ASSOCIATED"}


@dataclass
class Share:
    arn: str
    name: str
    owner: str
    region: str
    allow_external: bool
    tags: dict[str, str]
    created: float
    updated: float
    status: str = "ACTIVE"
    settle_at: float | None = None  # when DELETING becomes DELETED
    feature_set: str = "STANDARD"  # CREATED_FROM_POLICY | PROMOTING_TO_STANDARD | STANDARD
    permission_arns: list[str] = field(default_factory=list)  # chosen at creation (permissionArns)
    retain_on_leave: bool | None = None  # resourceShareConfiguration

    def settle(self, now: float) -> None:
        if self.status == "DELETING" and self.settle_at is not None and now >= self.settle_at:
            self.status, self.settle_at, self.updated = "DELETED", None, now

    def describe(self) -> dict[str, Any]:
        out = {
            "resourceShareArn": self.arn, "name": self.name, "owningAccountId": self.owner,
            "allowExternalPrincipals": self.allow_external, "status": self.status,
            "tags": [{"key": k, "value": v} for k, v in self.tags.items()],
            "creationTime": self.created, "lastUpdatedTime": self.updated, "featureSet": self.feature_set,
        }
        if self.retain_on_leave is not None:
            out["resourceShareConfiguration"] = {"retainSharingOnAccountLeaveOrganization": self.retain_on_leave}
        return out


@dataclass
class Association:
    share_arn: str
    entity: str
    kind: str  # PRINCIPAL | RESOURCE | SOURCE
    status: str
    external: bool
    created: float
    updated: float
    message: str | None = None
    settle_at: float | None = None
    settle_to: str | None = None

    def settle(self, now: float) -> None:
        if self.settle_to and self.settle_at is not None and now >= self.settle_at:
            self.status, self.settle_to, self.settle_at, self.updated = self.settle_to, None, None, now

    def move(self, status: str, final: str | None, now: float, message: str | None = None) -> None:
        self.status, self.updated, self.message = status, now, message
        self.settle_to = final
        owner = self.share_arn.split(":")[4]
        self.settle_at = now + state.settings_for(owner).settle_seconds if final else None
        if self.settle_at is not None:
            STATE.pending.append(self)

    def describe(self, share: Share) -> dict[str, Any]:
        out = {
            "resourceShareArn": self.share_arn, "resourceShareName": share.name,
            "associatedEntity": self.entity, "associationType": self.kind, "status": self.status,
            "creationTime": self.created, "lastUpdatedTime": self.updated, "external": self.external,
        }
        if self.message:
            out["statusMessage"] = self.message
        return out


@dataclass
class Invitation:
    arn: str
    share_arn: str
    sender: str
    receiver: str
    created: float
    status: str = "PENDING"

    def describe(self, share: Share) -> dict[str, Any]:
        return {
            "resourceShareInvitationArn": self.arn, "resourceShareName": share.name,
            "resourceShareArn": self.share_arn, "senderAccountId": self.sender,
            "receiverAccountId": self.receiver, "invitationTimestamp": self.created, "status": self.status,
        }


class Associations(list):
    """Every association, in creation order, indexed by share ARN (lookups per share stay cheap
    in worlds of 100,000 shares)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_share: dict[str, list[Association]] = {}

    def append(self, assoc: Association) -> None:  # type: ignore[override]
        super().append(assoc)
        self.by_share.setdefault(assoc.share_arn, []).append(assoc)

    def of(self, share_arn: str) -> list[Association]:
        return self.by_share.get(share_arn, [])


@dataclass
class RamState:
    shares: dict[str, Share] = field(default_factory=dict)
    associations: Associations = field(default_factory=Associations)
    # shares and associations with a transition scheduled (settle_at set)
    pending: list = field(default_factory=list)
    added: int = 0  # shares ever added: the owned-share listings below are kept until it changes
    owned_listing: dict = field(default_factory=dict)  # (account, region) -> (added, [Share])
    invitations: dict[str, Invitation] = field(default_factory=dict)
    sharing_enabled: set[str] = field(default_factory=set)  # organization ids
    idempotency: dict[tuple[str, str, str], tuple[str, dict]] = field(default_factory=dict)


STATE = RamState()


def reset() -> None:
    global STATE
    STATE = RamState()


# ---------------------------------------------------------------------------------------------
# helpers

def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def _max_results(params: dict) -> int:
    value = params.get("maxResults", 500)
    if not isinstance(value, int) or not 1 <= value <= 500:
        raise AwsError("InvalidParameterException",
                       f"1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy "
                       "constraint: Member must have value between 1 and 500")
    return value


def _settle_all(now: float) -> None:
    """Completes every transition due by now (only objects with one scheduled are visited)."""
    if not STATE.pending:
        return
    left = []
    for item in STATE.pending:
        item.settle(now)
        if item.settle_at is not None:
            left.append(item)
    STATE.pending = left


def _owned_share(call: Call, arn: str) -> Share:
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        raise AwsError("MalformedArnException", f"The format of ARN {arn} is not valid.")
    share = STATE.shares.get(arn)
    if share is None or share.owner != call.account or share.region != call.region:
        raise AwsError("UnknownResourceException", f"ResourceShare {arn} could not be found.")
    return share


def _idempotent(call: Call, params: dict, run: Callable[[], dict]) -> dict:
    token = params.get("clientToken")
    if not token:
        return run()
    key = (call.account, call.operation or "", token)
    fingerprint = repr(sorted((k, repr(v)) for k, v in params.items()))
    seen = STATE.idempotency.get(key)
    if seen is not None:
        if seen[0] != fingerprint:
            raise AwsError("IdempotentParameterMismatchException",
                           f"The client token {token} was already used with different parameters.")
        return seen[1]
    response = run()
    STATE.idempotency[key] = (fingerprint, response)
    return response


@dataclass(frozen=True)
class PrincipalPlan:
    status: str  # the association's settled status (ASSOCIATED) or ASSOCIATING for an invitation
    external: bool
    invite_account: str | None


def plan_principal(owner: str, share: Share, principal: str) -> PrincipalPlan:
    """How RAM treats a principal offered to a share, or the error it answers with."""
    return plan_principal_in(org_of(owner), owner, share, principal)


def plan_principal_in(org: OrgView | None, owner: str, share: Share, principal: str) -> PrincipalPlan:
    """`plan_principal` with the owner's organization already read (`org_of` reads it whole)."""
    enabled = org is not None and org.id in STATE.sharing_enabled
    if not isinstance(principal, str) or not principal:
        raise _invalid("A principal must be a non-empty string.")
    if ACCOUNT_RE.match(principal):
        if principal == owner:
            raise _invalid(f"The resource share owner {owner} cannot be a principal of its own share.")
        inside = org is not None and org.has_account(principal)
        if not inside and not share.allow_external:
            raise AwsError("OperationNotPermittedException",
                           f"Principal {principal} is not in your AWS organization. You cannot share with "
                           "principals outside your organization because the resource share does not allow "
                           "external principals.")
        if inside and enabled:
            return PrincipalPlan("ASSOCIATED", False, None)
        return PrincipalPlan("ASSOCIATING", not inside, principal)
    match = ORG_RE.match(principal)
    if match:
        if org is None or match.group(3) != org.id or match.group(2) != org.management_account:
            raise AwsError("UnknownResourceException", f"Organization {principal} could not be found.")
        if not enabled:
            raise AwsError("OperationNotPermittedException",
                           "Unable to share with an organization: sharing with AWS Organizations is not enabled.")
        return PrincipalPlan("ASSOCIATED", False, None)
    match = OU_RE.match(principal)
    if match:
        if org is None or match.group(3) != org.id or match.group(2) != org.management_account \
                or not org.has_ou(match.group(4)):
            raise AwsError("UnknownResourceException", f"Organizational unit {principal} could not be found.")
        if not enabled:
            raise AwsError("OperationNotPermittedException",
                           "Unable to share with an organizational unit: sharing with AWS Organizations is not enabled.")
        return PrincipalPlan("ASSOCIATED", False, None)
    match = IAM_RE.match(principal)
    if match:
        inside = org is not None and org.has_account(match.group(2))
        if not inside and match.group(2) != owner and not share.allow_external:
            raise AwsError("OperationNotPermittedException",
                           f"Principal {principal} is not in your AWS organization and the resource share "
                           "does not allow external principals.")
        return PrincipalPlan("ASSOCIATED", not inside and match.group(2) != owner, None)
    if SERVICE_RE.match(principal):
        return PrincipalPlan("ASSOCIATED", False, None)
    if principal.startswith("arn:"):
        raise AwsError("MalformedArnException", f"The format of ARN {principal} is not valid.")
    raise _invalid(f"Principal ID {principal} is malformed. Verify the ID and try again.")


def _validate_resource(arn: str) -> None:
    if not isinstance(arn, str) or not ARN_RE.match(arn):
        raise AwsError("MalformedArnException", f"The format of ARN {arn} is not valid.")


def _associate(call: Call, share: Share, principals: list, resources: list, now: float) -> list[dict]:
    plans = [(p, plan_principal(call.account, share, p)) for p in principals]  # validate all first
    for r in resources:
        _validate_resource(r)
    out: list[dict] = []
    for principal, plan in plans:
        assoc = _find(share.arn, principal, "PRINCIPAL")
        if assoc is not None and assoc.status in EXPOSED:
            out.append(assoc.describe(share))
            continue
        if assoc is None:
            assoc = Association(share.arn, principal, "PRINCIPAL", "ASSOCIATING", plan.external, now, now)
            STATE.associations.append(assoc)
        assoc.external = plan.external
        if plan.invite_account:
            assoc.move("ASSOCIATING", None, now)
            inv_arn = f"arn:aws:ram:{call.region}:{call.account}:resource-share-invitation/{uuid.uuid4()}"
            STATE.invitations[inv_arn] = Invitation(inv_arn, share.arn, call.account, plan.invite_account, now)
        else:
            assoc.move("ASSOCIATING", "ASSOCIATED", now)
        out.append(assoc.describe(share))
    for resource in resources:
        assoc = _find(share.arn, resource, "RESOURCE")
        if assoc is None:
            assoc = Association(share.arn, resource, "RESOURCE", "ASSOCIATING", False, now, now)
            STATE.associations.append(assoc)
        if assoc.status not in EXPOSED:
            assoc.move("ASSOCIATING", "ASSOCIATED", now)
        out.append(assoc.describe(share))
    share.updated = now
    return out


SOURCE_RE = re.compile(r"^(\d{12}|arn:.+|o-[a-z0-9]{10,32}(/.*)?)$")


def source_type(source: str) -> str:
    """The stand-in's names for the source forms RAM accepts (its API reference does not list
    the values of sourceType)."""
    if ACCOUNT_RE.match(source):
        return "ACCOUNT"
    if source.startswith("arn:"):
        return "ARN"
    return "ORGANIZATION_PATH" if "/" in source else "ORGANIZATION_ID"


def _associate_sources(share: Share, sources: list, now: float) -> list[dict]:
    """Source constraints: accounts, ARNs, organization ids or paths on whose behalf the share's
    service principals may use it (CreateResourceShare / AssociateResourceShare `sources`)."""
    for source in sources:
        if not isinstance(source, str) or not SOURCE_RE.match(source):
            raise _invalid(f"Source {source} is not an account ID, ARN, organization ID or organization path.")
    out = []
    for source in sources:
        assoc = _find(share.arn, source, "SOURCE")
        if assoc is None:
            assoc = Association(share.arn, source, "SOURCE", "ASSOCIATED", False, now, now)
            STATE.associations.append(assoc)
        elif assoc.status not in EXPOSED:
            assoc.move("ASSOCIATING", "ASSOCIATED", now)
        out.append(assoc.describe(share))
    return out


def _modifiable(share: Share) -> None:
    """RAM refuses changes to a share created from a resource-based policy until it is promoted
    (https://docs.aws.amazon.com/ram/latest/APIReference/API_ResourceShare.html, featureSet)."""
    if share.feature_set != "STANDARD":
        raise AwsError("OperationNotPermittedException",
                       f"The resource share {share.arn} was created from a resource-based policy "
                       f"(featureSet {share.feature_set}) and cannot be modified until it is promoted.")


def _find(share_arn: str, entity: str, kind: str) -> Association | None:
    for assoc in STATE.associations.of(share_arn):
        if assoc.entity == entity and assoc.kind == kind:
            return assoc
    return None


def _digest(values: list) -> str:
    """A short stand-in for a long filter in a pagination token's scope."""
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()[:16]


def _list(value: Any, name: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid(f"{name} must be a list.")
    return value


# ---------------------------------------------------------------------------------------------
# operations

def create_resource_share(call: Call, p: dict, now: float) -> dict:
    name = p.get("name")
    if not name:
        raise _invalid("The name of the resource share is required.")

    def run() -> dict:
        arn = f"arn:aws:ram:{call.region}:{call.account}:resource-share/{uuid.uuid4()}"
        tags = {t["key"]: t.get("value", "") for t in _list(p.get("tags"), "tags")}
        share = Share(arn, name, call.account, call.region, bool(p.get("allowExternalPrincipals", True)),
                      tags, now, now)
        share.permission_arns = [a for a in _list(p.get("permissionArns"), "permissionArns")]
        config = p.get("resourceShareConfiguration")
        if config is not None:
            if not isinstance(config, dict):
                raise _invalid("resourceShareConfiguration must be a structure.")
            share.retain_on_leave = bool(config.get("retainSharingOnAccountLeaveOrganization", False))
        principals, resources = _list(p.get("principals"), "principals"), _list(p.get("resourceArns"), "resourceArns")
        for principal in principals:
            plan_principal(call.account, share, principal)
        for resource in resources:
            _validate_resource(resource)
        sources = _list(p.get("sources"), "sources")
        STATE.shares[arn] = share
        STATE.added += 1
        _associate(call, share, principals, resources, now)
        _associate_sources(share, sources, now)
        return {"resourceShare": share.describe(), "clientToken": p.get("clientToken")}

    return _idempotent(call, p, run)


def get_resource_shares(call: Call, p: dict, now: float) -> dict:
    owner = p.get("resourceOwner")
    if owner not in ("SELF", "OTHER-ACCOUNTS"):
        raise _invalid("resourceOwner must be SELF or OTHER-ACCOUNTS.")
    tag_filters = _list(p.get("tagFilters"), "tagFilters")
    if owner == "OTHER-ACCOUNTS" and tag_filters:
        raise _invalid("Tag filters are not supported when resourceOwner is OTHER-ACCOUNTS.")
    status = p.get("resourceShareStatus")
    if status is not None and status not in SHARE_STATUSES:
        raise _invalid(f"Unknown resource share status {status}.")
    limit = _max_results(p)
    arns = set(_list(p.get("resourceShareArns"), "resourceShareArns"))
    _settle_all(now)
    if owner == "SELF":
        shares = _owned(call.account, call.region)
    else:
        shares = [s for s in STATE.shares.values() if s.owner != call.account and s.region == call.region
                  and _received(call.account, s)]
    if arns:
        shares = [s for s in shares if s.arn in arns]
    if p.get("name"):
        shares = [s for s in shares if s.name == p["name"]]
    if status:
        shares = [s for s in shares if s.status == status]
    for tf in tag_filters:
        key, values = tf.get("tagKey"), tf.get("tagValues") or []
        shares = [s for s in shares if key in s.tags and (not values or s.tags[key] in values)]
    scope = f"gsh:{call.account}:{owner}:{sorted(arns)}:{p.get('name')}:{status}:{tag_filters}"
    page, token = paginate(shares, limit, p.get("nextToken"), scope, "InvalidNextTokenException", state.empty_first(call))
    out: dict = {"resourceShares": [s.describe() for s in page]}
    if token:
        out["nextToken"] = token
    return out


def _owned(account: str, region: str) -> list[Share]:
    """The shares an account owns in a Region, in creation order (listed once per added share,
    not once per page: a 100,000-share listing is 200 pages)."""
    cached = STATE.owned_listing.get((account, region))
    if cached is not None and cached[0] == STATE.added:
        return cached[1]
    shares = [s for s in STATE.shares.values() if s.owner == account and s.region == region]
    STATE.owned_listing[(account, region)] = (STATE.added, shares)
    return shares


def _received(account: str, share: Share) -> bool:
    org = org_of(share.owner)
    for assoc in STATE.associations.of(share.arn):
        if assoc.kind != "PRINCIPAL" or assoc.status != "ASSOCIATED":
            continue
        if assoc.entity == account:
            return True
        if org is not None and org.has_account(account) and (ORG_RE.match(assoc.entity) or OU_RE.match(assoc.entity)):
            return True
    return False


def update_resource_share(call: Call, p: dict, now: float) -> dict:
    share = _owned_share(call, p.get("resourceShareArn"))

    def run() -> dict:
        if share.status not in ("ACTIVE",):
            raise AwsError("InvalidStateTransitionException",
                           f"ResourceShare {share.arn} is in state {share.status} and cannot be updated.")
        _modifiable(share)
        if "name" in p and p["name"]:
            share.name = p["name"]
        if p.get("allowExternalPrincipals") is False:
            # Refused when sharing with AWS Organizations is not enabled (seen with the Terraform
            # AWS provider; the API reference lists OperationNotPermittedException for it).
            org = org_of(share.owner)
            if org is None or org.id not in STATE.sharing_enabled:
                raise AwsError("OperationNotPermittedException",
                               "Unable to restrict the resource share to your organization: sharing with "
                               "AWS Organizations is not enabled.")
        if "allowExternalPrincipals" in p and p["allowExternalPrincipals"] is not None:
            share.allow_external = bool(p["allowExternalPrincipals"])
        share.updated = now
        return {"resourceShare": share.describe(), "clientToken": p.get("clientToken")}

    return _idempotent(call, p, run)


def delete_resource_share(call: Call, p: dict, now: float) -> dict:
    share = _owned_share(call, p.get("resourceShareArn"))

    def run() -> dict:
        _settle_all(now)
        if share.status in ("DELETING", "DELETED"):
            raise AwsError("InvalidStateTransitionException",
                           f"ResourceShare {share.arn} is already {share.status}.")
        share.status, share.updated = "DELETING", now
        share.settle_at = now + state.settings_for(share.owner).settle_seconds
        STATE.pending.append(share)
        for assoc in STATE.associations.of(share.arn):
            if assoc.status not in ("DISASSOCIATED", "FAILED"):
                assoc.move("DISASSOCIATING", "DISASSOCIATED", now)
        for inv in STATE.invitations.values():
            if inv.share_arn == share.arn and inv.status == "PENDING":
                inv.status = "EXPIRED"
        return {"returnValue": True, "clientToken": p.get("clientToken")}

    return _idempotent(call, p, run)


def associate_resource_share(call: Call, p: dict, now: float) -> dict:
    share = _owned_share(call, p.get("resourceShareArn"))

    def run() -> dict:
        _settle_all(now)
        if share.status != "ACTIVE":
            raise AwsError("InvalidStateTransitionException",
                           f"ResourceShare {share.arn} is in state {share.status}.")
        principals, resources = _list(p.get("principals"), "principals"), _list(p.get("resourceArns"), "resourceArns")
        sources = _list(p.get("sources"), "sources")
        if not principals and not resources and not sources:
            raise _invalid("At least one principal or resource must be specified.")
        _modifiable(share)
        return {"resourceShareAssociations": _associate(call, share, principals, resources, now)
                + _associate_sources(share, sources, now),
                "clientToken": p.get("clientToken")}

    return _idempotent(call, p, run)


def disassociate_resource_share(call: Call, p: dict, now: float) -> dict:
    share = _owned_share(call, p.get("resourceShareArn"))

    def run() -> dict:
        _settle_all(now)
        if share.status != "ACTIVE":
            raise AwsError("InvalidStateTransitionException",
                           f"ResourceShare {share.arn} is in state {share.status}.")
        targets = [(e, "PRINCIPAL") for e in _list(p.get("principals"), "principals")] + \
                  [(e, "RESOURCE") for e in _list(p.get("resourceArns"), "resourceArns")] + \
                  [(e, "SOURCE") for e in _list(p.get("sources"), "sources")]
        if not targets:
            raise _invalid("At least one principal or resource must be specified.")
        _modifiable(share)
        for entity, kind in targets:
            fault = state.take_fault("ram", "DisassociateResourceShare", call.account, entity=entity)
            if fault is not None:  # one principal RAM will not remove fails the whole call
                raise AwsError(fault.code, f"{fault.message} ({entity})", fault.status)
        found = []
        for entity, kind in targets:
            assoc = _find(share.arn, entity, kind)
            if assoc is None or assoc.status in ("DISASSOCIATED", "FAILED"):
                raise AwsError("UnknownResourceException",
                               f"{entity} is not associated with resource share {share.arn}.")
            found.append(assoc)
        out = []
        for assoc in found:
            if assoc.status != "DISASSOCIATING":
                assoc.move("DISASSOCIATING", "DISASSOCIATED", now)
            for inv in STATE.invitations.values():
                if inv.share_arn == share.arn and inv.receiver == assoc.entity and inv.status == "PENDING":
                    inv.status = "EXPIRED"
            out.append(assoc.describe(share))
        share.updated = now
        return {"resourceShareAssociations": out, "clientToken": p.get("clientToken")}

    return _idempotent(call, p, run)


def get_resource_share_associations(call: Call, p: dict, now: float) -> dict:
    kind = p.get("associationType")
    if kind not in ("PRINCIPAL", "RESOURCE"):
        raise _invalid("associationType must be PRINCIPAL or RESOURCE.")
    arns = _list(p.get("resourceShareArns"), "resourceShareArns")
    status = p.get("associationStatus")
    if arns and status:
        raise _invalid("You cannot specify both resourceShareArns and associationStatus.")
    if status is not None and status not in ASSOCIATION_STATUSES:
        raise _invalid(f"Unknown association status {status}.")
    if p.get("principal") and kind != "PRINCIPAL":
        raise _invalid("principal can only be specified with associationType PRINCIPAL.")
    if p.get("resourceArn") and kind != "RESOURCE":
        raise _invalid("resourceArn can only be specified with associationType RESOURCE.")
    for arn in arns:
        if not isinstance(arn, str) or not arn.startswith("arn:"):
            raise AwsError("MalformedArnException", f"The format of ARN {arn} is not valid.")
    limit = _max_results(p)
    _settle_all(now)
    wanted = set(arns)
    if wanted:
        owned = {a: s for a in arns if (s := STATE.shares.get(a)) is not None
                 and s.owner == call.account and s.region == call.region}
        candidates = [a for arn in dict.fromkeys(arns) for a in STATE.associations.of(arn)]
    else:
        owned = {a: s for a, s in STATE.shares.items() if s.owner == call.account and s.region == call.region}
        candidates = STATE.associations
    rows = [a for a in candidates if a.kind == kind and a.share_arn in owned
            and (not status or a.status == status)
            and (not p.get("principal") or a.entity == p["principal"])
            and (not p.get("resourceArn") or a.entity == p["resourceArn"])]
    scope = f"gsa:{call.account}:{kind}:{_digest(sorted(wanted))}:{status}:{p.get('principal')}:{p.get('resourceArn')}"
    page, token = paginate(rows, limit, p.get("nextToken"), scope, "InvalidNextTokenException", state.empty_first(call))
    out: dict = {"resourceShareAssociations": [a.describe(owned[a.share_arn]) for a in page]}
    if token:
        out["nextToken"] = token
    return out


def _list_entities(call: Call, p: dict, now: float, kind: str, result_key: str) -> dict:
    owner = p.get("resourceOwner")
    if owner not in ("SELF", "OTHER-ACCOUNTS"):
        raise _invalid("resourceOwner must be SELF or OTHER-ACCOUNTS.")
    limit = _max_results(p)
    _settle_all(now)
    wanted = set(_list(p.get("resourceShareArns"), "resourceShareArns"))
    if owner == "SELF":
        shares = {a: s for a, s in STATE.shares.items() if s.owner == call.account and s.region == call.region}
    else:
        shares = {a: s for a, s in STATE.shares.items() if s.owner != call.account and s.region == call.region
                  and _received(call.account, s)}
    entity_filter = set(_list(p.get("principals" if kind == "PRINCIPAL" else "resourceArns"), "filter"))
    rows = [a for a in STATE.associations if a.kind == kind and a.share_arn in shares
            and a.status in EXPOSED and (not wanted or a.share_arn in wanted)
            and (not entity_filter or a.entity in entity_filter)]
    scope = f"{kind}:{call.account}:{owner}:{sorted(wanted)}:{sorted(entity_filter)}"
    page, token = paginate(rows, limit, p.get("nextToken"), scope, "InvalidNextTokenException", state.empty_first(call))
    if kind == "PRINCIPAL":
        items = [{"id": a.entity, "resourceShareArn": a.share_arn, "creationTime": a.created,
                  "lastUpdatedTime": a.updated, "external": a.external} for a in page]
    else:
        items = [{"arn": a.entity, "type": resource_type(a.entity),
                  "resourceShareArn": a.share_arn, "status": "AVAILABLE", "creationTime": a.created,
                  "lastUpdatedTime": a.updated, "resourceRegionScope": "REGIONAL"} for a in page]
    out: dict = {result_key: items}
    if token:
        out["nextToken"] = token
    return out


def resource_type(arn: str) -> str:
    """RAM's resource type of an ARN: `ec2:Subnet` for `arn:aws:ec2:…:subnet/subnet-…`."""
    parts = arn.split(":", 5)
    kind = parts[5].split("/")[0] if len(parts) > 5 else ""
    return parts[2] + ":" + "".join(w[:1].upper() + w[1:] for w in kind.split("-"))


def list_resource_share_permissions(call: Call, p: dict, now: float) -> dict:
    """The permissions of a share: those chosen at creation, else RAM's default managed
    permission for each resource type the share holds (CreateResourceShare, permissionArns)."""
    share = _owned_share(call, p.get("resourceShareArn"))
    limit = _max_results(p)
    _settle_all(now)
    types = sorted({resource_type(a.entity) for a in STATE.associations.of(share.arn)
                    if a.kind == "RESOURCE" and a.status in EXPOSED})
    rows = []
    for arn in share.permission_arns:
        name = arn.rsplit("/", 1)[-1]
        rows.append({"arn": arn, "name": name, "version": "1", "defaultVersion": True, "status": "ATTACHABLE",
                     "resourceType": types[0] if types else "", "permissionType": "CUSTOMER_MANAGED"
                     if ":aws:" not in arn else "AWS_MANAGED", "featureSet": "STANDARD"})
    if not rows:
        for t in types:
            name = "AWSRAMDefaultPermission" + t.split(":", 1)[1]
            rows.append({"arn": f"arn:aws:ram::aws:permission/{name}", "name": name, "version": "1",
                         "defaultVersion": True, "status": "ATTACHABLE", "resourceType": t,
                         "permissionType": "AWS_MANAGED", "isResourceTypeDefault": True, "featureSet": "STANDARD"})
    page, token = paginate(rows, limit, p.get("nextToken"), f"lrsp:{share.arn}", "InvalidNextTokenException", state.empty_first(call))
    out: dict = {"permissions": page}
    if token:
        out["nextToken"] = token
    return out


def list_principals(call: Call, p: dict, now: float) -> dict:
    return _list_entities(call, p, now, "PRINCIPAL", "principals")


def list_resources(call: Call, p: dict, now: float) -> dict:
    return _list_entities(call, p, now, "RESOURCE", "resources")


def get_resource_share_invitations(call: Call, p: dict, now: float) -> dict:
    limit = _max_results(p)
    arns = set(_list(p.get("resourceShareInvitationArns"), "resourceShareInvitationArns"))
    shares = set(_list(p.get("resourceShareArns"), "resourceShareArns"))
    if arns and shares:
        raise _invalid("You cannot specify both resourceShareInvitationArns and resourceShareArns.")
    rows = [i for i in STATE.invitations.values() if i.receiver == call.account
            and (not arns or i.arn in arns) and (not shares or i.share_arn in shares)]
    for arn in arns:
        if arn not in STATE.invitations:
            raise AwsError("ResourceShareInvitationArnNotFoundException", f"Invitation {arn} could not be found.")
    page, token = paginate(rows, limit, p.get("nextToken"), f"inv:{call.account}:{sorted(arns)}:{sorted(shares)}",
                           "InvalidNextTokenException", state.empty_first(call))
    out: dict = {"resourceShareInvitations": [i.describe(STATE.shares[i.share_arn]) for i in page]}
    if token:
        out["nextToken"] = token
    return out


def _invitation_for(call: Call, p: dict) -> Invitation:
    arn = p.get("resourceShareInvitationArn")
    inv = STATE.invitations.get(arn)
    if inv is None or inv.receiver != call.account:
        raise AwsError("ResourceShareInvitationArnNotFoundException", f"Invitation {arn} could not be found.")
    if inv.status == "ACCEPTED":
        raise AwsError("ResourceShareInvitationAlreadyAcceptedException", f"Invitation {arn} was already accepted.")
    if inv.status == "REJECTED":
        raise AwsError("ResourceShareInvitationAlreadyRejectedException", f"Invitation {arn} was already rejected.")
    if inv.status == "EXPIRED":
        raise AwsError("ResourceShareInvitationExpiredException", f"Invitation {arn} has expired.")
    return inv


def accept_resource_share_invitation(call: Call, p: dict, now: float) -> dict:
    inv = _invitation_for(call, p)
    inv.status = "ACCEPTED"
    assoc = _find(inv.share_arn, inv.receiver, "PRINCIPAL")
    if assoc is not None:
        assoc.move("ASSOCIATED", None, now)
    return {"resourceShareInvitation": inv.describe(STATE.shares[inv.share_arn]), "clientToken": p.get("clientToken")}


def reject_resource_share_invitation(call: Call, p: dict, now: float) -> dict:
    inv = _invitation_for(call, p)
    inv.status = "REJECTED"
    assoc = _find(inv.share_arn, inv.receiver, "PRINCIPAL")
    if assoc is not None:
        assoc.move("FAILED", None, now, "The invitation was rejected.")
    return {"resourceShareInvitation": inv.describe(STATE.shares[inv.share_arn]), "clientToken": p.get("clientToken")}


def tag_resource(call: Call, p: dict, now: float) -> dict:
    share = _owned_share(call, p.get("resourceShareArn") or p.get("resourceArn"))
    tags = _list(p.get("tags"), "tags")
    if not tags:
        raise _invalid("tags must not be empty.")
    for t in tags:
        if not t.get("key"):
            raise _invalid("A tag key must not be empty.")
        if t["key"].lower().startswith("aws:"):
            raise AwsError("TagPolicyViolationException", "Tag keys starting with aws: are reserved.")
    for t in tags:
        share.tags[t["key"]] = t.get("value", "")
    return {}


def untag_resource(call: Call, p: dict, now: float) -> dict:
    share = _owned_share(call, p.get("resourceShareArn") or p.get("resourceArn"))
    for key in _list(p.get("tagKeys"), "tagKeys"):
        share.tags.pop(key, None)
    return {}


def enable_sharing_with_aws_organization(call: Call, p: dict, now: float) -> dict:
    org = org_of(call.account)
    if org is None or org.management_account != call.account:
        raise AwsError("OperationNotPermittedException",
                       "EnableSharingWithAwsOrganization must be called from the organization's management account.")
    STATE.sharing_enabled.add(org.id)
    # as in AWS, this enables trusted access for RAM in Organizations
    # (ListAWSServiceAccessForOrganization then lists ram.amazonaws.com)
    from moto.organizations.models import organizations_backends

    backend = organizations_backends[org.management_account]["aws"]
    if not any(s.get("ServicePrincipal") == "ram.amazonaws.com"
               for s in backend.list_aws_service_access_for_organization().get("EnabledServicePrincipals", [])):
        backend.enable_aws_service_access(ServicePrincipal="ram.amazonaws.com")
    return {"returnValue": True}


def list_source_associations(call: Call, p: dict, now: float) -> dict:
    """The source constraints of the caller's shares, filtered and paginated."""
    limit = _max_results(p)
    arns = set(_list(p.get("resourceShareArns"), "resourceShareArns"))
    status = p.get("associationStatus")
    if status is not None and status not in ASSOCIATION_STATUSES:
        raise _invalid(f"Unknown association status {status}.")
    _settle_all(now)
    owned = {s.arn: s for s in STATE.shares.values() if s.owner == call.account and s.region == call.region}
    for arn in arns:
        if arn not in owned:
            raise AwsError("UnknownResourceException", f"ResourceShare {arn} could not be found.")
    candidates = [a for arn in sorted(arns) for a in STATE.associations.of(arn)] if arns else STATE.associations
    rows = [a for a in candidates if a.kind == "SOURCE" and a.share_arn in owned
            and (not p.get("sourceId") or a.entity == p["sourceId"])
            and (not p.get("sourceType") or source_type(a.entity) == p["sourceType"])
            and (not status or a.status == status)]
    scope = f"lsa:{call.account}:{_digest(sorted(arns))}:{p.get('sourceId')}:{p.get('sourceType')}:{status}"
    page, token = paginate(rows, limit, p.get("nextToken"), scope, "InvalidNextTokenException", state.empty_first(call))
    out: dict = {"sourceAssociations": [
        {"resourceShareArn": a.share_arn, "sourceId": a.entity, "sourceType": source_type(a.entity),
         "status": a.status, "creationTime": a.created, "lastUpdatedTime": a.updated} for a in page]}
    if token:
        out["nextToken"] = token
    return out


def set_share_state(spec: dict) -> dict:
    """Control endpoint: what RAM may report that no API call here produces: a share created from
    a resource-based policy, or associations in a given status (SUSPENDED when an account left the
    organization; a principal RAM reports in a form ramguard must judge)."""
    with state.LOCK:
        share = STATE.shares.get(spec["shareArn"])
        if share is None:
            raise AwsError("UnknownResourceException", f"ResourceShare {spec['shareArn']} could not be found.")
        if "featureSet" in spec:
            share.feature_set = spec["featureSet"]
        now = state.now()
        for row in spec.get("associations", []):
            kind = row.get("type", "PRINCIPAL")
            if row["status"] not in ASSOCIATION_STATUSES and not row.get("anyStatus"):
                raise _invalid(f"Unknown association status {row['status']}.")
            assoc = _find(share.arn, row["entity"], kind)
            if assoc is None:
                assoc = Association(share.arn, row["entity"], kind, row["status"], bool(row.get("external", True)),
                                    now, now)
                STATE.associations.append(assoc)
            assoc.move(row["status"], None, now)
        return {"resourceShare": share.describe()}


def bulk_shares(spec: dict) -> dict:
    """Control endpoint for large worlds (benchmarks): creates many ACTIVE shares at once, each
    with its resources and principals already ASSOCIATED (as if every invitation was accepted),
    RAM's `external` flag set as CreateResourceShare sets it. Principals and resources are
    validated as CreateResourceShare validates them, and a refused one refuses the whole request
    before anything is added. Body: {"account", "region", "shares": [{"name", "principals": [...],
    "resources": [...], "allowExternalPrincipals"}]}."""
    with state.LOCK:
        account, region = spec["account"], spec["region"]
        org = org_of(account)
        now = state.now()
        planned = []
        for row in spec["shares"]:
            arn = f"arn:aws:ram:{region}:{account}:resource-share/{uuid.uuid4()}"
            share = Share(arn, row["name"], account, region, bool(row.get("allowExternalPrincipals", True)),
                          dict(row.get("tags") or {}), now, now)
            resources = _list(row.get("resources"), "resources")
            for resource in resources:
                _validate_resource(resource)
            principals = [(p, plan_principal_in(org, account, share, p).external)
                          for p in _list(row.get("principals"), "principals")]
            planned.append((share, resources, principals))
        for share, resources, principals in planned:
            STATE.shares[share.arn] = share
            STATE.added += 1
            for resource in resources:
                STATE.associations.append(Association(share.arn, resource, "RESOURCE", "ASSOCIATED", False,
                                                      now, now))
            for principal, external in principals:
                STATE.associations.append(Association(share.arn, principal, "PRINCIPAL", "ASSOCIATED",
                                                      external, now, now))
        return {"resourceShareArns": [share.arn for share, _, _ in planned]}


OPERATIONS = {
    "CreateResourceShare": create_resource_share,
    "GetResourceShares": get_resource_shares,
    "UpdateResourceShare": update_resource_share,
    "DeleteResourceShare": delete_resource_share,
    "AssociateResourceShare": associate_resource_share,
    "DisassociateResourceShare": disassociate_resource_share,
    "GetResourceShareAssociations": get_resource_share_associations,
    "ListPrincipals": list_principals,
    "ListResources": list_resources,
    "GetResourceShareInvitations": get_resource_share_invitations,
    "AcceptResourceShareInvitation": accept_resource_share_invitation,
    "RejectResourceShareInvitation": reject_resource_share_invitation,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "EnableSharingWithAwsOrganization": enable_sharing_with_aws_organization,
    "ListSourceAssociations": list_source_associations,
    "ListResourceSharePermissions": list_resource_share_permissions,
}


def _flag(value: Any) -> str:
    return "true" if value in (True, "true", "True") else "false"


def _scp_request(call: Call, p: dict) -> tuple[str, dict[str, list[str]]] | None:
    """The resource and the RAM condition keys of a sharing call, as the service authorization
    reference lists them for AWS RAM; None when the call is not one SCPs are judged on here (or
    names no share this stand-in holds: the operation answers for that itself)."""
    base = {"aws:RequestedRegion": [call.region]}
    principals = [str(x) for x in _list(p.get("principals"), "principals")] if p.get("principals") else []
    if principals:
        base["ram:Principal"] = principals
    if call.operation == "CreateResourceShare":
        base["ram:RequestedAllowsExternalPrincipals"] = [_flag(p.get("allowExternalPrincipals", True))]
        if p.get("name"):
            base["ram:ResourceShareName"] = [p["name"]]
        return f"arn:aws:ram:{call.region}:{call.account}:resource-share/*", base
    share = STATE.shares.get(p.get("resourceShareArn") or "")
    if call.operation in ("UpdateResourceShare", "AssociateResourceShare") and share is not None:
        base["ram:AllowsExternalPrincipals"] = [_flag(share.allow_external)]
        base["ram:ResourceShareName"] = [share.name]
        if call.operation == "UpdateResourceShare" and "allowExternalPrincipals" in p:
            base["ram:RequestedAllowsExternalPrincipals"] = [_flag(p["allowExternalPrincipals"])]
        return share.arn, base
    if call.operation == "AcceptResourceShareInvitation":
        inv = STATE.invitations.get(p.get("resourceShareInvitationArn") or "")
        invited = STATE.shares.get(inv.share_arn) if inv is not None else None
        if inv is None or invited is None:
            return None
        base["ram:ShareOwnerAccountId"] = [invited.owner]
        base["ram:ResourceShareName"] = [invited.name]
        return inv.arn, base
    return None


def handle(call: Call) -> dict:
    op = OPERATIONS.get(call.operation or "")
    if op is None:
        raise AwsError("UnknownOperationException",
                       f"The stand-in does not implement RAM operation {call.operation}.", 400)
    with state.LOCK:
        request = _scp_request(call, call.params)
        if request is not None:
            scp.check(call.account, call.principal, f"ram:{call.operation}", request[0], request[1])
        return op(call, call.params, state.now())
