"""Service control policies as AWS applies them to RAM calls, and the Organizations policy calls
ramguard reads them with: SCPs act only once the policy type is enabled on the root, never on the
management account; an explicit Deny anywhere on the path refuses the call, and so does a level
without an Allow; a break-glass role the policy excepts goes through. Organizations refuses an SCP
over 5,120 characters, an SCP attached before the type is enabled, the detach of an entity's last
SCP, and policy reads from a member account the delegation policy does not name; its policy
listings can answer an empty first page."""
import json

import pytest
from botocore.exceptions import ClientError

from conftest import MANAGEMENT, OUTSIDER

SETTINGS = "/_standin/settings"

GUARDRAIL = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "DenyExternalShares", "Effect": "Deny",
         "Action": ["ram:CreateResourceShare", "ram:UpdateResourceShare"], "Resource": "*",
         "Condition": {"Bool": {"ram:RequestedAllowsExternalPrincipals": "true"},
                       "ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ramguard-break-glass/*"}}},
        {"Sid": "DenyOutsideAssociations", "Effect": "Deny", "Action": "ram:AssociateResourceShare",
         "Resource": "*",
         "Condition": {"Bool": {"ram:AllowsExternalPrincipals": "true"}, "Null": {"ram:Principal": "false"},
                       "ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ramguard-break-glass/*"}}},
    ],
}


def code(exc):
    return exc.value.response["Error"]["Code"]


def _root(orgs):
    return orgs.list_roots()["Roots"][0]["Id"]


def _guardrail_on(standin, org, target):
    orgs = standin.client("organizations", MANAGEMENT)
    orgs.enable_policy_type(RootId=_root(orgs), PolicyType="SERVICE_CONTROL_POLICY")
    policy = orgs.create_policy(Name="ram-guardrail", Description="", Type="SERVICE_CONTROL_POLICY",
                                Content=json.dumps(GUARDRAIL))["Policy"]["PolicySummary"]["Id"]
    orgs.attach_policy(PolicyId=policy, TargetId=target)
    return policy


def _external_share(standin, account, allow=True):
    return standin.client("ram", account).create_resource_share(
        name="x", allowExternalPrincipals=allow, principals=[OUTSIDER],
        resourceArns=[f"arn:aws:ec2:us-east-1:{account}:subnet/subnet-x"])


def test_an_account_under_the_guardrail_is_refused_an_external_share(standin, org):
    orgs = standin.client("organizations", MANAGEMENT)
    inside, outside = org["members"]
    orgs.move_account(AccountId=inside, SourceParentId=_root(orgs), DestinationParentId=org["ou"]["Id"])
    _guardrail_on(standin, org, org["ou"]["Id"])
    with pytest.raises(ClientError) as refused:
        _external_share(standin, inside)
    assert code(refused) == "AccessDeniedException"
    assert "explicit deny in a service control policy" in refused.value.response["Error"]["Message"]
    # inside the organization, and outside the OU, sharing goes on
    standin.client("ram", inside).create_resource_share(name="in", allowExternalPrincipals=False)
    assert _external_share(standin, outside)["resourceShare"]["allowExternalPrincipals"] is True
    # the management account is never under an SCP
    assert _external_share(standin, MANAGEMENT)["resourceShare"]["allowExternalPrincipals"] is True


def test_an_older_external_share_takes_no_outside_principal_under_the_guardrail(standin, org):
    orgs = standin.client("organizations", MANAGEMENT)
    inside = org["members"][0]
    orgs.move_account(AccountId=inside, SourceParentId=_root(orgs), DestinationParentId=org["ou"]["Id"])
    arn = standin.client("ram", inside).create_resource_share(
        name="old", allowExternalPrincipals=True)["resourceShare"]["resourceShareArn"]
    _guardrail_on(standin, org, org["ou"]["Id"])
    ram = standin.client("ram", inside)
    with pytest.raises(ClientError) as refused:
        ram.associate_resource_share(resourceShareArn=arn, principals=[OUTSIDER])
    assert code(refused) == "AccessDeniedException"
    # resources only (no ram:Principal in the request): not what the guardrail stops
    ram.associate_resource_share(resourceShareArn=arn,
                                 resourceArns=[f"arn:aws:ec2:us-east-1:{inside}:subnet/subnet-y"])
    # turning external sharing off is never refused
    ram.update_resource_share(resourceShareArn=arn, allowExternalPrincipals=False)


