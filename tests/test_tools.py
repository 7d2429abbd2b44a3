"""scripts/: download_data, run_all and benchmark, on tiny data with no network."""

import json
import re
from pathlib import Path

import pytest

from tests.helpers import load_script

REPO = Path(__file__).resolve().parents[1]


def load(name):
    return load_script(REPO / "scripts" / f"{name}.py")


def test_download_data_reports_cached_and_failed(offline_cache, tmp_path, monkeypatch, capsys):
    download_data = load("download_data")
    assert download_data.main(["--list"]) == 0
    assert "cached in" in capsys.readouterr().out
    assert download_data.main(["--only", "mnist", "--only", "iris"]) == 0
    assert "2 of 2 datasets ready" in capsys.readouterr().out

    # An empty cache with no network: the failure is reported, and the exit status says so.
    from common import data

    def unreachable(remote, dest, progress=True):
        raise data.DataError(f"could not download {remote.filename}")

    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "empty"))
    monkeypatch.setattr(data, "download", unreachable)
    assert download_data.main(["--only", "mnist"]) == 1
    assert "FAILED  mnist" in capsys.readouterr().out


def test_run_all_finds_week_scripts_but_not_homework_templates():
    run_all = load("run_all")
    names = [p.relative_to(REPO).as_posix() for p in run_all.find_scripts()]
    assert "week1/mnist_softmax_regression.py" in names
    assert not any(n.startswith("week1/homework/") and not n.endswith("_solution.py") for n in names)


def test_run_all_smoke_table(offline_cache, capsys):
    run_all = load("run_all")
    assert run_all.main(["--smoke", "--only", "mnist_softmax_regression"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"week1/mnist_softmax_regression.py\s+pass", out), out
    assert "1 passed, 0 failed" in out


def test_cifar10_recipe_trials_smoke(offline_cache, tmp_path, capsys):
    trials = load("cifar10_recipe_trials")
    with pytest.raises(SystemExit):
        trials.main(["--only", "nonsense"])
    assert "unknown variant(s) nonsense" in capsys.readouterr().err
    out = tmp_path / "trials.json"
    results = trials.main(["--smoke", "--only", "cur10,air10", "--out", str(out)])
    assert list(results) == ["cur10", "air10"] == list(json.loads(out.read_text()))
    for r in results.values():
        assert r["epochs"] == 1 and 0 <= r["plain"] <= 1 and 0 <= r["tta"] <= 1 and r["epoch_seconds"] > 0
    assert results["air10"]["lookahead"] and not results["cur10"]["lookahead"]
    printed = capsys.readouterr().out
    assert re.search(r"cur10\s+no TTA 0\.\d{4}\s+mirror 0\.\d{4}\s+mirror\+shifts 0\.\d{4}", printed), printed


def test_benchmark_records_and_renders(offline_cache, tmp_path):
    benchmark = load("benchmark")
    record = benchmark.run(
        REPO / "week1/mnist_softmax_regression.py", ["--smoke"], results_dir=tmp_path / "results", log_root=tmp_path / "runs"
    )
    stored = json.loads((tmp_path / "results" / "week1_mnist_softmax_regression.json").read_text())
    assert stored == record
    assert 0 <= stored["metrics"]["test_accuracy"] <= 1 and stored["wall_seconds"] > 0
    assert stored["tensorflow"] and stored["device"].startswith("CPU")
    assert stored["command"] == "python week1/mnist_softmax_regression.py --smoke"

    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{benchmark.BEGIN}\nstale\n{benchmark.END}\noutro\n")
    assert benchmark.render_readme(readme, tmp_path / "results")
    text = readme.read_text()
    assert "stale" not in text and "intro" in text and "outro" in text
    row = next(line for line in text.splitlines() if "mnist_softmax_regression" in line)
    assert f"test_accuracy {stored['metrics']['test_accuracy']:.4f}" in row


def test_readme_table_matches_results():
    """The committed README table is exactly what results/ renders (no hand-edited numbers)."""
    benchmark = load("benchmark")
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text.split(benchmark.BEGIN, 1)[1].split(benchmark.END, 1)[0].strip()
    assert table == benchmark.render_table(benchmark.load_results()).strip()


@pytest.mark.parametrize("path", sorted((REPO / "results").glob("*.json")), ids=lambda p: p.name)
def test_results_records_are_complete(path):
    record = json.loads(path.read_text())
    for key in ("script", "command", "metrics", "wall_seconds", "device", "tensorflow", "machine"):
        assert record.get(key) is not None, f"{path.name} lacks {key}"
    assert (REPO / record["script"]).exists()
