"""RAM behaviour as the AWS RAM API reference describes it."""
import pytest
from botocore.exceptions import ClientError

from conftest import MANAGEMENT, OUTSIDER

RESOURCE = f"arn:aws:ec2:us-east-1:{MANAGEMENT}:subnet/subnet-0123456789abcdef0"


def code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def share(ram, name="s", allow=True, principals=(), **kw):
    return ram.create_resource_share(name=name, allowExternalPrincipals=allow, principals=list(principals),
                                     resourceArns=[RESOURCE], **kw)["resourceShare"]


def assocs(ram, arn=None, **kw):
    args = {"associationType": "PRINCIPAL", **kw}
    if arn:
        args["resourceShareArns"] = [arn]
    return {a["associatedEntity"]: a for a in ram.get_resource_share_associations(**args)["resourceShareAssociations"]}


def test_every_principal_form_is_accepted_with_its_lifecycle(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    member = org["members"][0]
    principals = [member, OUTSIDER, org["org"]["Arn"], org["nested_ou"]["Arn"],
                  f"arn:aws:iam::{member}:role/app", f"arn:aws:iam::{OUTSIDER}:user/path/bob",
                  "logs.amazonaws.com"]
    s = share(ram, principals=principals)
    got = assocs(ram, s["resourceShareArn"])
    assert got[member]["status"] == "ASSOCIATED" and got[member]["external"] is False
    assert got[OUTSIDER]["status"] == "ASSOCIATING" and got[OUTSIDER]["external"] is True
    assert got[org["org"]["Arn"]]["status"] == "ASSOCIATED"
    assert got[org["nested_ou"]["Arn"]]["status"] == "ASSOCIATED"
    assert got[f"arn:aws:iam::{OUTSIDER}:user/path/bob"]["external"] is True
    assert got[f"arn:aws:iam::{member}:role/app"]["external"] is False
    assert got["logs.amazonaws.com"]["status"] == "ASSOCIATED"


def test_outside_account_gets_pending_invitation_until_it_accepts(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    s = share(ram, principals=[OUTSIDER])
    theirs = standin.client("ram", OUTSIDER)
    inv = theirs.get_resource_share_invitations()["resourceShareInvitations"]
    assert [i["status"] for i in inv] == ["PENDING"] and inv[0]["senderAccountId"] == MANAGEMENT
    assert assocs(ram, s["resourceShareArn"])[OUTSIDER]["status"] == "ASSOCIATING"
    theirs.accept_resource_share_invitation(resourceShareInvitationArn=inv[0]["resourceShareInvitationArn"])
    assert assocs(ram, s["resourceShareArn"])[OUTSIDER]["status"] == "ASSOCIATED"
    received = theirs.get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"]
    assert [r["resourceShareArn"] for r in received] == [s["resourceShareArn"]]


def test_in_org_account_without_org_sharing_gets_an_invitation(standin):
    orgs = standin.client("organizations", MANAGEMENT)
    orgs.create_organization(FeatureSet="ALL")
    member = orgs.create_account(AccountName="m", Email="m@example.com")["CreateAccountStatus"]["AccountId"]
    ram = standin.client("ram", MANAGEMENT)
    s = share(ram, principals=[member])
    got = assocs(ram, s["resourceShareArn"])[member]
    assert got["status"] == "ASSOCIATING" and got["external"] is False
    with pytest.raises(ClientError) as exc:
        share(ram, name="o", principals=[orgs.describe_organization()["Organization"]["Arn"]])
    assert code(exc) == "OperationNotPermittedException"


def test_disassociate_goes_through_disassociating_and_leaves_list_principals(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    standin.control("POST", "/_standin/settings", {"settleSeconds": 60})
    s = share(ram, principals=[OUTSIDER, org["members"][0]])
    out = ram.disassociate_resource_share(resourceShareArn=s["resourceShareArn"], principals=[OUTSIDER])
    assert [a["status"] for a in out["resourceShareAssociations"]] == ["DISASSOCIATING"]
    assert assocs(ram, s["resourceShareArn"])[OUTSIDER]["status"] == "DISASSOCIATING"
    standin.control("POST", "/_standin/settings", {"settleSeconds": 0})
    ram.disassociate_resource_share(resourceShareArn=s["resourceShareArn"], principals=[org["members"][0]])
    got = assocs(ram, s["resourceShareArn"])
    assert got[org["members"][0]]["status"] == "DISASSOCIATED"
    listed = ram.list_principals(resourceOwner="SELF", resourceShareArns=[s["resourceShareArn"]])["principals"]
    assert OUTSIDER not in [p["id"] for p in listed]  # DISASSOCIATING no longer grants access
    assert org["members"][0] not in [p["id"] for p in listed]
    # the cancelled invitation is no longer pending
    inv = standin.client("ram", OUTSIDER).get_resource_share_invitations()["resourceShareInvitations"]
    assert inv[0]["status"] == "EXPIRED"


def test_disassociating_an_unassociated_principal_is_unknown(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    s = share(ram, principals=[org["members"][0]])
    with pytest.raises(ClientError) as exc:
        ram.disassociate_resource_share(resourceShareArn=s["resourceShareArn"], principals=[OUTSIDER])
    assert code(exc) == "UnknownResourceException"


def test_share_lifecycle_active_deleting_deleted(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    standin.control("POST", "/_standin/settings", {"settleSeconds": 60})
    s = share(ram, principals=[org["members"][0]])
    assert s["status"] == "ACTIVE"
    ram.delete_resource_share(resourceShareArn=s["resourceShareArn"])
    [got] = ram.get_resource_shares(resourceOwner="SELF")["resourceShares"]
    assert got["status"] == "DELETING"
    standin.control("POST", "/_standin/settings", {"settleSeconds": 0})
    s2 = share(ram, name="t", principals=[org["members"][0]])
    ram.delete_resource_share(resourceShareArn=s2["resourceShareArn"])
    got = ram.get_resource_shares(resourceOwner="SELF", resourceShareArns=[s2["resourceShareArn"]])["resourceShares"]
    assert got[0]["status"] == "DELETED"
    assert assocs(ram, s2["resourceShareArn"])[org["members"][0]]["status"] == "DISASSOCIATED"
    with pytest.raises(ClientError) as exc:
        ram.associate_resource_share(resourceShareArn=s2["resourceShareArn"], principals=[OUTSIDER])
    assert code(exc) == "InvalidStateTransitionException"


def test_rejections_as_aws_rejects(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    with pytest.raises(ClientError) as exc:
        share(ram, allow=False, principals=[OUTSIDER])
    assert code(exc) == "OperationNotPermittedException"
    foreign = "arn:aws:organizations::123456789012:organization/o-abcdefghij"
    with pytest.raises(ClientError) as exc:
        share(ram, principals=[foreign])
    assert code(exc) == "UnknownResourceException"
    foreign_ou = "arn:aws:organizations::123456789012:ou/o-abcdefghij/ou-abcd-12345678"
    with pytest.raises(ClientError) as exc:
        share(ram, principals=[foreign_ou])
    assert code(exc) == "UnknownResourceException"
    with pytest.raises(ClientError) as exc:
        share(ram, principals=["arn:aws:nonsense"])
    assert code(exc) == "MalformedArnException"
    with pytest.raises(ClientError) as exc:
        share(ram, principals=["not-a-principal"])
    assert code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        ram.get_resource_share_associations(associationType="PRINCIPAL", resourceShareArns=[
            f"arn:aws:ram:us-east-1:{MANAGEMENT}:resource-share/x"], associationStatus="ASSOCIATED")
    assert code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        ram.get_resource_shares(resourceOwner="OTHER-ACCOUNTS", tagFilters=[{"tagKey": "a"}])
    assert code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        ram.update_resource_share(resourceShareArn=f"arn:aws:ram:us-east-1:{MANAGEMENT}:resource-share/none")
    assert code(exc) == "UnknownResourceException"
    with pytest.raises(ClientError) as exc:
        ram.get_resource_shares(resourceOwner="SELF", nextToken="garbage")
    assert code(exc) == "InvalidNextTokenException"


def test_external_principal_rejected_when_share_disallows_but_org_member_allowed(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    s = share(ram, allow=False, principals=[org["members"][1]])
    assert assocs(ram, s["resourceShareArn"])[org["members"][1]]["status"] == "ASSOCIATED"
    with pytest.raises(ClientError) as exc:
        ram.associate_resource_share(resourceShareArn=s["resourceShareArn"], principals=[OUTSIDER])
    assert code(exc) == "OperationNotPermittedException"


def test_update_without_allow_external_keeps_it(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    s = share(ram, allow=False)
    updated = ram.update_resource_share(resourceShareArn=s["resourceShareArn"], name="renamed")["resourceShare"]
    assert updated["allowExternalPrincipals"] is False and updated["name"] == "renamed"
    updated = ram.update_resource_share(resourceShareArn=s["resourceShareArn"], allowExternalPrincipals=True)
    assert updated["resourceShare"]["allowExternalPrincipals"] is True


def test_filters_max_results_and_pagination(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    arns = [share(ram, name=f"s{i}", principals=[org["members"][i % 2]],
                  tags=[{"key": "team", "value": "a" if i % 2 else "b"}])["resourceShareArn"] for i in range(7)]
    pages, token, seen = 0, None, []
    while True:
        kw = {"resourceOwner": "SELF", "maxResults": 3, **({"nextToken": token} if token else {})}
        out = ram.get_resource_shares(**kw)
        seen += [s["resourceShareArn"] for s in out["resourceShares"]]
        pages += 1
        token = out.get("nextToken")
        if not token:
            break
    assert pages == 3 and sorted(seen) == sorted(arns)
    assert len(ram.get_resource_shares(resourceOwner="SELF", name="s3")["resourceShares"]) == 1
    assert len(ram.get_resource_shares(resourceOwner="SELF", resourceShareArns=arns[:2])["resourceShares"]) == 2
    tagged = ram.get_resource_shares(resourceOwner="SELF", tagFilters=[{"tagKey": "team", "tagValues": ["a"]}])
    assert len(tagged["resourceShares"]) == 3
    assert len(ram.get_resource_shares(resourceOwner="SELF", resourceShareStatus="DELETED")["resourceShares"]) == 0
    for bad in (0, 501):
        with pytest.raises(ClientError) as exc:
            ram.get_resource_shares(resourceOwner="SELF", maxResults=bad)
        assert code(exc) == "InvalidParameterException"
    page = ram.get_resource_share_associations(associationType="PRINCIPAL", maxResults=2)
    assert len(page["resourceShareAssociations"]) == 2 and "nextToken" in page
    status = ram.get_resource_share_associations(associationType="PRINCIPAL", associationStatus="ASSOCIATED")
    assert len(status["resourceShareAssociations"]) == 7
    by_principal = ram.get_resource_share_associations(associationType="PRINCIPAL", principal=org["members"][0])
    assert len(by_principal["resourceShareAssociations"]) == 4
    resources = ram.list_resources(resourceOwner="SELF", maxResults=5)
    assert len(resources["resources"]) == 5 and resources["nextToken"]


def test_empty_first_page_with_token(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    share(ram, principals=[org["members"][0]])
    standin.control("POST", "/_standin/settings", {"emptyFirstPage": ["GetResourceShares"]})
    first = ram.get_resource_shares(resourceOwner="SELF")
    assert first["resourceShares"] == [] and first["nextToken"]
    second = ram.get_resource_shares(resourceOwner="SELF", nextToken=first["nextToken"])
    assert len(second["resourceShares"]) == 1 and "nextToken" not in second


def test_tags_are_stored(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    s = share(ram, tags=[{"key": "a", "value": "1"}])
    ram.tag_resource(resourceShareArn=s["resourceShareArn"], tags=[{"key": "ramguard:exempt", "value": "2030-01-01"}])
    ram.untag_resource(resourceShareArn=s["resourceShareArn"], tagKeys=["a"])
    [got] = ram.get_resource_shares(resourceOwner="SELF")["resourceShares"]
    assert got["tags"] == [{"key": "ramguard:exempt", "value": "2030-01-01"}]


def test_client_token_makes_retries_idempotent(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    s = share(ram, principals=[OUTSIDER])
    first = ram.disassociate_resource_share(resourceShareArn=s["resourceShareArn"], principals=[OUTSIDER], clientToken="tok-1")
    again = ram.disassociate_resource_share(resourceShareArn=s["resourceShareArn"], principals=[OUTSIDER], clientToken="tok-1")
    assert first["resourceShareAssociations"] == again["resourceShareAssociations"]
    with pytest.raises(ClientError) as exc:
        ram.disassociate_resource_share(resourceShareArn=s["resourceShareArn"], principals=[org["members"][0]],
                                        clientToken="tok-1")
    assert code(exc) == "IdempotentParameterMismatchException"


def test_shares_are_private_to_their_owner_and_region(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    s = share(ram)
    other = standin.client("ram", org["members"][0])
    assert other.get_resource_shares(resourceOwner="SELF")["resourceShares"] == []
    with pytest.raises(ClientError) as exc:
        other.disassociate_resource_share(resourceShareArn=s["resourceShareArn"], principals=[OUTSIDER])
    assert code(exc) == "UnknownResourceException"
    west = standin.client("ram", MANAGEMENT, region="eu-west-1")
    assert west.get_resource_shares(resourceOwner="SELF")["resourceShares"] == []


def test_enable_sharing_only_from_management(standin, org):
    with pytest.raises(ClientError) as exc:
        standin.client("ram", org["members"][0]).enable_sharing_with_aws_organization()
    assert code(exc) == "OperationNotPermittedException"


def test_bulk_shares_are_read_back_like_created_ones(standin, org):
    member = org["members"][0]
    outside_role = "arn:aws:iam::999999999999:role/partner"
    resource = f"arn:aws:ec2:us-east-1:{MANAGEMENT}:subnet/subnet-0123456789abcdef0"
    out = standin.control("POST", "/_standin/ram/bulk-shares", {
        "account": MANAGEMENT, "region": "us-east-1",
        "shares": [{"name": f"b{i}", "principals": [member, outside_role], "resources": [resource]}
                   for i in range(501)]})
    arns = out["resourceShareArns"]
    assert len(arns) == 501
    ram = standin.client("ram", MANAGEMENT)
    listed = [s for p in ram.get_paginator("get_resource_shares").paginate(resourceOwner="SELF")
              for s in p["resourceShares"]]
    assert {s["resourceShareArn"] for s in listed} == set(arns)
    assert all(s["status"] == "ACTIVE" for s in listed)
    # associations filtered to a page's ARNs, paged with a token bound to that filter
    first = ram.get_resource_share_associations(associationType="PRINCIPAL", resourceShareArns=arns[:300])
    rest = ram.get_resource_share_associations(associationType="PRINCIPAL", resourceShareArns=arns[:300],
                                               nextToken=first["nextToken"])
    rows = first["resourceShareAssociations"] + rest["resourceShareAssociations"]
    assert len(rows) == 600 and "nextToken" not in rest
    assert {r["resourceShareArn"] for r in rows} == set(arns[:300])
    assert all(r["status"] == "ASSOCIATED" for r in rows)
    assert {(r["associatedEntity"], r["external"]) for r in rows} == {(member, False), (outside_role, True)}
    with pytest.raises(ClientError) as exc:
        ram.get_resource_share_associations(associationType="PRINCIPAL", resourceShareArns=arns[:10],
                                            nextToken=first["nextToken"])
    assert code(exc) == "InvalidNextTokenException"
    # a principal RAM would refuse refuses the whole seed, as CreateResourceShare refuses it
    for principal, error in [("12345", "InvalidParameterException"),
                             ("arn:aws:sqs:us-east-1:999999999999:q", "MalformedArnException")]:
        refused = standin.control("POST", "/_standin/ram/bulk-shares", {
            "account": MANAGEMENT, "region": "us-east-1",
            "shares": [{"name": "ok", "principals": [member]}, {"name": "bad", "principals": [principal]}]})
        assert (refused.get("status"), refused.get("error")) == (400, error), refused
    closed = standin.control("POST", "/_standin/ram/bulk-shares", {
        "account": MANAGEMENT, "region": "us-east-1",
        "shares": [{"name": "closed", "principals": [outside_role], "allowExternalPrincipals": False}]})
    assert (closed.get("status"), closed.get("error")) == (400, "OperationNotPermittedException"), closed
    assert len(list(ram.get_paginator("get_resource_shares").paginate(resourceOwner="SELF")
                    .search("resourceShares[]"))) == 501
