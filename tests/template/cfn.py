"""What CloudFormation does with template.yaml, run here with the same code.

`transform` runs aws-sam-translator (pinned to the version `sam` ships; it is the code behind
`Transform: AWS::Serverless-2016-10-31`) on a packaged copy of the template, as `sam deploy` sends
it: every CodeUri an S3 location. `resolve` then evaluates the transformed template's Conditions
and Fn::If for one set of parameter values, as CloudFormation does when it creates the stack, and
keeps only the resources that would exist. `COMBINATIONS` lists the parameter sets that change
the resources; `python cfn.py OUT_DIR` writes the transformed and resolved template of each, for
cfn-lint and checkov.
"""
from __future__ import annotations

import copy
import logging
import json
import os
import sys
from pathlib import Path

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "111122223333"
REGION = "eu-west-1"
STACK = "ramguard"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/51af3dc0-da77-11e4-872e-1234567db123"
ORGANIZATION = {"OrganizationId": "o-a1b2c3d4e5", "OrganizationRootId": "r-a1b2"}

# Every combination of the parameters that change which resources exist or how they are wired.
COMBINATIONS: dict[str, dict[str, str]] = {}
for scope in ("Account", "Organization"):
    for mode in ("DryRun", "Enforce"):
        for email in ("", "security@example.com"):
            for regions in ("", f"{REGION},us-east-1"):
                name = "-".join([scope.lower(), mode.lower(), "alarm" if email else "noalarm",
                                 "regions" if regions else "oneregion"])
                params = {"DeploymentScope": scope, "RemediationMode": mode, "AlarmEmail": email,
                          "Regions": regions}
                if scope == "Organization":
                    params |= ORGANIZATION
                COMBINATIONS[name] = params
COMBINATIONS["organization-delegated-admin-secondary-region"] = {
    "DeploymentScope": "Organization", "DeployedFrom": "DelegatedAdministrator",
    "Regions": f"us-east-1,{REGION}", "TrustedAccountIds": "444455556666,777788889999",
    "ReservedConcurrency": "5", "RuleConcurrency": "0", **ORGANIZATION}
COMBINATIONS["account-trusted-reserved"] = {
    "TrustedAccountIds": "444455556666", "ReservedConcurrency": "3"}
# the preventive guardrail: created only in Organization scope, by the primary Region's stack
COMBINATIONS["organization-guardrail"] = {"DeploymentScope": "Organization", "DeployGuardrail": "true",
                                          **ORGANIZATION}
COMBINATIONS["organization-guardrail-trusted-invitations-ous"] = {
    "DeploymentScope": "Organization", "DeployGuardrail": "true", "TrustedAccountIds": "444455556666",
    "GuardrailDenyInvitations": "true", "GuardrailInvitationOwnerIds": "444455556666,777788889999",
    "GuardrailTargetIds": "ou-a1b2-abcdefgh,ou-a1b2-ijklmnop", "GuardrailBreakGlassRolePath": "/admin/glass/",
    **ORGANIZATION}
COMBINATIONS["organization-guardrail-delegated-secondary-region"] = {
    "DeploymentScope": "Organization", "DeployedFrom": "DelegatedAdministrator", "DeployGuardrail": "true",
    "GuardrailDenyInvitations": "true", "Regions": f"us-east-1,{REGION}", **ORGANIZATION}
COMBINATIONS["organization-guardrail-delegated"] = {
    "DeploymentScope": "Organization", "DeployedFrom": "DelegatedAdministrator", "DeployGuardrail": "true",
    "GuardrailDenyInvitations": "true", "GuardrailCoverage": "false", **ORGANIZATION}
COMBINATIONS["account-guardrail-asked"] = {"DeployGuardrail": "true"}
# the sharing baseline, read from an SSM parameter
COMBINATIONS["organization-baseline"] = {"DeploymentScope": "Organization",
                                         "BaselineParameterName": "/ramguard/sharing-baseline", **ORGANIZATION}
COMBINATIONS["account-baseline"] = {"BaselineParameterName": "/acme/ram/baseline"}


def source() -> dict:
    template, matches = decode(str(ROOT / "template.yaml"))
    assert not matches, matches
    return template


