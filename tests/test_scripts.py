"""Every week script, run in-process in --smoke mode on tiny generated data.

New scripts are collected automatically. The generic checks apply to all of them;
EXPECT adds what a user of a particular script would look at.
"""

import json
import math
from pathlib import Path

import pytest

from tests.helpers import load_script

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(
    p for p in REPO.glob("week*/**/*.py") if not p.name.startswith("_") and "homework" not in p.parts
)

# Per script: scalar tags that must be logged (and whether the first must fall over the run),
# metric keys with their allowed range, and files the run folder must hold.
EXPECT = {
    "mnist_softmax_regression": {
        "scalars": ["train/epoch_loss", "train/epoch_accuracy", "test/epoch_loss", "test/epoch_accuracy"],
        "falls": "train/epoch_loss",
        "metrics": {"test_accuracy": (0.3, 1.0), "train_seconds": (0, 120)},
        "files": ["weights.png"],
    },
    "mnist_mlp": {
        "scalars": ["train/epoch_loss", "train/epoch_accuracy", "validation/epoch_accuracy"],
        "falls": "train/epoch_loss",
        "metrics": {"test_accuracy": (0.3, 1.0), "val_accuracy": (0.3, 1.0)},
        "files": ["first_layer.png"],
    },
    "mnist_autoencoder": {
        "scalars": ["train/epoch_loss", "train/epoch_mse", "validation/epoch_mse"],
        "falls": "train/epoch_mse",
        "metrics": {"test_mse": (0.0, 0.1)},
        "files": ["reconstructions.png"],
    },
    "mnist_stacked_autoencoder": {
        "scalars": ["pretrain_1/train/epoch_loss", "pretrain_2/train/epoch_loss", "softmax_frozen/train/epoch_accuracy",
                    "finetune/train/epoch_loss", "finetune/validation/epoch_accuracy"],
        "falls": "finetune/train/epoch_loss",
        "metrics": {"test_accuracy": (0.3, 1.0), "frozen_features_test_accuracy": (0.0, 1.0)},
        "files": ["features.png", "stages.png"],
    },
    "mnist_cnn": {
        "scalars": ["train/epoch_loss", "train/epoch_accuracy", "validation/epoch_accuracy"],
        "falls": "train/epoch_loss",
        "metrics": {"test_accuracy": (0.5, 1.0), "val_accuracy": (0.5, 1.0), "train_seconds": (0, 120)},
        "files": ["filters.png", "mistakes.png"],
    },
    "gradient_descent": {
        "scalars": ["alpha_small/loss", "alpha_good/loss", "alpha_large/loss",
                    "batch/epoch_loss", "minibatch/epoch_loss", "sgd/epoch_loss"],
        "falls": "alpha_good/loss",
        "metrics": {"diverged_alpha_large": (1, 1), "diverged_alpha_good": (0, 0), "final_loss_alpha_good": (0.1, 1.0),
                    "final_loss_alpha_large": (10, 1e12), "final_loss_sgd": (0.1, 0.5)},
        "files": ["alpha_paths.png", "gd_variants.png"],
    },
    "backprop_numpy": {
        "scalars": ["train/loss", "train/accuracy"],
        "falls": "train/loss",
        "metrics": {"grad_check_finite_diff": (0, 1e-6), "grad_check_gradient_tape": (0, 1e-6),
                    "xor_accuracy": (0.0, 1.0), "final_loss": (0.0, 0.7)},
        "files": ["backprop_xor.png"],
    },
    "activation_functions": {
        "scalars": ["sigmoid/loss", "relu/loss", "sigmoid/grad_norm_init/layer_01", "relu/grad_norm_init/layer_01",
                    "sigmoid/grad_norm/layer_01", "relu/grad_norm/layer_11"],
        "metrics": {"max_derivative_error": (0, 1e-6), "grad_norm_ratio_sigmoid_to_relu": (0, 1e-2),
                    "grad_norm_first_layer_relu": (1e-3, 1.0)},
        "files": ["activations.png", "vanishing_gradients.png"],
    },
    "mse_vs_cross_entropy": {
        "scalars": ["mse/loss", "mse/output", "mse/grad_b", "cross_entropy/loss", "cross_entropy/output",
                    "cross_entropy/grad_b"],
        "falls": "cross_entropy/loss",
        "metrics": {"initial_sigmoid_derivative": (0.017, 0.018), "initial_grad_b_mse": (0.017, 0.018),
                    "initial_grad_b_cross_entropy": (0.98, 0.99), "reached_target_cross_entropy": (1, 1)},
        "files": ["mse_vs_cross_entropy.png"],
    },
    "overfitting": {
        "scalars": ["baseline/train/epoch_loss", "baseline/validation/epoch_accuracy", "dropout/validation/epoch_accuracy",
                    "l2/validation/epoch_accuracy", "test/accuracy"],
        "falls": "baseline/train/epoch_loss",
        "metrics": {"test_accuracy": (0.3, 1.0), "best_val_accuracy_baseline": (0.3, 1.0),
                    "best_val_accuracy_dropout": (0.3, 1.0), "best_val_accuracy_l2": (0.3, 1.0)},
        "files": ["overfitting.png"],
    },
    "cifar10_cnn": {
        "scalars": ["train/epoch_loss", "train/epoch_accuracy", "validation/epoch_accuracy"],
        "metrics": {"test_accuracy": (0.0, 1.0), "test_accuracy_no_tta": (0.0, 1.0)},
        "files": ["confusion_matrix.png"],
    },
    "mnist_cnn_checkpoint": {
        "scalars": ["train/epoch_loss", "train/epoch_accuracy", "validation/epoch_loss", "validation/epoch_accuracy"],
        "falls": "train/epoch_loss",
        "metrics": {"test_accuracy": (0.3, 1.0), "train_seconds": (0, 120), "epochs": (2, 2), "resumed_from_epoch": (0, 0)},
        "files": ["history.png", "model.keras", "checkpoints/best.keras", "checkpoints/latest.json",
                  "saved_model/saved_model.pb"],
    },
    "predict_digit": {  # --smoke without IMAGE: draws sample_7.png and trains a tiny CNN
        "scalars": ["train/epoch_loss", "train/epoch_accuracy"],
        "falls": "train/epoch_loss",
        "metrics": {"images": (1, 1), "mean_top1_probability": (0.1, 1.0), "tiny_model_test_accuracy": (0.3, 1.0)},
        "files": ["predictions.png", "sample_7.png", "tiny_model.keras"],
    },
    "inception_v3_retrain": {
        "scalars": ["train/epoch_loss", "train/epoch_accuracy", "validation/epoch_loss", "validation/epoch_accuracy"],
        "falls": "train/epoch_loss",
        "metrics": {"val_accuracy": (0.0, 1.0), "train_seconds": (0, 120), "num_images": (18, 18),
                    "bottlenecks_computed": (0, 18), "bottlenecks_cached": (0, 18)},
        "files": ["training.png", "predictions.png", "model.keras", "labels.txt"],
    },
    "inception_v3_predict": {
        "scalars": ["smoke_model/train/epoch_loss", "smoke_model/train/epoch_accuracy"],
        "falls": "smoke_model/train/epoch_loss",
        "metrics": {"num_images": (3, 3), "top_k": (3, 3), "mean_top1_probability": (0.34, 1.0)},
        "files": ["predictions.png"],
    },
}


