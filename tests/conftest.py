import gc
import os
import sys

import pytest

from tests import fakes, helpers

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory):
    """A download cache with tiny versions of every registered dataset."""
    return fakes.write_cache(tmp_path_factory.mktemp("cache"))


@pytest.fixture
def offline_cache(tiny_cache):
    """Points the data layer at the tiny cache; any download attempt fails the test."""
    with helpers.offline_data(tiny_cache):
        yield tiny_cache


@pytest.fixture(scope="module")
def module_offline_cache(tiny_cache):
    """offline_cache for module-scoped fixtures (a run shared by several tests)."""
    with helpers.offline_data(tiny_cache):
        yield tiny_cache


@pytest.fixture(autouse=True)
def float32_after_each_test():
    """A script may switch Keras to a mixed-precision policy (bfloat16 on AMX CPUs); the next test starts in float32."""
    yield
    if "keras" in sys.modules:
        sys.modules["keras"].mixed_precision.set_global_policy("float32")


@pytest.fixture(scope="module", autouse=True)
def fresh_keras_state_per_module():
    """Frees each module's models and traced functions when the module ends: without it, Keras's global state and
    Python's garbage collector carry every earlier model along, and late modules build models 2-3x slower.
    What survives (TensorFlow, Keras, the session's fixtures) is then frozen: the garbage collector stops walking
    those hundreds of thousands of objects in every later collection."""
    yield
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()
    gc.collect()
    gc.freeze()
