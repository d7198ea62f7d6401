"""What template.yaml means, checked against the code: least privilege from the shared action list,
the functions' build and runtime, the Config rule, the EventBridge wiring, failure handling and
the org-wide member stack. Lint tools check the form; these tests check the meaning."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.decode import decode, decode_str

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = json.loads((ROOT / "shared/iam-actions.json").read_text())
PLATFORM = set(ACTIONS["platform"])
FUNCTIONS = {  # logical id -> (binary, role)
    "ConfigRuleFunction": ("config-rule", "ConfigRuleRole"),
    "FindingsImporterFunction": ("findings-importer", "FindingsImporterRole"),
    "RemediatorFunction": ("remediator", "RemediatorRole"),
}
# Actions that support no resource-level permissions, the only ones allowed on "*".
NO_RESOURCE_LEVEL = {
    "organizations:ListAccounts", "organizations:ListRoots", "organizations:ListAWSServiceAccessForOrganization",
    "ram:GetResourceShares", "ram:GetResourceShareAssociations", "config:PutEvaluations",
    "config:DescribeConfigRules", "ram:ListSourceAssociations", "ram:ListResources",
    "ram:ListResourceSharePermissions",
}


def load(text: str | None = None) -> dict:
    template, matches = decode_str(str(text)) if text is not None else decode(str(ROOT / "template.yaml"))
    assert not matches, matches
    return template


T = load()
R = T["Resources"]


def statements(policy_doc) -> list[dict]:
    """Every statement, both branches of an Fn::If included."""
    out = []
    for s in policy_doc["Statement"] if isinstance(policy_doc["Statement"], list) else [policy_doc["Statement"]]:
        if isinstance(s, dict) and "Fn::If" in s:
            out += [b for b in s["Fn::If"][1:] if isinstance(b, dict) and "Effect" in b]
        else:
            out.append(s)
    return out


def as_list(v) -> list:
    return v if isinstance(v, list) else [v]


def role_statements(role: dict) -> list[dict]:
    return [s for p in role["Properties"]["Policies"] for s in statements(p["PolicyDocument"])]


def allowed(role: dict) -> set[str]:
    return {a for s in role_statements(role) if s["Effect"] == "Allow" for a in as_list(s["Action"])}


@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_each_role_allows_exactly_what_its_code_calls(function):
    binary, role = FUNCTIONS[function]
    polled = set(ACTIONS["event-sources"].get(binary, []))
    assert allowed(R[role]) == set(ACTIONS["functions"][binary]) | PLATFORM | polled
    assert R[function]["Properties"]["Role"] == {"Fn::GetAtt": [role, "Arn"]}


@pytest.mark.parametrize("role", [r for _, r in FUNCTIONS.values()])
def test_wildcard_resources_only_where_iam_has_no_resource_level(role):
    for s in role_statements(R[role]):
        if s["Resource"] == "*":
            assert set(as_list(s["Action"])) <= NO_RESOURCE_LEVEL, s
        assert not any(a.endswith("*") for a in as_list(s["Action"])), s


def test_member_role_allows_what_the_functions_do_in_member_accounts():
    inner = load(R["MemberStackSet"]["Properties"]["TemplateBody"])
    role = inner["Resources"]["MemberRole"]
    member_side = {a for acts in ACTIONS["functions"].values() for a in acts
                   if not a.startswith(("organizations:", "sts:", "ssm:"))}
    assert allowed(role) == member_side
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${CentralAccountId}:root"}}
    assert trust["Condition"] == {"ArnLike": {"aws:PrincipalArn": {"Ref": "FunctionRoleArnPattern"}},
                                  "StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}
    # the pattern covers exactly the function roles, which all live under the stack's path
    passed = {p["ParameterKey"]: p["ParameterValue"] for p in R["MemberStackSet"]["Properties"]["Parameters"]}
    assert set(passed) == set(inner["Parameters"])
    assert passed["FunctionRoleArnPattern"] == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::StackName}/*"}
    for _, r in FUNCTIONS.values():
        assert R[r]["Properties"]["Path"] == {"Fn::Sub": "/${AWS::StackName}/"}
    # the role is IAM (global): created once per account, in the primary Region, never in the central account
    assert role["Condition"] == "CreatesMemberRole"
    assert inner["Conditions"]["CreatesMemberRole"] == {"Fn::And": [{"Condition": "IsMember"}, {"Condition": "IsPrimaryRegion"}]}
    forward = inner["Resources"]["ForwardComplianceChanges"]["Properties"]
    assert forward["EventPattern"]["detail-type"] == ["Config Rules Compliance Change"]
    assert forward["EventPattern"]["detail"]["configRuleName"] == [{"prefix": {"Ref": "RuleNamePrefix"}}]
    # members' RAM changes reach the central rule function (near-real-time in every account)
    ram_calls = inner["Resources"]["ForwardRamApiCalls"]["Properties"]["EventPattern"]
    assert ram_calls == events("ConfigRuleFunction")["RamApiCalls"]["Pattern"]
    state_changes = inner["Resources"]["ForwardRamStateChanges"]["Properties"]["EventPattern"]
    assert state_changes == events("ConfigRuleFunction")["RamStateChanges"]["Pattern"]
    for rule in ("ForwardComplianceChanges", "ForwardRamApiCalls", "ForwardRamStateChanges"):
        target = inner["Resources"][rule]["Properties"]["Targets"][0]
        assert target["Arn"] == {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${CentralAccountId}:event-bus/default"}


def test_member_stack_is_service_managed_and_auto_deployed():
    p = R["MemberStackSet"]["Properties"]
    assert p["PermissionModel"] == "SERVICE_MANAGED"
    assert p["AutoDeployment"]["Enabled"] is True
    policy = R["CentralEventBusPolicy"]["Properties"]["Statement"]
    assert policy["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}


def test_member_template_lints_clean(tmp_path):
    path = tmp_path / "member.yaml"
    path.write_text(R["MemberStackSet"]["Properties"]["TemplateBody"])
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    out = subprocess.run([str(cfn_lint), str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def bin_names(package: Path) -> set[str]:
    return set(re.findall(r'^name = "([^"]+)"', (package / "Cargo.toml").read_text(), re.M))


@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_functions_build_with_cargo_lambda_for_graviton(function):
    g = T["Globals"]["Function"]
    f = R[function]
    binary = FUNCTIONS[function][0]
    assert f["Metadata"]["BuildMethod"] == "rust-cargolambda"
    assert f["Metadata"]["BuildProperties"]["Binary"] == binary
    assert binary in bin_names(ROOT / f["Properties"]["CodeUri"])
    assert (g["Runtime"], g["Architectures"], g["Handler"]) == ("provided.al2023", ["arm64"], "bootstrap")
    assert f["Properties"]["LoggingConfig"]["LogFormat"] == "JSON"
    assert g["DeadLetterQueue"] == {"Type": "SQS", "TargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}


def test_environment_names_are_the_ones_the_code_reads():
    params_rs = (ROOT / "shared/core/src/params.rs").read_text()
    parameter_names = set(re.findall(r'^\s+"(\w+)",$', params_rs.split("PARAMETER_NAMES")[1].split("];")[0], re.M))
    remediator_rs = (ROOT / "functions/remediator/src/settings.rs").read_text()
    for name in ["REMEDIATION_MODE", "MAX_PRINCIPALS_PER_RUN", "RESTRICT_SHARE", "CONFIG_RULE_NAME", "ENFORCE_BASELINE"]:
        assert f'"{name}"' in remediator_rs
    known = parameter_names | {"CONFIG_RULE_NAME", "REMEDIATION_MODE", "MAX_PRINCIPALS_PER_RUN", "RESTRICT_SHARE",
                               "BASELINE_PARAMETER", "ENFORCE_BASELINE"}
    assert '"BASELINE_PARAMETER"' in (ROOT / "shared/aws/src/baseline.rs").read_text()
    env = dict(T["Globals"]["Function"]["Environment"]["Variables"])
    env.update(R["RemediatorFunction"]["Properties"]["Environment"]["Variables"])
    assert set(env) <= known
    assert env["REMEDIATION_MODE"] == {"Fn::If": ["IsEnforce", "enforce", "dry-run"]}
    assert T["Parameters"]["RemediationMode"]["Default"] == "DryRun"


def test_the_config_rule_runs_on_changes_and_on_schedule_for_shares():
    rule = R["ConfigRule"]["Properties"]
    assert rule["Source"]["Owner"] == "CUSTOM_LAMBDA"
    assert rule["Scope"]["ComplianceResourceTypes"] == ["AWS::RAM::ResourceShare"]
    details = rule["Source"]["SourceDetails"]
    assert {d["MessageType"] for d in details} == {
        "ScheduledNotification", "ConfigurationItemChangeNotification",
        "OversizedConfigurationItemChangeNotification"}
    assert all(d["EventSource"] == "aws.config" for d in details)
    scheduled = [d for d in details if d["MessageType"] == "ScheduledNotification"][0]
    assert scheduled["MaximumExecutionFrequency"] == {"Ref": "EvaluationFrequency"}
    permission = R["ConfigInvokePermission"]["Properties"]
    assert permission["Principal"] == "config.amazonaws.com"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert set(rule["InputParameters"]) == {"TrustedAccountIds", "ExemptTagKey", "FlagAllowExternalPrincipals", "GuardrailCoverage",
                                            "ServicePrincipals"}
    assert rule["InputParameters"]["TrustedAccountIds"] == {
        "Fn::If": ["HasTrustedAccounts", {"Ref": "TrustedAccountIds"}, {"Ref": "AWS::NoValue"}]}


def events(function: str) -> dict:
    return {k: v["Properties"] for k, v in R[function]["Properties"]["Events"].items()}


def test_eventbridge_wiring():
    rule_rs = (ROOT / "shared/core/src/events.rs").read_text()
    near_real_time = re.findall(r'"(\w+)"', rule_rs.split("NEAR_REAL_TIME_EVENTS")[1].split("];")[0])
    ram = events("ConfigRuleFunction")["RamApiCalls"]["Pattern"]
    assert ram["detail-type"] == ["AWS API Call via CloudTrail"]
    assert ram["detail"]["eventName"] == near_real_time
    ours = [{"Fn::Sub": "${AWS::StackName}-ram-shares"}, {"prefix": {"Fn::Sub": "OrgConfigRule-${AWS::StackName}-ram-shares-"}}]
    importer = events("FindingsImporterFunction")["ComplianceChanges"]["Pattern"]
    assert importer["detail-type"] == ["Config Rules Compliance Change"]
    assert importer["detail"]["configRuleName"] == ours
    remediator = events("RemediatorFunction")
    non_compliant = remediator["NonCompliantShares"]["Pattern"]
    assert non_compliant["detail"]["newEvaluationResult"]["complianceType"] == ["NON_COMPLIANT"]
    assert non_compliant["detail"]["configRuleName"] == ours
    action = remediator["SecurityHubCustomAction"]["Pattern"]
    assert action["detail-type"] == ["Security Hub Findings - Custom Action"]
    assert action["resources"] == [{"Fn::GetAtt": ["RemediateActionTarget", "ActionTargetArn"]}]
    assert len(R["RemediateActionTarget"]["Properties"]["Name"]) < 20
    for function in FUNCTIONS:
        for name, e in events(function).items():
            if "Queue" in e:  # an SQS event source: its queue's redrive policy keeps what fails
                continue
            assert e["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}
            assert e["RuleName"]["Fn::Sub"].startswith("${AWS::StackName}-")
    # RAM's own events start the same near-real-time path, with or without a CloudTrail trail
    state_changes = events("ConfigRuleFunction")["RamStateChanges"]["Pattern"]
    assert state_changes == {"source": ["aws.ram"], "detail-type": ["Resource Sharing State Change"]}
    assert re.search(r'RAM_STATE_CHANGE: &str = "Resource Sharing State Change"', rule_rs)


def test_refused_starts_wait_on_a_fifo_queue_for_the_window():
    queue = R["DeferredEvaluationsQueue"]["Properties"]
    rule = R["ConfigRuleFunction"]["Properties"]
    # FIFO: one message per deduplication id in five minutes; the delay is per queue only
    assert queue["FifoQueue"] is True
    window = int(rule["Environment"]["Variables"]["DEFERRED_EVALUATION_SECONDS"])
    assert queue["DelaySeconds"] == window == 60  # StartConfigRulesEvaluation: once per minute
    assert rule["Environment"]["Variables"]["DEFERRED_EVALUATIONS_QUEUE_URL"] == {"Ref": "DeferredEvaluationsQueue"}
    assert queue["VisibilityTimeout"] >= 6 * rule["Timeout"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["DeferredEvaluationsDeadLetterQueue", "Arn"]}
    assert R["DeferredEvaluationsDeadLetterQueue"]["Properties"]["FifoQueue"] is True  # a FIFO queue's DLQ is FIFO
    source = events("ConfigRuleFunction")["DeferredEvaluations"]
    assert source["Queue"] == {"Fn::GetAtt": ["DeferredEvaluationsQueue", "Arn"]}
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    alarms = [r["Properties"] for r in R.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert any(a["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["DeferredEvaluationsDeadLetterQueue", "QueueName"]}
               for a in alarms if a.get("Namespace") == "AWS/SQS")
    code = (ROOT / "functions/config-rule/src/lib.rs").read_text()
    assert "DEFERRED_EVALUATIONS_QUEUE_URL" in code and "DEFERRED_EVALUATION_SECONDS" in code


def test_failures_raise_alarms():
    alarms = [r["Properties"] for r in R.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    watched = {a["Dimensions"][0]["Value"]["Ref"] for a in alarms
               if a.get("Namespace") == "AWS/Lambda" and a["MetricName"] == "Errors"}
    assert watched == set(FUNCTIONS)
    assert any(a.get("MetricName") == "ApproximateNumberOfMessagesVisible" for a in alarms)
    for a in alarms:
        assert a["AlarmActions"] == {"Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]}
    assert R["DeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True