def packaged(template: dict) -> dict:
    """The template as `sam package` uploads it: local CodeUri paths become S3 locations."""
    out = copy.deepcopy(template)
    for logical_id, resource in out["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://ramguard-artifacts/{logical_id}.zip"
    return out


class _NoManagedPolicies:
    def load(self):
        return {}


def transform(template: dict, parameters: dict[str, str]) -> dict:
    """The SAM transform, as CloudFormation runs it. Raises on any template it refuses."""
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    logging.getLogger("samtranslator").setLevel(logging.ERROR)  # its metrics chatter, not findings
    from samtranslator.translator.transform import transform as sam_transform
    out = sam_transform(copy.deepcopy(template), dict(parameters), _NoManagedPolicies())
    return json.loads(json.dumps(out, default=str))


def parameter_values(template: dict, parameters: dict[str, str]) -> dict:
    """Every parameter's value (defaults filled in), lists split, plus the pseudo parameters."""
    values = {}
    for name, spec in template.get("Parameters", {}).items():
        value = str(parameters.get(name, spec.get("Default", "")))
        values[name] = value.split(",") if spec.get("Type") == "CommaDelimitedList" else value
    values |= {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws",
               "AWS::StackName": STACK, "AWS::StackId": STACK_ID, "AWS::URLSuffix": "amazonaws.com"}
    return values


class _NoValue:
    pass


NO_VALUE = _NoValue()


def resolve(template: dict, parameters: dict[str, str]) -> dict:
    """The template for one parameter set as CloudFormation sees it: conditions evaluated,
    resources and outputs whose condition is false removed, Fn::If branches chosen,
    AWS::NoValue dropped. Other intrinsics are kept as they are."""
    values = parameter_values(template, parameters)
    conditions: dict[str, bool] = {}

    def evaluate(expr):
        if isinstance(expr, bool):
            return expr
        if isinstance(expr, dict) and len(expr) == 1:
            (fn, args), = expr.items()
            if fn == "Condition":
                return condition(args)
            if fn == "Fn::Equals":
                a, b = (value(x) for x in args)
                return str(a) == str(b)
            if fn == "Fn::Not":
                return not evaluate(args[0])
            if fn == "Fn::And":
                return all(evaluate(x) for x in args)
            if fn == "Fn::Or":
                return any(evaluate(x) for x in args)
        raise ValueError(f"not a condition: {expr!r}")

    def value(expr):
        if isinstance(expr, (str, int, float)):
            return expr
        (fn, args), = expr.items()
        if fn == "Ref":
            return values[args]
        if fn == "Fn::Join":
            return args[0].join(str(value(x)) for x in as_list(value_list(args[1])))
        if fn == "Fn::Select":
            return as_list(value_list(args[1]))[int(value(args[0]))]
        if fn == "Fn::Split":
            return str(value(args[1])).split(args[0])
        raise ValueError(f"cannot evaluate {expr!r} in a condition")

    def value_list(expr):
        if isinstance(expr, list):
            return [value(x) for x in expr]
        return value(expr)

    def condition(name: str) -> bool:
        if name not in conditions:
            conditions[name] = evaluate(template["Conditions"][name])
        return conditions[name]

    def walk(node):
        if isinstance(node, dict):
            if len(node) == 1 and "Fn::If" in node:
                name, yes, no = node["Fn::If"]
                return walk(yes if condition(name) else no)
            if node == {"Ref": "AWS::NoValue"}:
                return NO_VALUE
            out = {}
            for k, v in node.items():
                w = walk(v)
                if w is not NO_VALUE:
                    out[k] = w
            return out
        if isinstance(node, list):
            return [w for w in (walk(x) for x in node) if w is not NO_VALUE]
        return node

    out = {k: v for k, v in template.items() if k not in ("Resources", "Outputs", "Conditions", "Rules")}
    out["Parameters"] = {  # the values of this deployment, so linters check them as deployed
        name: {**spec, "Default": parameters.get(name, spec.get("Default", ""))}
        for name, spec in template.get("Parameters", {}).items()}
    for section in ("Resources", "Outputs"):
        kept = {}
        for name, item in template.get(section, {}).items():
            if "Condition" in item and not condition(item["Condition"]):
                continue
            item = {k: v for k, v in item.items() if k != "Condition"}
            kept[name] = walk(item)
        out[section] = kept
    return out


def as_list(v) -> list:
    return v if isinstance(v, list) else [v]


def deployed(name: str) -> dict:
    """The resolved, transformed template of one combination."""
    params = COMBINATIONS[name]
    return resolve(transform(packaged(source()), params), params)


def main(out_dir: str) -> int:
    out = Path(out_dir)
    (out / "transformed").mkdir(parents=True, exist_ok=True)
    (out / "resolved").mkdir(parents=True, exist_ok=True)
    template = packaged(source())
    failed = 0
    for name, params in COMBINATIONS.items():
        try:
            transformed = transform(template, params)
        except Exception as e:  # the transform's refusal, reported per combination
            print(f"SAM transform refused the template for {name} {params}:\n  {e}", file=sys.stderr)
            failed += 1
            continue
        (out / "transformed" / f"{name}.json").write_text(json.dumps(transformed, indent=1))
        (out / "resolved" / f"{name}.json").write_text(json.dumps(resolve(transformed, params), indent=1))
    print(f"SAM transform: {len(COMBINATIONS) - failed} of {len(COMBINATIONS)} parameter combinations accepted")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target/cfn")))
