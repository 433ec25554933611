"""Schemathesis against the service's OpenAPI document: no request it generates gets a 500."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from compliance.config import PROJECT_ROOT, Settings
from compliance.store import Store
from tests.service_helpers import copy_policies, running_service


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    tmp = tmp_path_factory.mktemp("schema")
    shutil.copytree(PROJECT_ROOT / "data", tmp / "data", ignore=shutil.ignore_patterns("*.db", "*.db-*"))
    policies = copy_policies(tmp)
    store = Store.open(Settings(database_url=f"sqlite:///{tmp / 'store.db'}", data_dir=tmp / "data",
                                policy_dir=policies))
    with running_service(store, policies) as service:
        yield schemathesis.openapi.from_url(service.url + "/openapi.json")
    store.dispose()


def test_no_generated_request_gets_a_500(api_schema: schemathesis.BaseSchema) -> None:
    """Each operation's strategy (bodies, queries and headers from the OpenAPI document), bounded examples."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 5
    for operation in operations:
        @settings(max_examples=12, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call()
            assert response.status_code < 500, f"{case.method} {case.path}: {response.text[:300]}"
            assert "Traceback" not in response.text

        check()
