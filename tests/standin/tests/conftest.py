"""Fixtures: one stand-in server per test session on a free loopback port, reset before each test,
and boto3 clients that act as a chosen account through assumed-role credentials."""
from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any, Callable

import boto3
import pytest
from werkzeug.serving import make_server

from ramguard_standin.app import StandIn
from ramguard_standin.configsvc import allow_custom_lambda_rules

REGION = "us-east-1"


class StandInServer:
    def __init__(self) -> None:
        allow_custom_lambda_rules()
        from moto.moto_server.werkzeug_app import MotoRequestHandler

        class Quiet(MotoRequestHandler):
            def log_request(self, *args, **kwargs) -> None:
                pass

        self.server = make_server("127.0.0.1", 0, StandIn(), threaded=True, request_handler=Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self._creds: dict[str, dict] = {}

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return {"status": err.code, **json.loads(err.read())}

    def client(self, service: str, account: str | None = None, region: str = REGION) -> Any:
        kwargs: dict[str, Any] = {"endpoint_url": self.url, "region_name": region}
        if account is None:
            kwargs.update(aws_access_key_id="testing", aws_secret_access_key="testing")
        else:
            creds = self._creds.get(account)
            if creds is None:
                sts = boto3.client("sts", endpoint_url=self.url, region_name=region,
                                   aws_access_key_id="testing", aws_secret_access_key="testing")
                creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/standin-test",
                                        RoleSessionName="standin-test")["Credentials"]
                self._creds[account] = creds
            kwargs.update(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                          aws_session_token=creds["SessionToken"])
        from botocore.config import Config

        kwargs["config"] = Config(retries={"total_max_attempts": 1, "mode": "standard"}, parameter_validation=False)
        return boto3.client(service, **kwargs)

    def reset(self) -> None:
        self.control("POST", "/_standin/reset")
        self._creds.clear()


@pytest.fixture(scope="session")
def server() -> StandInServer:
    srv = StandInServer()
    yield srv
    srv.server.shutdown()


@pytest.fixture
def standin(server: StandInServer) -> StandInServer:
    server.reset()
    return server


MANAGEMENT = "111111111111"
OUTSIDER = "999999999999"


@pytest.fixture
def org(standin: StandInServer) -> dict:
    """An organization: management account, two members, a nested OU, sharing with the org enabled."""
    orgs = standin.client("organizations", MANAGEMENT)
    org = orgs.create_organization(FeatureSet="ALL")["Organization"]
    members = []
    for name in ("dev", "prod"):
        status = orgs.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        members.append(status["AccountId"])
    root = orgs.list_roots()["Roots"][0]["Id"]
    top = orgs.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]
    nested = orgs.create_organizational_unit(ParentId=top["Id"], Name="teams")["OrganizationalUnit"]
    standin.client("ram", MANAGEMENT).enable_sharing_with_aws_organization()
    return {"org": org, "members": members, "ou": top, "nested_ou": nested, "management": MANAGEMENT}


Error = Callable[..., Any]
