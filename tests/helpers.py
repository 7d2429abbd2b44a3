"""Helpers shared by the test modules: load a script as a module, and keep the data layer offline."""

import contextlib
import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def load_script(path):
    """Imports a script file (week*/..., scripts/...) as a fresh module, without running its main()."""
    path = Path(path)
    name = "_".join(path.resolve().relative_to(REPO).with_suffix("").parts)
    spec = importlib.util.spec_from_file_location(f"course_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def no_download(remote, dest, progress=True):
    raise AssertionError(f"test tried to download {remote.urls}")


@contextlib.contextmanager
def offline_data(cache):
    """Points the data cache at `cache`; any download attempt fails the test."""
    from common import data

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(data.CACHE_ENV, str(cache))
        mp.setattr(data, "download", no_download)
        yield cache


# words of TensorFlow's start-up lines that must never reach a grader's or script's user-facing output
TF_START_UP_WORDS = ("I0000", "E0000", "W0000", "absl::InitializeLog", "cuInit", "oneDNN", "cuda drivers")
TENSORFLOW_STARTUP = ("WARNING: All log messages before absl::InitializeLog()", "I0000 ", "W0000 ", "E0000 ")


def is_tensorflow_startup_line(line):
    """True for the lines TensorFlow's C++ side prints when it is imported (no env var silences them all)."""
    return line.startswith(TENSORFLOW_STARTUP) or "rebuild TensorFlow with the appropriate compiler flags" in line \
        or line.startswith("To enable the following instructions")


def student_file(path, solution, functions, overrides="", imports=("math",)):
    """A student's homework file at `path`: the solution's `functions`, then `overrides` (new definitions replace
    them), with `imports` and NumPy available to the overrides. Returns path."""
    header = "import importlib.util\n" + "".join(f"import {m}\n" for m in imports) + "\nimport numpy as np\n\n\n"
    path.write_text(
        header
        + f"_spec = importlib.util.spec_from_file_location('{Path(solution).stem}_in_test', {str(solution)!r})\n"
        "solution = importlib.util.module_from_spec(_spec)\n"
        "_spec.loader.exec_module(solution)\n"
        + "".join(f"{name} = solution.{name}\n" for name in functions)
        + overrides
    )
    return path


def user_error(main, argv, capsys):
    """Runs main(argv) in this process for an input the user got wrong and returns the one error line the user
    would see: a data error's message, or argparse's "error:" line. Fails unless main exits with a non-zero status.
    (A subprocess shows the same line, after TensorFlow's start-up lines; each script keeps one such test.)"""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    code = exit_info.value.code
    assert code not in (0, None), f"main exited with status {code!r}"
    if isinstance(code, str):
        return code
    lines = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(lines) == 1, f"expected one error line on stderr, got {lines}"
    return lines[0]
