"""AssumeRole is refused for a role that does not exist, as AWS refuses it; DescribeConfigRules
shows an organization rule under its member-side name."""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

MEMBER = "210987654321"


def sts(standin):
    return boto3.client("sts", endpoint_url=standin.url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_assume_role_of_a_missing_role_is_access_denied(standin):
    with pytest.raises(ClientError) as err:
        sts(standin).assume_role(RoleArn=f"arn:aws:iam::{MEMBER}:role/ramguard-member", RoleSessionName="session")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "sts:AssumeRole" in err.value.response["Error"]["Message"]


def test_a_role_created_by_the_control_endpoint_or_iam_can_be_assumed(standin):
    arn = standin.control("POST", "/_standin/iam/role", {"account": MEMBER, "roleName": "ramguard-member"})["arn"]
    assert arn == f"arn:aws:iam::{MEMBER}:role/ramguard-member"
    creds = sts(standin).assume_role(RoleArn=arn, RoleSessionName="session")["Credentials"]
    assert creds["AccessKeyId"]
    iam = standin.client("iam", MEMBER)
    made = iam.create_role(RoleName="other", AssumeRolePolicyDocument="{}", Path="/ramguard/")["Role"]["Arn"]
    assert sts(standin).assume_role(RoleArn=made, RoleSessionName="session")["Credentials"]
    standin.control("DELETE", "/_standin/iam/role", {"account": MEMBER, "roleName": "ramguard-member"})
    with pytest.raises(ClientError, match="AccessDenied"):
        sts(standin).assume_role(RoleArn=arn, RoleSessionName="session")


def test_describe_config_rules_lists_the_member_side_name_of_an_organization_rule(standin):
    config = standin.client("config", MEMBER)
    name = "OrgConfigRule-ramguard-ram-shares-a1b2c3d4"
    config.put_config_rule(ConfigRule={
        "ConfigRuleName": name, "Scope": {"ComplianceResourceTypes": ["AWS::RAM::ResourceShare"]},
        "Source": {"Owner": "CUSTOM_LAMBDA",
                   "SourceIdentifier": "arn:aws:lambda:us-east-1:111122223333:function:ramguard-config-rule",
                   "SourceDetails": [{"EventSource": "aws.config", "MessageType": "ScheduledNotification",
                                      "MaximumExecutionFrequency": "TwentyFour_Hours"}]}})
    names = [r["ConfigRuleName"] for r in config.describe_config_rules()["ConfigRules"]]
    assert name in names
