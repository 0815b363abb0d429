"""Shared test configuration."""

import os

import pytest
from hypothesis import settings

# `dev` keeps a local run quick; `ci` runs 1000 examples per property.
# Choose with HYPOTHESIS_PROFILE=ci.
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("ci", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _run_in_tmp_path(tmp_path, monkeypatch):
    """Commands write reports/ and the history database relative to the working
    directory; keep each test's apart and out of the checkout."""
    monkeypatch.chdir(tmp_path)
