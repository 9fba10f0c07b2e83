"""The plugin's checks pass rai's completeness test: a passing and a failing case, each as expected."""

from governance.checks.base import load_all
from governance.checktest import check_cases


def test_the_plugin_check_is_registered_from_its_entry_point():
    assert "example.selection_rate_floor" in load_all()


def test_every_case_of_the_plugin_check_holds():
    assert check_cases(load_all()["example.selection_rate_floor"]) == []
