#!/usr/bin/env python3
"""ramguard preflight: with the credentials that will run `sam deploy`, checks what the deploy and
the functions need, and prints what is missing with the command that fixes it.

    make preflight ARGS="--scope Organization --regions eu-west-1,us-east-1"
    .venv/bin/python scripts/preflight.py --scope Organization --deployed-from DelegatedAdministrator

Checks (each against the AWS API, read-only):
- the organization can be read from this account (ListAccounts: management account or a delegated
  administrator only);
- Organization scope: this account is the management account, or (DelegatedAdministrator) a
  delegated administrator for AWS Config rules and for CloudFormation StackSets; trusted access
  for both services is enabled;
- in every Region: AWS Config is recording; Security Hub is enabled; a CloudTrail trail that logs
  management events is logging (for the near-real-time path);
- the stack name (--stack-name, default ramguard) keeps every name the stack creates within AWS's
  limits: at most MAX_STACK_NAME characters;
- Organization scope: the SCPs can be read from this account (the guardrail coverage needs
  DescribePolicy and ListPoliciesForTarget: the management account, or a delegated administrator
  the organization's resource-based delegation policy names); and, as notes that do not fail the
  preflight, whether SCPs are enabled on the root and which accounts lack ramguard's guardrail
  (`<stack>-ram-guardrail` on no level of their path; the management account is never covered).
Exit status 0 when nothing is missing, 1 otherwise, 2 on bad arguments.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import boto3
from botocore.exceptions import BotoCoreError, ClientError

STACKSETS = "member.org.stacksets.cloudformation.amazonaws.com"
# The longest stack name whose derived names all fit: in each account an organization rule is
# `OrgConfigRule-<stack>-ram-shares-<8 characters>`, and GetComplianceDetailsByConfigRule takes
# rule names of at most 64 characters (StringWithCharLimit64); tests/template checks every name.
MAX_STACK_NAME = 30
CONFIG_RULES = "config-multiaccountsetup.amazonaws.com"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""
    fix: str = ""
    note: bool = False  # said, never missing


# The resource-based delegation policy that lets a delegated administrator read the SCPs
# (Organizations user guide, "Delegated administrator for AWS Organizations").
DELEGATION_POLICY = ('{"Version":"2012-10-17","Statement":[{"Sid":"RamguardReadsPolicies","Effect":"Allow",'
                     '"Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":["organizations:ListRoots",'
                     '"organizations:ListParents","organizations:ListPoliciesForTarget",'
                     '"organizations:DescribePolicy"],"Resource":"*"}]}')


def _pages(call, key: str, **kw) -> list:
    out, token = [], None
    while True:
        page = call(**kw, **({"NextToken": token} if token else {}))
        out += page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return out


def _path_policies(orgs, account: str) -> set[str]:
    """The names of the SCPs attached on the account's path, the root included."""
    names, target = set(), account
    for _ in range(8):
        names |= {p["Name"] for p in _pages(orgs.list_policies_for_target, "Policies", TargetId=target,
                                            Filter="SERVICE_CONTROL_POLICY")}
        parents = _pages(orgs.list_parents, "Parents", ChildId=target)
        if not parents:
            break
        target = parents[0]["Id"]
        if parents[0]["Type"] == "ROOT":
            names |= {p["Name"] for p in _pages(orgs.list_policies_for_target, "Policies", TargetId=target,
                                                Filter="SERVICE_CONTROL_POLICY")}
            break
    return names


