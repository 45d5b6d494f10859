"""`benchmark service` renders the service report for last quarter as the scale agent and as the service
manager (on a tiny scale: that the step runs and answers, not how fast)."""
import io

import pytest
from django.core.management.base import OutputWrapper

from crm import scale
from crm.management.commands._service_bench import benchmark_service
from service.scale import seed_service_scale

pytestmark = pytest.mark.django_db


def test_the_service_benchmark_times_the_report_as_an_agent_and_as_the_manager(roles, picklists):
    scale.seed_scale(customers=200, contacts=200, followups=200, regions=1, branches=2, reps=2, drop_index=False)
    seed_service_scale(400)
    out = io.StringIO()
    benchmark_service(OutputWrapper(out), repeat=2, warmup=0)  # a line per write, as the command's stdout
    report = [line for line in out.getvalue().splitlines() if line.startswith("last quarter")]
    assert [line.split()[2] for line in report] == ["agent", "manager"]
    assert all("HTTP" not in line for line in report), report
