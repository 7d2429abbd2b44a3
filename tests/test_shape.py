"""The script shape students rely on: plain module-level code, functions usable from a REPL or a notebook."""

import ast
from pathlib import Path

import pytest

from tests.helpers import load_script

REPO = Path(__file__).resolve().parents[1]
WEEK_SCRIPTS = sorted(p for p in REPO.glob("week*/**/*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("path", WEEK_SCRIPTS, ids=[p.relative_to(REPO).as_posix() for p in WEEK_SCRIPTS])
def test_plain_shape(path):
    """No `global`, no `x = y = None` placeholders filled later, a module-level PARSER and main(argv=None)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Global)], f"{path.name} uses `global`"
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value is None:
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            pytest.fail(f"{path.name}: module-level placeholder {' = '.join(names)} = None")
    top = {n.targets[0].id for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)}
    assert "PARSER" in top, f"{path.name} should build its PARSER at module level"
    mains = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"]
    assert mains and [a.arg for a in mains[0].args.args][:1] == ["argv"], f"{path.name} needs main(argv=None)"
    first_default = mains[0].args.defaults[-len(mains[0].args.args)] if mains[0].args.defaults else None
    assert isinstance(first_default, ast.Constant) and first_default.value is None, f"{path.name}: main(argv=None)"
    assert not any(isinstance(n, ast.FunctionDef) and n.name == "import_tensorflow" for n in tree.body)


def test_functions_work_when_imported(offline_cache, tmp_path):
    """What a student does in a notebook cell: import the script and call its stages with plain arguments."""
    import numpy as np

    cnn = load_script(REPO / "week1/mnist_cnn.py")
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = cnn.load_data(smoke=True)
    assert x_train.shape[1:] == (28, 28, 1) and len(x_val) == cnn.SMOKE_VALIDATION
    model = cnn.build_model(learning_rate=3e-3, dropout=0.25, total_steps=40)
    assert model.predict(x_test[:3], verbose=0).shape == (3, 10)
    history, seconds = cnn.train(model, x_train, y_train, x_val, y_val, epochs=2, batch_size=32, log_dir=tmp_path)
    assert history.history["val_accuracy"][-1] > 0.5 and seconds > 0  # the fake digits are easy to learn
    accuracy = float(np.mean(model.predict(x_test, verbose=0).argmax(axis=1) == y_test))
    assert accuracy > 0.5


def test_no_script_shadows_a_library():
    """`python scripts/x.py` puts scripts/ first on sys.path: a scripts/tensorboard.py would hide the real TensorBoard."""
    import importlib.util

    folders = ["scripts", "docs", *sorted(p.relative_to(REPO).as_posix() for p in REPO.glob("week*/**/") if p.is_dir())]
    for folder in folders:
        for path in (REPO / folder).glob("*.py"):
            spec = importlib.util.find_spec(path.stem) if path.stem.isidentifier() else None
            origin = Path(spec.origin).resolve() if spec and spec.origin else None
            assert spec is None or origin == path.resolve() or "site-packages" not in str(origin), (
                f"{folder}/{path.name} has the name of the installed package {path.stem!r}"
            )
