"""scripts/preflight.py against the stand-in: each missing prerequisite is reported with the command
that fixes it, and nothing is reported missing once everything is in place."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import boto3

from conftest import MANAGEMENT

SPEC = importlib.util.spec_from_file_location(
    "preflight", Path(__file__).resolve().parents[3] / "scripts" / "preflight.py")
preflight = importlib.util.module_from_spec(SPEC)
sys.modules["preflight"] = preflight
SPEC.loader.exec_module(preflight)

REGIONS = ["us-east-1", "eu-west-1"]


def session(standin, account: str, monkeypatch) -> boto3.Session:
    monkeypatch.setenv("AWS_ENDPOINT_URL", standin.url)
    sts = boto3.client("sts", endpoint_url=standin.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/standin-test",
                            RoleSessionName="preflight")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"], region_name="us-east-1")


def missing(checks) -> dict[str, str]:
    return {c.name: c.fix for c in checks if not c.ok}


def enable_everything(standin, account: str, region: str) -> None:
    config = standin.client("config", account, region)
    config.put_configuration_recorder(ConfigurationRecorder={
        "name": "default", "roleARN": f"arn:aws:iam::{account}:role/config",
        "recordingGroup": {"allSupported": True}})
    standin.client("s3", account, region).create_bucket(
        Bucket=f"config-{account}-{region}",
        **({} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}))
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": f"config-{account}-{region}"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    standin.client("securityhub", account, region).enable_security_hub()
    trail = standin.client("cloudtrail", account, region)
    trail.create_trail(Name=f"trail-{region}", S3BucketName=f"config-{account}-{region}")
    trail.start_logging(Name=f"trail-{region}")


def test_a_new_organization_misses_every_prerequisite_and_says_how_to_fix_it(standin, org, monkeypatch):
    checks = preflight.run(session(standin, MANAGEMENT, monkeypatch), "Organization", "ManagementAccount", REGIONS)
    gaps = missing(checks)
    assert set(gaps) == {
        f"trusted access for {preflight.STACKSETS}", f"trusted access for {preflight.CONFIG_RULES}",
        *(f"{what} in {r}" for r in REGIONS
          for what in ("AWS Config recording", "Security Hub", "CloudTrail management events"))}
    assert "enable-aws-service-access --service-principal member.org.stacksets" in gaps[
        f"trusted access for {preflight.STACKSETS}"]
    assert gaps["Security Hub in eu-west-1"] == "aws securityhub enable-security-hub --region eu-west-1"
    assert "start-configuration-recorder" in gaps["AWS Config recording in us-east-1"]
    assert "create-trail" in gaps["CloudTrail management events in us-east-1"]
    text = preflight.report(checks)
    assert "MISSING Security Hub in eu-west-1" in text and "8 missing" in text


def test_everything_in_place_passes(standin, org, monkeypatch):
    orgs = standin.client("organizations", MANAGEMENT)
    for service in (preflight.STACKSETS, preflight.CONFIG_RULES):
        orgs.enable_aws_service_access(ServicePrincipal=service)
    for region in REGIONS:
        enable_everything(standin, MANAGEMENT, region)
    s = session(standin, MANAGEMENT, monkeypatch)
    checks = preflight.run(s, "Organization", "ManagementAccount", REGIONS)
    assert missing(checks) == {}
    assert preflight.main(["--scope", "Organization", "--regions", ",".join(REGIONS)], s) == 0
    # a stopped recorder is missing again
    standin.client("config", MANAGEMENT, "eu-west-1").stop_configuration_recorder(ConfigurationRecorderName="default")
    assert set(missing(preflight.run(s, "Account", "ManagementAccount", REGIONS))) == {
        "AWS Config recording in eu-west-1"}


def test_a_plain_member_cannot_read_the_organization_until_it_is_a_delegated_administrator(standin, org, monkeypatch):
    member = org["members"][0]
    for region in REGIONS[:1]:
        enable_everything(standin, member, region)
    s = session(standin, member, monkeypatch)
    gaps = missing(preflight.run(s, "Account", "ManagementAccount", REGIONS[:1]))
    assert set(gaps) == {"organization read"}
    assert f"register-delegated-administrator --account-id {member}" in gaps["organization read"]
    gaps = missing(preflight.run(s, "Organization", "ManagementAccount", REGIONS[:1]))
    assert "deploying account" in gaps

    orgs = standin.client("organizations", MANAGEMENT)
    for service in (preflight.STACKSETS, preflight.CONFIG_RULES):
        orgs.enable_aws_service_access(ServicePrincipal=service)
    orgs.register_delegated_administrator(AccountId=member, ServicePrincipal=preflight.CONFIG_RULES)
    gaps = missing(preflight.run(s, "Organization", "DelegatedAdministrator", REGIONS[:1]))
    assert set(gaps) == {f"delegated administrator for {preflight.STACKSETS}", "SCP reads"}
    orgs.register_delegated_administrator(AccountId=member, ServicePrincipal=preflight.STACKSETS)
    gaps = missing(preflight.run(s, "Organization", "DelegatedAdministrator", REGIONS[:1]))
    # the guardrail coverage reads SCPs: the delegation policy the fix prints lets it
    assert set(gaps) == {"SCP reads"}
    command = gaps["SCP reads"]
    orgs.put_resource_policy(Content=command.split("--content '")[1].split("'")[0])
    assert missing(preflight.run(s, "Organization", "DelegatedAdministrator", REGIONS[:1])) == {}


def test_the_guardrail_notes_say_where_scps_stop_external_sharing(standin, org, monkeypatch):
    s = session(standin, MANAGEMENT, monkeypatch)
    notes = {c.name: c for c in preflight.run(s, "Organization", "ManagementAccount", REGIONS[:1]) if c.note}
    assert "not enabled" in notes["SCPs on the root"].detail
    assert "enable-policy-type" in notes["SCPs on the root"].fix
    orgs = standin.client("organizations", MANAGEMENT)
    root = orgs.list_roots()["Roots"][0]["Id"]
    guarded, other = org["members"]
    orgs.move_account(AccountId=guarded, SourceParentId=root, DestinationParentId=org["nested_ou"]["Id"])
    orgs.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    policy = orgs.create_policy(Name="ramguard-ram-guardrail", Description="", Type="SERVICE_CONTROL_POLICY",
                                Content='{"Version":"2012-10-17","Statement":[{"Effect":"Deny",'
                                        '"Action":"ram:CreateResourceShare","Resource":"*"}]}')
    orgs.attach_policy(PolicyId=policy["Policy"]["PolicySummary"]["Id"], TargetId=org["ou"]["Id"])
    checks = preflight.run(s, "Organization", "ManagementAccount", REGIONS[:1])
    notes = {c.name: c for c in checks if c.note}
    assert notes["SCPs on the root"].detail == "enabled"
    detail = notes["ramguard guardrail"].detail
    assert f"on the path of 1 of 2 member accounts; without it: {other}" in detail
    assert f"the management account {MANAGEMENT} is never covered" in detail
    text = preflight.report(checks)
    assert "note    ramguard guardrail" in text


def test_a_stack_name_too_long_for_awss_name_limits_is_refused_up_front(standin, org, monkeypatch):
    s = session(standin, MANAGEMENT, monkeypatch)
    longest = "r" * preflight.MAX_STACK_NAME
    assert "stack name" not in missing(preflight.run(s, "Account", "ManagementAccount", ["us-east-1"], longest))
    fix = missing(preflight.run(s, "Account", "ManagementAccount", ["us-east-1"], longest + "r"))["stack name"]
    assert f"--stack-name {longest} " in fix
    assert preflight.main(["--stack-name", longest + "r"], s) == 1