def test_a_break_glass_role_goes_through(standin, org):
    orgs = standin.client("organizations", MANAGEMENT)
    inside = org["members"][0]
    orgs.move_account(AccountId=inside, SourceParentId=_root(orgs), DestinationParentId=org["ou"]["Id"])
    _guardrail_on(standin, org, org["ou"]["Id"])
    role = standin.control("POST", "/_standin/iam/role",
                           {"account": inside, "roleName": "admin", "path": "/ramguard-break-glass/"})["arn"]
    import boto3

    creds = boto3.client("sts", endpoint_url=standin.url, region_name="us-east-1", aws_access_key_id="testing",
                         aws_secret_access_key="testing").assume_role(
        RoleArn=role, RoleSessionName="glass")["Credentials"]
    ram = boto3.client("ram", endpoint_url=standin.url, region_name="us-east-1",
                       aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"])
    made = ram.create_resource_share(name="glass", allowExternalPrincipals=True, principals=[OUTSIDER])
    assert made["resourceShare"]["allowExternalPrincipals"] is True


def test_scps_act_only_once_enabled_and_a_level_without_allow_refuses(standin, org):
    orgs = standin.client("organizations", MANAGEMENT)
    member = org["members"][0]
    policy = orgs.create_policy(Name="ec2-only", Description="", Type="SERVICE_CONTROL_POLICY",
                                Content=json.dumps({"Version": "2012-10-17", "Statement": [
                                    {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}))
    pid = policy["Policy"]["PolicySummary"]["Id"]
    with pytest.raises(ClientError) as not_enabled:
        orgs.attach_policy(PolicyId=pid, TargetId=member)
    assert code(not_enabled) == "PolicyTypeNotEnabledException"
    orgs.enable_policy_type(RootId=_root(orgs), PolicyType="SERVICE_CONTROL_POLICY")
    orgs.attach_policy(PolicyId=pid, TargetId=member)
    orgs.detach_policy(PolicyId="p-FullAWSAccess", TargetId=member)
    with pytest.raises(ClientError) as refused:
        _external_share(standin, member)
    assert code(refused) == "AccessDeniedException"
    assert "no service control policy allows" in refused.value.response["Error"]["Message"]


def test_organizations_refuses_what_aws_refuses_for_policies(standin, org):
    orgs = standin.client("organizations", MANAGEMENT)
    orgs.enable_policy_type(RootId=_root(orgs), PolicyType="SERVICE_CONTROL_POLICY")
    big = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "ram:CreateResourceShare", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:PrincipalAccount": [f"{n:012d}" for n in range(400)]}}}]}
    with pytest.raises(ClientError) as too_big:
        orgs.create_policy(Name="big", Description="", Type="SERVICE_CONTROL_POLICY", Content=json.dumps(big))
    assert code(too_big) == "ConstraintViolationException"
    assert too_big.value.response["Reason"] == "POLICY_CONTENT_LIMIT_EXCEEDED"
    with pytest.raises(ClientError) as last:
        orgs.detach_policy(PolicyId="p-FullAWSAccess", TargetId=org["members"][0])
    assert code(last) == "ConstraintViolationException"
    assert last.value.response["Reason"] == "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"


def test_policy_reads_need_the_management_account_or_the_delegation_policy(standin, org):
    orgs = standin.client("organizations", MANAGEMENT)
    admin = org["members"][0]
    member_orgs = standin.client("organizations", admin)
    with pytest.raises(ClientError) as refused:
        member_orgs.describe_policy(PolicyId="p-FullAWSAccess")
    assert code(refused) == "AccessDeniedException"
    orgs.put_resource_policy(Content=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{admin}:root"},
        "Action": ["organizations:DescribePolicy", "organizations:ListPoliciesForTarget",
                   "organizations:ListParents", "organizations:ListRoots"], "Resource": "*"}]}))
    assert member_orgs.describe_policy(PolicyId="p-FullAWSAccess")["Policy"]["PolicySummary"]["Name"] == "FullAWSAccess"
    listed = member_orgs.list_policies_for_target(TargetId=admin, Filter="SERVICE_CONTROL_POLICY")["Policies"]
    assert [p["Id"] for p in listed] == ["p-FullAWSAccess"]


