"""What CloudFormation will create: template.yaml through the SAM transform (the same
aws-sam-translator that `sam deploy` relies on), resolved for each parameter combination that
changes the resources. These tests read the output, not the source YAML."""
from __future__ import annotations

import copy
import json
from functools import lru_cache

import pytest

import cfn

NAMES = list(cfn.COMBINATIONS)


@lru_cache(maxsize=None)
def deployed(name: str) -> dict:
    return cfn.deployed(name)


def resources(name: str, type_: str) -> dict[str, dict]:
    return {k: v for k, v in deployed(name)["Resources"].items() if v["Type"] == type_}


def render(value, values: dict) -> str:
    """A string property of a resolved template: Fn::Sub, Fn::Join, Ref of parameters and pseudo
    parameters, as CloudFormation renders them."""
    if isinstance(value, str):
        return value
    (fn, args), = value.items()
    if fn == "Ref":
        v = values[args]
        return ",".join(v) if isinstance(v, list) else v
    if fn == "Fn::Join":
        return args[0].join(render(x, values) for x in args[1])
    if fn == "Fn::Select":
        items = args[1] if isinstance(args[1], list) else render_list(args[1], values)
        return render(items[int(args[0])], values)
    if fn == "Fn::Sub":
        text = args if isinstance(args, str) else args[0]
        for k, v in values.items():
            text = text.replace("${" + k + "}", ",".join(v) if isinstance(v, list) else str(v))
        assert "${" not in text, text
        return text
    raise AssertionError(f"cannot render {value!r}")


def render_list(value, values: dict) -> list:
    (fn, args), = value.items()
    assert fn == "Fn::Split", value
    return render(args[1], values).split(args[0])


def values(name: str) -> dict:
    return cfn.parameter_values(cfn.source(), cfn.COMBINATIONS[name])


def test_every_combination_is_accepted_by_the_sam_transform():
    for name in NAMES:
        assert deployed(name)["Resources"], name


def test_the_transform_refuses_a_dead_letter_config_with_type_and_arn():
    template = cfn.packaged(cfn.source())
    event = template["Resources"]["ConfigRuleFunction"]["Properties"]["Events"]["RamApiCalls"]
    event["Properties"]["DeadLetterConfig"]["Type"] = "SQS"
    with pytest.raises(Exception, match="either define 'Arn' or 'Type'"):
        cfn.transform(template, cfn.COMBINATIONS[NAMES[0]])


@pytest.mark.parametrize("name", NAMES)
def test_every_eventbridge_target_has_the_dead_letter_queue_and_retries(name):
    rules = resources(name, "AWS::Events::Rule")
    assert rules
    for rule_id, rule in rules.items():
        for target in rule["Properties"]["Targets"]:
            assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}, rule_id
            assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 3, rule_id


@pytest.mark.parametrize("name", NAMES)
def test_config_can_invoke_the_rule_function_from_every_account_it_runs_in(name):
    permissions = [p["Properties"] for p in resources(name, "AWS::Lambda::Permission").values()
                   if p["Properties"]["Principal"] == "config.amazonaws.com"]
    assert len(permissions) == 1
    permission = permissions[0]
    # aws:PrincipalOrgID is never present for a service principal: such a condition never matches
    assert "PrincipalOrgID" not in permission
    if cfn.COMBINATIONS[name].get("DeploymentScope") == "Organization":
        assert "SourceAccount" not in permission and "SourceArn" not in permission
        assert resources(name, "AWS::Config::OrganizationConfigRule")
        assert not resources(name, "AWS::Config::ConfigRule")
    else:
        assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
        assert resources(name, "AWS::Config::ConfigRule")
        assert not resources(name, "AWS::Config::OrganizationConfigRule")


