import os

import pytest

from tests import fakes

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory):
    """A download cache with tiny versions of every registered dataset."""
    return fakes.write_cache(tmp_path_factory.mktemp("cache"))


@pytest.fixture
def offline_cache(tiny_cache, monkeypatch):
    """Points the data layer at the tiny cache; any download attempt fails the test."""
    from common import data

    def no_download(remote, dest, progress=True):
        raise AssertionError(f"test tried to download {remote.urls}")

    monkeypatch.setenv(data.CACHE_ENV, str(tiny_cache))
    monkeypatch.setattr(data, "download", no_download)
    return tiny_cache
