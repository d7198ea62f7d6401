"""STS AssumeRole as AWS answers it for roles that do not exist: moto's STS hands out credentials
for any role ARN, AWS refuses with AccessDenied (403) when the role is missing or does not trust
the caller (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html, Errors;
https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_roles.html). ramguard relies on
that refusal to tell an account the member stack has not reached.

Deviation: the test harnesses' and the benchmark's own roles (`HARNESS_ROLES`) exist in every account, so tests can act
as any account without creating it first. Member roles are created like the StackSet creates
them, through IAM (CreateRole) or the `/_standin/iam/role` control endpoint.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs

from moto.iam.models import iam_backends

from .protocol import AwsError

HARNESS_ROLES = {"ramguard-test", "standin-test", "bench"}  # the Rust tests', the pytest fixtures' and the benchmark's
ROLE_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)$")
TRUST = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
         '"Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}')


def _backend(account: str, partition: str = "aws"):
    return iam_backends[account][partition]


def role_exists(arn: str) -> bool:
    match = ROLE_ARN_RE.match(arn)
    if not match:
        return False
    partition, account, name = match.groups()
    if name in HARNESS_ROLES:
        return True
    return any(r.arn == arn for r in _backend(account, partition).get_roles())


def check_assume_role(body: bytes, caller: str) -> None:
    """Raises AccessDenied as STS does when the role to assume does not exist."""
    params = parse_qs(body.decode(errors="replace"))
    arn = (params.get("RoleArn") or [""])[0]
    if not role_exists(arn):
        raise AwsError("AccessDenied",
                       f"User: arn:aws:sts::{caller}:assumed-role/caller/session is not authorized to "
                       f"perform: sts:AssumeRole on resource: {arn}", 403)


def create_role(spec: dict) -> dict:
    """Control endpoint: a role in an account, as the member StackSet creates it."""
    account, name = spec["account"], spec["roleName"]
    backend = _backend(account)
    path = spec.get("path", "/")
    role = backend.create_role(role_name=name, assume_role_policy_document=TRUST, path=path,
                               permissions_boundary=None, description="", tags=[], max_session_duration=None)
    return {"arn": role.arn}


def delete_role(spec: dict) -> dict:
    _backend(spec["account"]).delete_role(spec["roleName"])
    return {"deleted": True}


def error_xml(code: str, message: str) -> bytes:
    """STS speaks the query protocol: errors are XML."""
    from xml.sax.saxutils import escape

    return (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            "<RequestId>standin-error</RequestId></ErrorResponse>").encode()