@pytest.mark.parametrize("name", NAMES)
def test_rule_parameters_are_compact_and_never_blank(name):
    v = values(name)
    org_rules = resources(name, "AWS::Config::OrganizationConfigRule")
    rules = resources(name, "AWS::Config::ConfigRule")
    if org_rules:
        (rule,) = org_rules.values()
        text = render(rule["Properties"]["OrganizationCustomRuleMetadata"]["InputParameters"], v)
        params = json.loads(text)
        assert text == json.dumps(params, separators=(",", ":"))
        assert params["ExecutionRoleName"] == f"{cfn.STACK}-member"
    else:
        (rule,) = rules.values()
        params = {k: render(x, v) for k, x in rule["Properties"]["InputParameters"].items()}
    assert all(isinstance(x, str) and x.strip() for x in params.values()), params
    trusted = cfn.COMBINATIONS[name].get("TrustedAccountIds", "")
    assert params.get("TrustedAccountIds", "") == trusted


@pytest.mark.parametrize("name", NAMES)
def test_reserved_concurrency_only_when_asked_for(name):
    """ReservedConcurrency for every function; in Organization scope the rule function gets
    RuleConcurrency (default 2) instead, unless that is 0."""
    combination = cfn.COMBINATIONS[name]
    reserved = combination.get("ReservedConcurrency", "0")
    rule = combination.get("RuleConcurrency", "2")
    functions = resources(name, "AWS::Lambda::Function")
    assert len(functions) == 3
    for logical_id, f in functions.items():
        wanted = reserved
        if logical_id == "ConfigRuleFunction" and combination.get("DeploymentScope") == "Organization" \
                and rule != "0":
            wanted = rule
        got = f["Properties"].get("ReservedConcurrentExecutions")
        if wanted == "0":
            assert got is None, logical_id
        else:
            assert render(got, values(name)) == wanted, logical_id


NAMED = {  # resource type -> the property that names it, for every type the template names
    "AWS::Lambda::Function": "FunctionName", "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Events::Rule": "Name", "AWS::CloudFormation::StackSet": "StackSetName",
    "AWS::Config::ConfigRule": "ConfigRuleName", "AWS::Config::OrganizationConfigRule": "OrganizationConfigRuleName",
    "AWS::SecurityHub::ActionTarget": "Id", "AWS::Events::EventBusPolicy": "StatementId",
    "AWS::IAM::Role": "RoleName",
}


@pytest.mark.parametrize("name", NAMES)
def test_no_fixed_name_collides_between_two_stacks(name):
    """Every name the template gives a resource depends on the stack (its name or its id), so
    two stacks in one account and Region never collide."""
    other = cfn.parameter_values(cfn.source(), cfn.COMBINATIONS[name])
    other["AWS::StackName"] = "ramguard-b"
    other["AWS::StackId"] = cfn.STACK_ID.replace(f"/{cfn.STACK}/51af3dc0", "/ramguard-b/7c1e9a40")
    for logical_id, r in deployed(name)["Resources"].items():
        prop = NAMED.get(r["Type"])
        if prop and prop in r["Properties"]:
            a, b = render(r["Properties"][prop], values(name)), render(r["Properties"][prop], other)
            assert a != b, (logical_id, a)


def test_action_target_id_fits_security_hub():
    (target,) = resources(NAMES[0], "AWS::SecurityHub::ActionTarget").values()
    action_id = render(target["Properties"]["Id"], values(NAMES[0]))
    assert action_id == "ramguard51af3dc0"
    assert action_id.isalnum() and len(action_id) <= 20


def member_template(name: str) -> dict:
    (stack_set,) = resources(name, "AWS::CloudFormation::StackSet").values()
    from cfnlint.decode import decode_str
    inner, matches = decode_str(stack_set["Properties"]["TemplateBody"])
    assert not matches
    return inner


def test_several_regions_one_member_stack_set_from_the_primary_region():
    primary = "organization-dryrun-noalarm-regions"  # Regions=eu-west-1,us-east-1, stack in eu-west-1
    (stack_set,) = resources(primary, "AWS::CloudFormation::StackSet").values()
    group = stack_set["Properties"]["StackInstancesGroup"][0]
    assert group["Regions"] == {"Ref": "Regions"}
    assert values(primary)["Regions"] == [cfn.REGION, "us-east-1"]
    passed = {p["ParameterKey"]: p["ParameterValue"] for p in stack_set["Properties"]["Parameters"]}
    assert passed["PrimaryRegion"] == {"Ref": "AWS::Region"}
    # the stack of the same name in the second Region: its own rule, functions and bus policy, no
    # second StackSet (the member role would collide)
    secondary = "organization-delegated-admin-secondary-region"  # Regions=us-east-1,eu-west-1
    assert not resources(secondary, "AWS::CloudFormation::StackSet")
    assert resources(secondary, "AWS::Config::OrganizationConfigRule")
    assert resources(secondary, "AWS::Events::EventBusPolicy")
    assert len(resources(secondary, "AWS::Lambda::Function")) == 3