def test_path_listings_can_answer_an_empty_first_page(standin, org):
    orgs = standin.client("organizations", MANAGEMENT)
    member = org["members"][0]
    standin.control("POST", SETTINGS, {"account": MANAGEMENT,
                                       "emptyFirstPage": ["ListPoliciesForTarget", "ListParents"]})
    first = orgs.list_policies_for_target(TargetId=member, Filter="SERVICE_CONTROL_POLICY")
    assert first["Policies"] == [] and first["NextToken"]
    rest = orgs.list_policies_for_target(TargetId=member, Filter="SERVICE_CONTROL_POLICY",
                                         NextToken=first["NextToken"])
    assert [p["Id"] for p in rest["Policies"]] == ["p-FullAWSAccess"]
    first = orgs.list_parents(ChildId=member)
    assert first["Parents"] == [] and first["NextToken"]
    assert orgs.list_parents(ChildId=member, NextToken=first["NextToken"])["Parents"][0]["Type"] == "ROOT"


def test_config_takes_account_evaluations_and_refuses_unknown_types(standin):
    from test_config import event, put_rule

    put_rule(standin)
    cfg = standin.client("config", MANAGEMENT)
    token = event(standin)["resultToken"]
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    cfg.put_evaluations(ResultToken=token, Evaluations=[{
        "ComplianceResourceType": "AWS::::Account", "ComplianceResourceId": MANAGEMENT,
        "ComplianceType": "NOT_APPLICABLE", "OrderingTimestamp": now}])
    with pytest.raises(ClientError) as unknown:
        cfg.put_evaluations(ResultToken=token, Evaluations=[{
            "ComplianceResourceType": "AWS::RAM::Share", "ComplianceResourceId": "x",
            "ComplianceType": "COMPLIANT", "OrderingTimestamp": now}])
    assert code(unknown) == "ValidationException"
    assert "is invalid. Only the following values are permitted" in unknown.value.response["Error"]["Message"]



def test_the_structure_the_baseline_reads_is_the_management_accounts(standin, org):
    """OUs, the accounts under each parent and account tags: the management account (or a
    delegated administrator) reads them; a member account is refused, as AWS refuses it."""
    orgs = standin.client("organizations", MANAGEMENT)
    member = org["members"][0]
    orgs.tag_resource(ResourceId=member, Tags=[{"Key": "env", "Value": "production"}])
    assert orgs.list_tags_for_resource(ResourceId=member)["Tags"] == [{"Key": "env", "Value": "production"}]
    root = orgs.list_roots()["Roots"][0]["Id"]
    ous = orgs.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
    assert [o["Id"] for o in ous] == [org["ou"]["Id"]]
    for call in ("list_tags_for_resource", "list_organizational_units_for_parent"):
        with pytest.raises(ClientError) as refused:
            kwargs = {"ResourceId": member} if call == "list_tags_for_resource" else {"ParentId": root}
            getattr(standin.client("organizations", member), call)(**kwargs)
        assert code(refused) == "AccessDeniedException"
