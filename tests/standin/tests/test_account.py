"""AWS Account Management as ramguard scan reads it: the Regions enabled for an account."""
import pytest
from botocore.exceptions import ClientError

from conftest import MANAGEMENT

SETTINGS = "/_standin/settings"


def code(exc):
    return exc.value.response["Error"]["Code"]


def test_account_regions_are_listed_by_opt_in_status(standin, org):
    """Account ListRegions (`ramguard scan --regions all`): filtered by RegionOptStatusContains,
    MaxResults 1–50, paged (an empty first page when asked)."""
    account = standin.client("account", MANAGEMENT)
    enabled = account.list_regions(RegionOptStatusContains=["ENABLED", "ENABLED_BY_DEFAULT"])["Regions"]
    names = {r["RegionName"] for r in enabled}
    assert "us-east-1" in names and "af-south-1" not in names
    standin.control("POST", SETTINGS, {"account": MANAGEMENT, "enabledRegions": ["af-south-1"],
                                       "emptyFirstPage": ["ListRegions"]})
    first = account.list_regions(RegionOptStatusContains=["ENABLED"], MaxResults=5)
    assert first["Regions"] == [] and first["NextToken"]
    rest = account.list_regions(RegionOptStatusContains=["ENABLED"], MaxResults=5, NextToken=first["NextToken"])
    assert rest["Regions"] == [{"RegionName": "af-south-1", "RegionOptStatus": "ENABLED"}]
    with pytest.raises(ClientError) as too_many:
        account.list_regions(MaxResults=51)
    assert code(too_many) == "ValidationException"
