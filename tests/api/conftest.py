"""The CLI fixture under a name that does not shadow the ``rai`` package these tests import."""

from __future__ import annotations

import pytest


@pytest.fixture
def rai_cli(request):
    """``rai_cli(*args) -> (exit code, stdout, stderr)``: the in-process CLI of tests/conftest.py."""
    return request.getfixturevalue("rai")