def test_one_region_stack_set_targets_this_region():
    (stack_set,) = resources("organization-dryrun-noalarm-oneregion", "AWS::CloudFormation::StackSet").values()
    assert stack_set["Properties"]["StackInstancesGroup"][0]["Regions"] == [{"Ref": "AWS::Region"}]
    assert stack_set["Properties"]["CallAs"] == "SELF"


def test_delegated_administrator_deploys_the_stack_set_as_delegated_admin():
    params = dict(cfn.COMBINATIONS["organization-delegated-admin-secondary-region"], Regions="")
    out = cfn.resolve(cfn.transform(cfn.packaged(cfn.source()), params), params)
    (stack_set,) = [r for r in out["Resources"].values() if r["Type"] == "AWS::CloudFormation::StackSet"]
    assert stack_set["Properties"]["CallAs"] == "DELEGATED_ADMIN"
    assert stack_set["Properties"]["PermissionModel"] == "SERVICE_MANAGED"


def test_member_stack_creates_the_role_once_and_forwards_in_every_region():
    inner = member_template("organization-dryrun-noalarm-regions")
    conditions = inner["Conditions"]
    assert conditions["IsPrimaryRegion"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, {"Ref": "PrimaryRegion"}]}
    assert conditions["IsMember"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AWS::AccountId"}, {"Ref": "CentralAccountId"}]}]}
    res = inner["Resources"]
    assert res["MemberRole"]["Condition"] == "CreatesMemberRole"
    assert {res[k]["Condition"] for k in ("ForwardRole", "ForwardComplianceChanges", "ForwardRamApiCalls")} == {"IsMember"}


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("organization")])
def test_member_role_name_is_the_one_the_functions_assume(name):
    v = values(name)
    role_arns = set()
    for role in resources(name, "AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            for s in policy["PolicyDocument"]["Statement"]:
                if s["Action"] == "sts:AssumeRole":
                    role_arns.add(render(s["Resource"], v))
    assert role_arns == {f"arn:aws:iam::*:role/{cfn.STACK}-member"}
    functions = resources(name, "AWS::Lambda::Function")
    for f in functions.values():
        env = f["Properties"]["Environment"]["Variables"]
        assert render(env["ExecutionRoleName"], v) == f"{cfn.STACK}-member"
    stack_sets = resources(name, "AWS::CloudFormation::StackSet")
    for s in stack_sets.values():
        passed = {p["ParameterKey"]: p["ParameterValue"] for p in s["Properties"]["Parameters"]}
        assert render(passed["MemberRoleName"], v) == f"{cfn.STACK}-member"


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("account")])
def test_account_scope_assumes_no_role(name):
    for role in resources(name, "AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            assert all(s["Action"] != "sts:AssumeRole" for s in policy["PolicyDocument"]["Statement"])
    assert not resources(name, "AWS::CloudFormation::StackSet")
    assert not resources(name, "AWS::Events::EventBusPolicy")


@pytest.mark.parametrize("name", NAMES)
def test_alarms_notify_only_when_an_address_is_given(name):
    topics = resources(name, "AWS::SNS::Topic")
    alarms = resources(name, "AWS::CloudWatch::Alarm")
    assert alarms
    if cfn.COMBINATIONS[name].get("AlarmEmail"):
        assert len(topics) == 1
        assert all(a["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms.values())
    else:
        assert not topics
        assert all("AlarmActions" not in a["Properties"] for a in alarms.values())


@pytest.mark.parametrize("name", NAMES)
def test_remediation_mode_reaches_the_remediator(name):
    (remediator,) = [f for f in resources(name, "AWS::Lambda::Function").values()
                     if f["Properties"]["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-remediator"}]
    mode = remediator["Properties"]["Environment"]["Variables"]["REMEDIATION_MODE"]
    wanted = "enforce" if cfn.COMBINATIONS[name].get("RemediationMode") == "Enforce" else "dry-run"
    assert mode == wanted


def test_resolve_drops_false_conditions():
    template = {"Parameters": {"P": {"Type": "String", "Default": "a"}},
                "Conditions": {"IsA": {"Fn::Equals": [{"Ref": "P"}, "a"]}},
                "Resources": {"X": {"Type": "T", "Condition": "IsA", "Properties": {}},
                              "Y": {"Type": "T", "Properties": {"V": {"Fn::If": ["IsA", 1, {"Ref": "AWS::NoValue"}]}}}}}
    assert set(cfn.resolve(copy.deepcopy(template), {})["Resources"]) == {"X", "Y"}
    out = cfn.resolve(copy.deepcopy(template), {"P": "b"})
    assert set(out["Resources"]) == {"Y"} and out["Resources"]["Y"]["Properties"] == {}


def emitted_metrics() -> set[str]:
    """Every metric name the functions' code emits (Invocation counts and the Errors metric)."""
    import re
    names = {"Errors", "MemberRoleUnavailable"}
    sources = [path for f in ("config-rule", "findings-importer", "remediator")
               for path in (cfn.ROOT / "functions" / f / "src").glob("*.rs")]
    sources.append(cfn.ROOT / "shared/aws/src/metrics.rs")
    for source in sources:
        names |= set(re.findall(r'\.(?:count|millis)\(\s*"(\w+)"', source.read_text()))
    return names


def error_types() -> set[str]:
    import re
    code = (cfn.ROOT / "shared/aws/src/failure.rs").read_text()
    return set(re.findall(r'ErrorType::\w+ => "(\w+)"', code))


def test_alarms_watch_metrics_the_functions_emit_under_the_deployed_names():
    name = NAMES[0]
    v = values(name)
    alarms = resources(name, "AWS::CloudWatch::Alarm")
    emitted = emitted_metrics()
    ours = {}
    for alarm_id, a in alarms.items():
        p = a["Properties"]
        stats = [m["MetricStat"]["Metric"] for m in p.get("Metrics", []) if "MetricStat" in m]
        if p.get("Namespace") == "ramguard":
            stats.append({"MetricName": p["MetricName"], "Dimensions": p["Dimensions"], "Namespace": "ramguard"})
        for s in stats:
            if s["Namespace"] != "ramguard":
                continue
            assert s["MetricName"] in emitted, (alarm_id, s["MetricName"])
            dims = {d["Name"]: render(d["Value"], v) for d in s["Dimensions"]}
            assert dims["Function"].startswith(f"{cfn.STACK}-"), dims
            if "ErrorType" in dims:
                assert dims["ErrorType"] in error_types(), dims
            ours.setdefault(alarm_id, set()).add(s["MetricName"])
    assert ours["RemediationNeedsAPersonAlarm"] == {"SharesRefused", "RemediationsFailed", "RemediationsUnverified"}
    assert ours["FindingsNotImportedAlarm"] == {"Errors"}
    assert ours["OrganizationUnreadableAlarm"] == {"Errors"}
    assert ours["GuardrailUnreadableAlarm"] == {"Errors"}
    assert ours["BadBaselineAlarm"] == {"Errors"}


@pytest.mark.parametrize("name", NAMES)
def test_the_dashboard_is_valid_json_over_emitted_metrics(name):
    (dashboard,) = resources(name, "AWS::CloudWatch::Dashboard").values()
    text, subs = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    v = dict(values(name))
    for key, value in subs.items():
        v[key] = "ramguard-dlq" if isinstance(value, dict) and "Fn::GetAtt" in value else render(value, v)
    body = json.loads(render({"Fn::Sub": text}, v))
    used = set()
    for w in body["widgets"]:
        for row in w["properties"]["metrics"]:
            if isinstance(row[0], str) and row[0] == "ramguard":
                used.add(row[1])
            elif isinstance(row[0], str) and row[0] == ".":
                used.add(row[1])
    used.discard("ApproximateNumberOfMessagesVisible")
    assert used and used <= emitted_metrics(), used - emitted_metrics()
    assert any("Errors" in json.dumps(w) and "ErrorType" in json.dumps(w) for w in body["widgets"])


# The longest stack name the README allows, and AWS's limits on the names ramguard creates from
# it or calls with: Lambda FunctionName, EventBridge rule Name, OrganizationConfigRuleName and
# GetComplianceDetailsByConfigRule's ConfigRuleName (StringWithCharLimit64), IAM RoleName: 64;
# ConfigRuleName 128; StackSetName 128; DashboardName 255.
MAX_STACK_NAME = 30
# In each account an organization rule is `OrgConfigRule-<name>-<suffix>`, the suffix eight
# characters (seen on every organization rule; AWS does not document its length).
ORG_RULE_SUFFIX = 8
LIMITS = {
    ("AWS::Lambda::Function", "FunctionName"): 64,
    ("AWS::Events::Rule", "Name"): 64,
    ("AWS::Config::ConfigRule", "ConfigRuleName"): 64,  # read back with GetComplianceDetailsByConfigRule
    ("AWS::Config::OrganizationConfigRule", "OrganizationConfigRuleName"): 64,
    ("AWS::IAM::Role", "RoleName"): 64,
    ("AWS::CloudFormation::StackSet", "StackSetName"): 128,
    ("AWS::CloudWatch::Dashboard", "DashboardName"): 255,
    ("AWS::CloudWatch::Alarm", "AlarmName"): 255,
    ("AWS::SQS::Queue", "QueueName"): 80,
}


def names_for_stack(name: str, stack: str) -> list[tuple[str, str, int]]:
    """(what, name, limit) for every name the deployed combination creates or calls with, for a
    stack called `stack`."""
    v = values(name) | {"AWS::StackName": stack}
    out = []
    for logical_id, r in deployed(name)["Resources"].items():
        for (type_, prop), limit in LIMITS.items():
            if r["Type"] == type_ and prop in r["Properties"]:
                out.append((f"{logical_id}.{prop}", render(r["Properties"][prop], v), limit))
        if r["Type"] == "AWS::Config::OrganizationConfigRule":
            org_rule = render(r["Properties"]["OrganizationConfigRuleName"], v)
            out.append(("member-side rule name", f"OrgConfigRule-{org_rule}-{'x' * ORG_RULE_SUFFIX}", 64))
        if r["Type"] == "AWS::CloudFormation::StackSet":
            passed = {p["ParameterKey"]: p["ParameterValue"] for p in r["Properties"]["Parameters"]}
            out.append(("member role", render(passed["MemberRoleName"], v), 64))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_every_name_fits_awss_limits_for_the_longest_stack_name_the_readme_allows(name):
    names = names_for_stack(name, "s" * MAX_STACK_NAME)
    assert any(what.endswith("FunctionName") for what, _, _ in names)
    for what, text, limit in names:
        assert len(text) <= limit, f"{what}: {text} ({len(text)} > {limit})"


def test_a_longer_stack_name_breaks_a_limit_so_the_readme_bound_is_exact():
    too_long = names_for_stack("organization-dryrun-noalarm-oneregion", "s" * (MAX_STACK_NAME + 1))
    assert [what for what, text, limit in too_long if len(text) > limit] == ["member-side rule name"]


def test_the_readme_and_preflight_state_the_bound():
    readme = (cfn.ROOT / "README.md").read_text()
    assert f"at most {MAX_STACK_NAME} characters" in readme
    preflight = (cfn.ROOT / "scripts/preflight.py").read_text()
    assert f"MAX_STACK_NAME = {MAX_STACK_NAME}" in preflight


# -- the preventive guardrail ----------------------------------------------------------------------
def rendered(node, v: dict):
    """A resolved property tree with every Fn::Sub and Fn::Split rendered."""
    if isinstance(node, list):
        return [rendered(x, v) for x in node]
    if isinstance(node, dict):
        if len(node) == 1 and next(iter(node)) == "Fn::Split":
            return render_list(node, v)
        if len(node) == 1 and next(iter(node)) == "Ref" and isinstance(v.get(node["Ref"]), list):
            return list(v[node["Ref"]])
        if len(node) == 1 and next(iter(node)) in ("Fn::Sub", "Ref", "Fn::Join"):
            return render(node, v)
        return {k: rendered(x, v) for k, x in node.items()}
    return node


def guardrail(name: str) -> dict | None:
    found = resources(name, "AWS::Organizations::Policy")
    if not found:
        return None
    (policy,) = found.values()
    return rendered(policy["Properties"], values(name))


@pytest.mark.parametrize("name", NAMES)
def test_the_guardrail_exists_only_when_asked_for_in_the_organizations_primary_region(name):
    params = cfn.COMBINATIONS[name]
    primary = not params.get("Regions") or params["Regions"].split(",")[0] == cfn.REGION
    wanted = params.get("DeployGuardrail") == "true" and params.get("DeploymentScope") == "Organization" and primary
    assert (guardrail(name) is not None) == wanted


@pytest.mark.parametrize("name", [n for n in NAMES if guardrail(n) is not None])
def test_the_guardrail_denies_what_the_readme_says_within_the_scp_limit(name):
    params = cfn.COMBINATIONS[name]
    policy = guardrail(name)
    assert policy["Type"] == "SERVICE_CONTROL_POLICY"
    assert policy["Name"] == f"{cfn.STACK}-ram-guardrail"
    targets = params.get("GuardrailTargetIds", "").split(",") if params.get("GuardrailTargetIds") else [
        params["OrganizationRootId"]]
    assert policy["TargetIds"] == targets
    content = policy["Content"]
    # Organizations counts every character of the document; CloudFormation sends it minified
    assert len(json.dumps(content, separators=(",", ":"))) <= 5120
    by_sid = {st["Sid"]: st for st in content["Statement"]}
    path = params.get("GuardrailBreakGlassRolePath", "/ramguard-break-glass/")
    glass = {"aws:PrincipalArn": f"arn:aws:iam::*:role{path}*"}
    assert by_sid["DenyExternalShares"]["Action"] == ["ram:CreateResourceShare", "ram:UpdateResourceShare"]
    assert by_sid["DenyExternalShares"]["Condition"] == {
        "Bool": {"ram:RequestedAllowsExternalPrincipals": "true"}, "ArnNotLike": glass}
    assoc = by_sid["DenyOutsideAssociations"]["Condition"]
    assert assoc["Bool"] == {"ram:AllowsExternalPrincipals": "true"} and assoc["ArnNotLike"] == glass
    trusted = params.get("TrustedAccountIds")
    if trusted:
        assert assoc["ForAnyValue:StringNotEquals"] == {"ram:Principal": trusted.split(",")}
    else:
        assert assoc["Null"] == {"ram:Principal": "false"}
    invitations = by_sid.get("DenyOutsideInvitations")
    assert (invitations is not None) == (params.get("GuardrailDenyInvitations") == "true")
    if invitations and params.get("GuardrailInvitationOwnerIds"):
        assert invitations["Condition"]["StringNotEquals"] == {
            "ram:ShareOwnerAccountId": params["GuardrailInvitationOwnerIds"].split(",")}


def test_the_function_tests_use_the_guardrail_the_template_deploys():
    """tests/fixtures/guardrail-scp.json is what `organization-guardrail` deploys: the functions'
    tests attach it in the stand-in, so its refusals and its coverage are the deployed policy's."""
    content = guardrail("organization-guardrail")["Content"]
    fixture = json.loads((cfn.ROOT / "tests/fixtures/guardrail-scp.json").read_text())
    assert content == fixture


@pytest.mark.parametrize("name", NAMES)
def test_the_functions_read_only_the_baseline_parameter_they_are_given(name):
    wanted = cfn.COMBINATIONS[name].get("BaselineParameterName", "")
    for role in ("ConfigRuleRole", "FindingsImporterRole", "RemediatorRole"):
        statements = [st for p in deployed(name)["Resources"][role]["Properties"]["Policies"]
                      for st in p["PolicyDocument"]["Statement"]]
        reads = [st for st in statements if st.get("Sid") == "ReadBaseline"]
        if not wanted:
            assert reads == [], role
            continue
        (read,) = reads
        assert read["Action"] == "ssm:GetParameter"
        assert render(read["Resource"], values(name)) == f"arn:aws:ssm:{cfn.REGION}:{cfn.ACCOUNT}:parameter{wanted}"