def guardrail_checks(session, stack: str) -> list[Check]:
    account = session.client("sts").get_caller_identity()["Account"]
    orgs = session.client("organizations")
    try:
        orgs.describe_policy(PolicyId="p-FullAWSAccess")
        _pages(orgs.list_policies_for_target, "Policies", TargetId=account, Filter="SERVICE_CONTROL_POLICY")
    except (ClientError, BotoCoreError) as err:
        return [Check("SCP reads", False,
                      f"the SCPs cannot be read from {account} ({_code(err)}): the guardrail coverage fails "
                      "(GuardrailUnreadable) until they can",
                      f"aws organizations put-resource-policy --content '{DELEGATION_POLICY % account}'"
                      "  # in the management account; or GuardrailCoverage=false")]
    checks = [Check("SCP reads", True, f"DescribePolicy and ListPoliciesForTarget work from {account}")]
    root = orgs.list_roots()["Roots"][0]
    enabled = any(t["Type"] == "SERVICE_CONTROL_POLICY" and t["Status"] == "ENABLED"
                  for t in root.get("PolicyTypes", []))
    checks.append(Check("SCPs on the root", True, "enabled" if enabled else
                        "not enabled: no SCP has any effect, every account is reported without a guardrail",
                        f"aws organizations enable-policy-type --root-id {root['Id']} "
                        "--policy-type SERVICE_CONTROL_POLICY  # in the management account", note=True))
    management = orgs.describe_organization()["Organization"]["MasterAccountId"]
    name = f"{stack}-ram-guardrail"
    members = [a["Id"] for a in _pages(orgs.list_accounts, "Accounts") if a["Id"] != management]
    lacking = sorted(a for a in members if not enabled or name not in _path_policies(orgs, a))
    detail = (f"{name} is on the path of {len(members) - len(lacking)} of {len(members)} member accounts"
              + (f"; without it: {', '.join(lacking)}" if lacking else "")
              + f"; the management account {management} is never covered by SCPs")
    checks.append(Check("ramguard guardrail", True, detail,
                        "sam deploy ... --parameter-overrides DeployGuardrail=true GuardrailTargetIds=<root or OUs>"
                        if lacking else "", note=True))
    return checks


def _code(err: Exception) -> str:
    return err.response.get("Error", {}).get("Code", "") if isinstance(err, ClientError) else type(err).__name__


def organization_checks(session, scope: str, deployed_from: str) -> list[Check]:
    checks: list[Check] = []
    account = session.client("sts").get_caller_identity()["Account"]
    orgs = session.client("organizations")
    try:
        org = orgs.describe_organization()["Organization"]
    except (ClientError, BotoCoreError) as err:
        return [Check("organization", False, f"account {account} is in no organization ({_code(err)})",
                      "aws organizations create-organization --feature-set ALL  # or join one")]
    management = org["MasterAccountId"]
    checks.append(Check("organization", True, f"{org['Id']}, management account {management}"))
    is_management = account == management
    try:
        orgs.list_accounts(MaxResults=1)
        checks.append(Check("organization read", True, f"ListAccounts works from {account}"))
    except (ClientError, BotoCoreError) as err:
        checks.append(Check(
            "organization read", False,
            f"ListAccounts is refused in {account} ({_code(err)}): only the management account or a delegated "
            "administrator may list the organization's accounts, and every invocation would fail",
            f"aws organizations register-delegated-administrator --account-id {account} "
            f"--service-principal {CONFIG_RULES}  # in the management account {management}"))
    if scope != "Organization":
        return checks
    if deployed_from == "ManagementAccount" and not is_management:
        checks.append(Check("deploying account", False,
                            f"{account} is not the management account {management}",
                            "deploy with the management account's credentials, or pass "
                            "DeployedFrom=DelegatedAdministrator from a delegated administrator"))
    elif deployed_from == "DelegatedAdministrator":
        for service in (CONFIG_RULES, STACKSETS):
            try:
                admins = orgs.list_delegated_administrators(ServicePrincipal=service)["DelegatedAdministrators"]
                registered = any(a["Id"] == account for a in admins)
                detail = "" if registered else f"{account} is not a delegated administrator for {service}"
            except (ClientError, BotoCoreError) as err:
                registered, detail = False, f"cannot list delegated administrators for {service} ({_code(err)})"
            checks.append(Check(f"delegated administrator for {service}", registered, detail,
                                f"aws organizations register-delegated-administrator --account-id {account} "
                                f"--service-principal {service}  # in the management account {management}"))
    try:
        enabled = {s["ServicePrincipal"] for s in
                   orgs.list_aws_service_access_for_organization()["EnabledServicePrincipals"]}
        for service in (STACKSETS, CONFIG_RULES):
            checks.append(Check(f"trusted access for {service}", service in enabled,
                                "" if service in enabled else "not enabled in Organizations",
                                f"aws organizations enable-aws-service-access --service-principal {service}"
                                f"  # in the management account {management}"))
    except (ClientError, BotoCoreError) as err:
        checks.append(Check("trusted access", False, f"cannot be read from {account} ({_code(err)})",
                            "run the preflight with the management account's credentials"))
    return checks