def test_scripts_are_collected():
    assert REPO / "week1/mnist_softmax_regression.py" in SCRIPTS


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.relative_to(REPO).as_posix() for p in SCRIPTS])
def test_smoke_run(path, tmp_path, offline_cache):
    from common import tb

    module = load_script(path)
    assert callable(getattr(module, "main", None)), f"{path.name} needs main(argv=None)"
    run_dir = tmp_path / "run"
    module.main(["--smoke", "--log-dir", str(run_dir)])

    config = json.loads((run_dir / "config.json").read_text())
    assert config["smoke"] is True and "device" in config
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics and all(math.isfinite(v) for v in metrics.values() if isinstance(v, (int, float)))
    assert list(run_dir.rglob("events.out.tfevents.*")), "no TensorBoard events written"
    assert list(run_dir.glob("*.png")), "no figure saved"

    expect = EXPECT.get(path.stem, {})
    scalars = tb.read_scalars(run_dir)
    for tag in expect.get("scalars", []):
        assert tag in scalars, f"missing scalar {tag}; have {sorted(scalars)}"
    if "falls" in expect:
        values = [v for _, v in scalars[expect["falls"]]]
        assert values[-1] < values[0], f"{expect['falls']} did not fall: {values}"
    for key, (low, high) in expect.get("metrics", {}).items():
        assert low <= metrics[key] <= high, f"{key}={metrics[key]} outside [{low}, {high}]"
    for name in expect.get("files", []):
        assert (run_dir / name).stat().st_size > 0
