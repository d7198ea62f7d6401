"""AWS Account Management: ListRegions, as `ramguard scan --regions all` reads the Regions enabled
for an account (Account API reference, ListRegions: `RegionOptStatusContains` filters on
ENABLED, ENABLING, DISABLING, DISABLED, ENABLED_BY_DEFAULT; `MaxResults` 1–50; `NextToken`).
moto does not serve it. The Regions enabled by default are every account's; opt-in Regions are
DISABLED unless a test enables them (`/_standin/settings` `enabledRegions`)."""
from __future__ import annotations

from . import state
from .protocol import AwsError, Call, paginate

BY_DEFAULT = ["ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
              "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2",
              "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"]
OPT_IN = ["af-south-1", "ap-east-1", "eu-south-1", "me-south-1"]
STATUSES = {"ENABLED", "ENABLING", "DISABLING", "DISABLED", "ENABLED_BY_DEFAULT"}


def list_regions(call: Call, p: dict) -> dict:
    limit = p.get("MaxResults", 50)
    if not isinstance(limit, int) or not 1 <= limit <= 50:
        raise AwsError("ValidationException", "MaxResults must be between 1 and 50.")
    wanted = set(p.get("RegionOptStatusContains") or STATUSES)
    if not wanted <= STATUSES:
        raise AwsError("ValidationException", f"RegionOptStatusContains holds an unknown status: {sorted(wanted - STATUSES)}")
    enabled = state.settings_for(call.account).enabled_regions
    regions = [{"RegionName": r, "RegionOptStatus": "ENABLED_BY_DEFAULT"} for r in BY_DEFAULT]
    regions += [{"RegionName": r, "RegionOptStatus": "ENABLED" if r in enabled else "DISABLED"} for r in OPT_IN]
    regions = sorted((r for r in regions if r["RegionOptStatus"] in wanted), key=lambda r: r["RegionName"])
    page, token = paginate(regions, limit, p.get("NextToken"), f"lr:{call.account}", "ValidationException",
                           state.empty_first(call))
    out: dict = {"Regions": page}
    if token:
        out["NextToken"] = token
    return out


def handle(call: Call) -> dict:
    if call.operation == "ListRegions":
        return list_regions(call, call.params)
    raise AwsError("UnknownOperationException", f"The stand-in does not implement Account operation {call.operation}.")
