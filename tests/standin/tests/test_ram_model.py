"""RAM's newer sharing model: source constraints (ListSourceAssociations), retained access on
leaving the organization, shares created from a resource-based policy, suspended associations."""
import pytest
from botocore.exceptions import ClientError

from conftest import MANAGEMENT, OUTSIDER
from test_ram import RESOURCE, assocs, code, share


def test_sources_constrain_service_principals_and_are_listed(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    member = org["members"][0]
    s = share(ram, principals=["logs.amazonaws.com"],
              sources=[member, OUTSIDER, f"arn:aws:iam::{OUTSIDER}:role/x", f"{org['org']['Id']}/r-ab12/"])
    arn = s["resourceShareArn"]
    listed = ram.list_source_associations(resourceShareArns=[arn])["sourceAssociations"]
    assert {(a["sourceId"], a["sourceType"], a["status"]) for a in listed} == {
        (member, "ACCOUNT", "ASSOCIATED"), (OUTSIDER, "ACCOUNT", "ASSOCIATED"),
        (f"arn:aws:iam::{OUTSIDER}:role/x", "ARN", "ASSOCIATED"),
        (f"{org['org']['Id']}/r-ab12/", "ORGANIZATION_PATH", "ASSOCIATED")}
    assert all(a["resourceShareArn"] == arn for a in listed)
    # filters and pages
    assert [a["sourceId"] for a in ram.list_source_associations(sourceId=OUTSIDER)["sourceAssociations"]] == [OUTSIDER]
    first = ram.list_source_associations(maxResults=3)
    assert len(first["sourceAssociations"]) == 3 and first["nextToken"]
    rest = ram.list_source_associations(maxResults=3, nextToken=first["nextToken"])
    assert len(rest["sourceAssociations"]) == 1 and "nextToken" not in rest
    # sources are associated and disassociated like principals
    ram.disassociate_resource_share(resourceShareArn=arn, sources=[OUTSIDER])
    status = {a["sourceId"]: a["status"] for a in ram.list_source_associations(resourceShareArns=[arn])["sourceAssociations"]}
    assert status[OUTSIDER] in ("DISASSOCIATING", "DISASSOCIATED")
    with pytest.raises(ClientError) as err:
        ram.associate_resource_share(resourceShareArn=arn, sources=["not a source"])
    assert code(err) == "InvalidParameterException"
    with pytest.raises(ClientError) as err:
        ram.list_source_associations(maxResults=501)
    assert code(err) == "InvalidParameterException"


def test_retained_access_is_reported_in_the_share(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    s = share(ram, principals=[org["members"][0]],
              resourceShareConfiguration={"retainSharingOnAccountLeaveOrganization": True})
    assert s["resourceShareConfiguration"] == {"retainSharingOnAccountLeaveOrganization": True}
    got = ram.get_resource_shares(resourceOwner="SELF", resourceShareArns=[s["resourceShareArn"]])
    assert got["resourceShares"][0]["resourceShareConfiguration"]["retainSharingOnAccountLeaveOrganization"] is True
    plain = share(ram, name="plain", principals=[org["members"][0]])
    assert "resourceShareConfiguration" not in plain


def test_a_share_created_from_a_policy_refuses_changes(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    s = share(ram, principals=[OUTSIDER])
    arn = s["resourceShareArn"]
    out = standin.control("POST", "/_standin/ram/share-state", {"shareArn": arn, "featureSet": "CREATED_FROM_POLICY"})
    assert out["resourceShare"]["featureSet"] == "CREATED_FROM_POLICY"
    got = ram.get_resource_shares(resourceOwner="SELF", resourceShareArns=[arn])["resourceShares"][0]
    assert got["featureSet"] == "CREATED_FROM_POLICY"
    for call in (lambda: ram.disassociate_resource_share(resourceShareArn=arn, principals=[OUTSIDER]),
                 lambda: ram.associate_resource_share(resourceShareArn=arn, principals=["777777777777"]),
                 lambda: ram.update_resource_share(resourceShareArn=arn, allowExternalPrincipals=False)):
        with pytest.raises(ClientError) as err:
            call()
        assert code(err) == "OperationNotPermittedException"
        assert "promoted" in err.value.response["Error"]["Message"]


def test_suspended_associations_are_reported_and_can_be_disassociated(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    s = share(ram, principals=[OUTSIDER])
    arn = s["resourceShareArn"]
    standin.control("POST", "/_standin/ram/share-state",
                    {"shareArn": arn, "associations": [{"entity": OUTSIDER, "status": "SUSPENDED"}]})
    assert assocs(ram, arn)[OUTSIDER]["status"] == "SUSPENDED"
    out = ram.disassociate_resource_share(resourceShareArn=arn, principals=[OUTSIDER])
    assert out["resourceShareAssociations"][0]["status"] == "DISASSOCIATING"
    bad = standin.control("POST", "/_standin/ram/share-state",
                          {"shareArn": arn, "associations": [{"entity": OUTSIDER, "status": "PAUSED"}]})
    assert bad["error"] == "InvalidParameterException"


def test_shared_resources_and_their_permissions_are_listed(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    gateway = f"arn:aws:ec2:us-east-1:{MANAGEMENT}:transit-gateway/tgw-0123456789abcdef0"
    s = ram.create_resource_share(name="s", principals=[OUTSIDER], resourceArns=[RESOURCE, gateway])["resourceShare"]
    arn = s["resourceShareArn"]
    listed = ram.list_resources(resourceOwner="SELF", resourceShareArns=[arn])["resources"]
    assert {(r["arn"], r["type"]) for r in listed} == {(RESOURCE, "ec2:Subnet"), (gateway, "ec2:TransitGateway")}
    perms = ram.list_resource_share_permissions(resourceShareArn=arn)["permissions"]
    assert [(p["name"], p["resourceType"]) for p in perms] == [
        ("AWSRAMDefaultPermissionSubnet", "ec2:Subnet"), ("AWSRAMDefaultPermissionTransitGateway", "ec2:TransitGateway")]
    assert perms[0]["arn"] == "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionSubnet"
    with pytest.raises(ClientError) as err:
        ram.list_resource_share_permissions(resourceShareArn=arn.replace(arn[-6:], "ffffff"))
    assert code(err) == "UnknownResourceException"