def region_checks(session, region: str) -> list[Check]:
    checks: list[Check] = []
    config = session.client("config", region_name=region)
    try:
        statuses = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
        recording = any(s.get("recording") for s in statuses)
        detail = "" if recording else ("no configuration recorder" if not statuses else "the recorder is stopped")
    except (ClientError, BotoCoreError) as err:
        recording, detail = False, f"cannot be read ({_code(err)})"
    checks.append(Check(f"AWS Config recording in {region}", recording, detail,
                        f"aws configservice start-configuration-recorder --configuration-recorder-name default "
                        f"--region {region}  # after put-configuration-recorder and put-delivery-channel"))
    try:
        session.client("securityhub", region_name=region).describe_hub()
        hub, detail = True, ""
    except (ClientError, BotoCoreError) as err:
        hub, detail = False, f"not enabled ({_code(err)})"
    checks.append(Check(f"Security Hub in {region}", hub, detail,
                        f"aws securityhub enable-security-hub --region {region}"))
    trail = session.client("cloudtrail", region_name=region)
    logging_trail = None
    try:
        for t in trail.describe_trails(includeShadowTrails=True)["trailList"]:
            if not trail.get_trail_status(Name=t["TrailARN"]).get("IsLogging"):
                continue
            selectors = trail.get_event_selectors(TrailName=t["TrailARN"])
            basic = selectors.get("EventSelectors") or []
            advanced = selectors.get("AdvancedEventSelectors") or []
            if advanced or not basic or any(s.get("IncludeManagementEvents", True) for s in basic):
                logging_trail = t["Name"]
                break
        detail = f"trail {logging_trail}" if logging_trail else "no logging trail records management events"
    except (ClientError, BotoCoreError) as err:
        detail = f"cannot be read ({_code(err)})"
    checks.append(Check(f"CloudTrail management events in {region}", logging_trail is not None, detail,
                        "aws cloudtrail create-trail --name ramguard-trail --s3-bucket-name <bucket> "
                        f"--is-multi-region-trail --region {region} && aws cloudtrail start-logging "
                        f"--name ramguard-trail --region {region}"))
    return checks


def stack_name_check(stack: str) -> Check:
    if len(stack) <= MAX_STACK_NAME:
        return Check("stack name", True, f"{stack} ({len(stack)} of at most {MAX_STACK_NAME} characters)")
    return Check("stack name", False,
                 f"{stack} has {len(stack)} characters; at most {MAX_STACK_NAME} keep every name the stack "
                 f"creates within AWS's limits (the rule's name in each account, OrgConfigRule-{stack}-ram-shares-"
                 "<8 characters>, must be at most 64)",
                 f"sam deploy --stack-name {stack[:MAX_STACK_NAME]}  # or another name of at most {MAX_STACK_NAME} characters")


def run(session, scope: str, deployed_from: str, regions: list[str], stack: str = "ramguard") -> list[Check]:
    checks = [stack_name_check(stack)] + organization_checks(session, scope, deployed_from)
    if scope == "Organization":
        checks += guardrail_checks(session, stack)
    for region in regions:
        checks += region_checks(session, region)
    return checks


def report(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        status = "note   " if c.note else "ok     " if c.ok else "MISSING"
        lines.append(f"{status} {c.name}" + (f": {c.detail}" if c.detail else ""))
        if (not c.ok or c.note) and c.fix:
            lines.append(f"        fix: {c.fix}")
    checks = [c for c in checks if not c.note]
    missing = sum(not c.ok for c in checks)
    lines.append(f"{len(checks) - missing} of {len(checks)} prerequisites met"
                 + (f"; {missing} missing" if missing else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None, session=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scope", choices=["Account", "Organization"], default="Account")
    parser.add_argument("--deployed-from", choices=["ManagementAccount", "DelegatedAdministrator"],
                        default="ManagementAccount")
    parser.add_argument("--regions", default="", help="comma-separated (default: the credentials' Region)")
    parser.add_argument("--stack-name", default="ramguard", help="the stack's name (default: ramguard)")
    args = parser.parse_args(argv)
    session = session or boto3.Session()
    regions = [r for r in args.regions.split(",") if r] or [session.region_name or "us-east-1"]
    try:
        checks = run(session, args.scope, args.deployed_from, regions, args.stack_name)
    except (ClientError, BotoCoreError) as err:
        print(f"preflight could not run: {err}", file=sys.stderr)
        return 1
    print(report(checks))
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
