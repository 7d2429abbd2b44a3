"""Every week script, run in-process in --smoke mode on tiny generated data.

New scripts are collected automatically and must get an EXPECT entry: what a user of
that script would look at (scalars, metrics, files), and how many times it evaluates
the test set ("test_evaluations": 1 for every script with a test set; the course
chooses on validation and touches the test set once, at the end).
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import load_script

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(
    p for p in REPO.glob("week*/**/*.py") if not p.name.startswith("_") and "homework" not in p.parts
)

# Per script: scalar tags that must be logged (and whether the first must fall over the run),
# metric keys with their allowed range, and files the run folder must hold.
EXPECT = {
    "script_template": {},  # docs/script_template.py, run by test_template_runs
    "tensorflow_basics": {  # its printout is checked by tests/test_week1_basics.py
        "metrics": {"add_result": (8, 8), "traced_graphs": (3, 3)},
        "files": ["graph.png"],
    },
    "mnist_softmax_regression": {
        "scalars": ["train/epoch_loss", "train/epoch_accuracy", "validation/epoch_loss", "validation/epoch_accuracy",
                    "test/epoch_accuracy"],
        "falls": "train/epoch_loss",
        "metrics": {"test_accuracy": (0.9, 1.0), "val_accuracy": (0.9, 1.0), "train_seconds": (0, 120)},
        "files": ["weights.png"],
    },
    "mnist_mlp": {
        "scalars": ["train/epoch_loss", "train/epoch_accuracy", "validation/epoch_loss", "validation/epoch_accuracy"],
        "falls": "train/epoch_loss",
        "metrics": {"test_accuracy": (0.9, 1.0), "val_accuracy": (0.9, 1.0)},
        "files": ["first_layer.png"],
    },
    "mnist_autoencoder": {
        "scalars": ["train/epoch_loss", "train/epoch_mse", "validation/epoch_loss", "validation/epoch_mse"],
        "falls": "train/epoch_mse",
        # an untrained decoder (all outputs 0.5) scores an MSE of about 0.18 on the fake digits
        "metrics": {"test_mse": (0.0, 0.1), "val_mse": (0.0, 0.1)},
        "files": ["reconstructions.png"],
    },
    "mnist_stacked_autoencoder": {
        "scalars": ["pretrain_1/train/epoch_loss", "pretrain_1/validation/epoch_loss", "pretrain_2/train/epoch_loss",
                    "pretrain_2/validation/epoch_loss", "softmax_frozen/train/epoch_accuracy",
                    "softmax_frozen/validation/epoch_accuracy", "finetune/train/epoch_loss",
                    "finetune/validation/epoch_accuracy"],
        "falls": "finetune/train/epoch_loss",
        # chance is 0.1; the frozen-feature softmax gets 5 short epochs on features pre-trained for one
        "metrics": {"test_accuracy": (0.9, 1.0), "val_accuracy": (0.9, 1.0), "frozen_features_val_accuracy": (0.2, 1.0)},
        "files": ["features.png", "stages.png"],
    },
    "mnist_cnn": {
        "scalars": ["train/epoch_loss", "train/epoch_accuracy", "validation/epoch_accuracy"],
        "falls": "train/epoch_loss",
        "metrics": {"test_accuracy": (0.5, 1.0), "val_accuracy": (0.5, 1.0), "train_seconds": (0, 120)},
        "test_evaluations": 1,
        "files": ["filters.png", "mistakes.png"],
    },
    "gradient_descent": {
        "scalars": ["alpha_small/loss", "alpha_good/loss", "alpha_large/loss",
                    "batch/epoch_loss", "minibatch/epoch_loss", "sgd/epoch_loss"],
        "falls": "alpha_good/loss",
        "metrics": {"diverged_alpha_large": (1, 1), "diverged_alpha_good": (0, 0), "final_loss_alpha_good": (0.12, 0.6),
                    "final_loss_alpha_small": (1.0, 10), "final_loss_alpha_large": (10, 1e12), "final_loss_sgd": (0.1, 0.5)},
        "files": ["alpha_paths.png", "gd_variants.png"],
    },
    "backprop_numpy": {
        "scalars": ["train/loss", "train/accuracy"],
        "falls": "train/loss",
        "metrics": {"grad_check_finite_diff": (0, 1e-6), "grad_check_gradient_tape": (0, 1e-6),
                    "xor_accuracy": (1.0, 1.0), "final_loss": (0.0, 0.2)},
        "files": ["backprop_xor.png"],
    },
    "activation_functions": {
        "scalars": ["sigmoid/loss", "relu/loss", "sigmoid/grad_norm_init/layer_01", "relu/grad_norm_init/layer_01",
                    "sigmoid/grad_norm/layer_01", "relu/grad_norm/layer_11"],
        "metrics": {"max_derivative_error": (0, 1e-6), "grad_norm_ratio_sigmoid_to_relu": (0, 1e-2),
                    "grad_norm_first_layer_relu": (1e-3, 1.0)},
        "test_evaluations": 0,  # a gradient demo on training images: it never looks at the test set
        "files": ["activations.png", "vanishing_gradients.png"],
    },
    "mse_vs_cross_entropy": {
        "scalars": ["mse/loss", "mse/output", "mse/grad_b", "cross_entropy/loss", "cross_entropy/output",
                    "cross_entropy/grad_b"],
        "falls": "cross_entropy/loss",
        "metrics": {"initial_sigmoid_derivative": (0.017, 0.018), "initial_grad_b_mse": (0.017, 0.018),
                    "initial_grad_b_cross_entropy": (0.98, 0.99), "reached_target_cross_entropy": (1, 1),
                    "final_output_cross_entropy": (0.0, 0.1), "final_output_mse": (0.9, 1.0)},
        "files": ["mse_vs_cross_entropy.png"],
    },
    "overfitting": {
        "scalars": ["baseline/train/epoch_loss", "baseline/validation/epoch_accuracy", "dropout/validation/epoch_accuracy",
                    "l2/validation/epoch_accuracy", "test/accuracy"],
        "falls": "baseline/train/epoch_loss",
        "metrics": {"test_accuracy": (0.8, 1.0), "best_val_accuracy_baseline": (0.8, 1.0),
                    "best_val_accuracy_dropout": (0.8, 1.0), "best_val_accuracy_l2": (0.8, 1.0)},
        "test_evaluations": 1,
        "files": ["overfitting.png"],
    },
    "cifar10_cnn": {
        "scalars": ["train/epoch_loss", "train/epoch_accuracy", "validation/epoch_loss", "validation/epoch_accuracy"],
        "falls": "train/epoch_loss",
        "metrics": {"test_accuracy": (0.5, 1.0), "val_accuracy": (0.5, 1.0), "epochs": (2, 2)},
        "files": ["confusion_matrix.png"],
    },
    "cifar10_fast": {
        "scalars": ["train/epoch_loss", "train/epoch_accuracy", "validation/epoch_loss", "validation/epoch_accuracy"],
        "falls": "train/epoch_loss",
        "metrics": {"test_accuracy": (0.4, 1.0), "test_accuracy_no_tta": (0.4, 1.0), "val_accuracy": (0.4, 1.0),
                    "epochs": (2, 2)},
        "files": ["confusion_matrix.png"],
    },
    "mnist_cnn_checkpoint": {
        "scalars": ["train/epoch_loss", "train/epoch_accuracy", "validation/epoch_loss", "validation/epoch_accuracy"],
        "falls": "train/epoch_loss",
        "metrics": {"test_accuracy": (0.9, 1.0), "val_accuracy": (0.9, 1.0), "best_val_accuracy": (0.9, 1.0),
                    "best_epoch": (1, 2), "train_seconds": (0, 120), "epochs": (2, 2), "resumed_from_epoch": (0, 0)},
        "test_evaluations": 1,
        "files": ["history.png", "model.keras", "checkpoints/best.keras", "checkpoints/latest.json",
                  "saved_model/saved_model.pb"],
    },
    "predict_digit": {  # --smoke without IMAGE: draws sample_7.png, predicts with an untrained stand-in model
        "metrics": {"images": (1, 1)},
        "files": ["predictions.png", "sample_7.png", "tiny_model.keras"],
    },
    "inception_v3_retrain": {
        "scalars": ["train/epoch_loss", "train/epoch_accuracy", "validation/epoch_loss", "validation/epoch_accuracy"],
        "falls": "train/epoch_loss",
        # --smoke: 60 generated shapes, split 42/12/6; random-weight features still tell the colours apart
        # (chance is 1/3). A fresh cache: every bottleneck is computed, none reused.
        "metrics": {"test_accuracy": (0.5, 1.0), "val_accuracy": (0.6, 1.0), "train_seconds": (0, 120),
                    "num_images": (60, 60), "num_val": (12, 12), "num_test": (6, 6), "skipped_files": (0, 0),
                    "bottlenecks_computed": (60, 60), "bottlenecks_cached": (0, 0)},
        "files": ["training.png", "predictions.png", "model.keras", "labels.txt"],
    },
    "char_rnn": {
        "scalars": ["train/epoch_loss", "validation/epoch_loss", "train/bits_per_char", "validation/bits_per_char",
                    "baseline_unigram/bits_per_char", "baseline_bigram/bits_per_char", "baseline_trigram/bits_per_char",
                    "validation/nats_per_char_by_seconds"],
        "falls": "train/epoch_loss",
        # the fake play has 40-odd characters (log2 ~ 5.4 bits); its grammar makes trigrams much better than unigrams
        "metrics": {"unigram_bits_per_char": (3.5, 5.0), "trigram_bits_per_char": (0.5, 2.5),
                    "val_bits_per_char": (1.0, 5.0), "vocab_size": (30, 60), "epochs": (2, 2)},
        "files": ["learning_curves.png", "model.keras", "vocab.json"],
    },
    "char_rnn_sample": {  # --smoke without --model: trains a tiny char_rnn first, then writes 40 characters
        "metrics": {"length": (40, 50), "chars_per_second": (1, 1e6)},
        "files": ["temperature.png", "sample.txt", "smoke_model/model.keras"],
    },
    "inception_v3_predict": {
        "scalars": ["smoke_model/train/epoch_loss", "smoke_model/train/epoch_accuracy"],
        "falls": "smoke_model/train/epoch_loss",
        "metrics": {"num_images": (3, 3), "top_k": (3, 3), "mean_top1_probability": (0.6, 1.0)},
        "files": ["predictions.png"],
    },
    "word_embedding": {  # no test set: the held-out part is scored every epoch (validation/epoch_auc)
        "scalars": ["train/epoch_loss", "train/epoch_pairs", "validation/epoch_auc"],
        "falls": "train/epoch_loss",
        # --smoke: the fake Korean text, 21 words picked independently, so nothing to learn beyond "true pairs are
        # rarer than negatives": the loss falls below ln 2 = 0.693 (untrained) and the AUC stays near 0.5.
        # (tests/test_week3_word_embedding.py checks the AUC on a corpus with structure.)
        "metrics": {"vocab_size": (21, 21), "train_tokens": (1080, 1080), "train_pairs": (300, 3000),
                    "final_loss": (0.3, 0.688), "heldout_auc_before_training": (0.4, 0.6), "heldout_auc": (0.4, 0.6)},
        "files": ["word_embedding.png", "vectors.tsv", "metadata.tsv", "projector_config.pbtxt", "checkpoint"],
    },
    "gradient_clipping": {  # generated data, no test set; plain SGD and the unclipped RNN diverge on purpose
        "scalars": ["linear/none/loss", "linear/none/grad_norm", "linear/clipvalue/loss", "linear/clipnorm/loss",
                    "linear/global_clipnorm/loss", "linear/global_clipnorm/grad_norm", "linear/global_clipnorm/step_norm",
                    "rnn/none/loss", "rnn/none/grad_norm", "rnn/global_clipnorm/loss", "rnn/global_clipnorm/grad_norm"],
        "falls": "linear/global_clipnorm/loss",
        # --smoke: part 1 gets 8 epochs (80 steps; plain SGD reaches inf before that), part 2 60 steps from a
        # loss of about 0.94 (rnn_initial_loss). global_clipnorm's step is at most lr·c = 0.06.
        "metrics": {"linear_none_diverged": (1, 1), "linear_clipvalue_diverged": (0, 0), "linear_clipnorm_diverged": (0, 0),
                    "linear_global_clipnorm_diverged": (0, 0), "linear_clipvalue_weight_error": (0, 0.1),
                    "linear_global_clipnorm_max_step_norm": (0.05, 0.0601), "rnn_none_max_grad_norm": (1e2, math.inf),
                    "rnn_global_clipnorm_diverged": (0, 0), "rnn_global_clipnorm_final_loss": (0, 0.6)},
        "files": ["linear_regression.png", "rnn.png"],
    },
    "visual_qa": {  # scenes drawn by common/scenes.py (not load_mnist), so test evaluations are not counted here
        "scalars": ["train/epoch_loss", "train/epoch_accuracy", "validation/epoch_accuracy", "blind/train/epoch_loss",
                    "blind/validation/epoch_accuracy", "test/accuracy", "test/accuracy_relation",
                    "test/compositional_accuracy", "blind/test/accuracy"],
        "falls": "train/epoch_loss",
        # --smoke: 60 training scenes x 5 questions, 20 test scenes; ten steps learn little, so only the counts are
        # pinned (20 answers: 6 colours, 3 shapes, 0-4, yes/no, left/right/above/below)
        "metrics": {"train_questions": (300, 300), "test_questions": (100, 100), "num_answers": (20, 20),
                    "vocab_size": (30, 40), "epochs": (2, 2)},
        "files": ["examples.png", "accuracy_by_type.png", "model.keras", "answers.json"],
    },
    "image_captioning": {  # synthetic scenes (no test-set loader to count); BLEU from nltk, 0-1
        "scalars": ["train/epoch_loss", "validation/epoch_loss", "validation/bleu4_greedy", "test/bleu4",
                    "test/nn_bleu4"],
        "falls": "train/epoch_loss",
        # --smoke: 60 training scenes, two epochs: word order is not learned yet (BLEU-4 0), but the common words
        # are (BLEU-1 0.33 measured), and the nearest-neighbour baseline copies real captions (BLEU-4 0.16 measured)
        "metrics": {"bleu1": (0.15, 1), "bleu4": (0, 1), "nn_bleu4": (0.05, 1), "fact_accuracy": (0, 1),
                    "compositional_bleu4": (0, 1), "train_captions": (150, 300), "vocab_size": (25, 40),
                    "epochs": (2, 2), "train_seconds": (0, 120)},
        "files": ["examples.png", "encoder.keras", "decoder_step.keras", "vocabulary.json"],
    },
    "caption_image": {  # --smoke trains a tiny attention model first, then captions a drawn scene
        "metrics": {"beam_size": (5, 5), "log_probability": (-200, 0)},
        "files": ["captions.json", "attention.png", "scene.png", "smoke_model/vocabulary.json"],
    },
    "vae_mnist": {
        "scalars": ["train/epoch_loss", "train/epoch_reconstruction", "train/epoch_kl", "validation/epoch_loss",
                    "validation/epoch_kl", "test/neg_elbo", "test/iwae"],
        "falls": "train/epoch_loss",
        # an untrained decoder (p = 0.5 per pixel) costs 784 ln 2 = 543 nats; two smoke epochs (8 steps, the learning
        # rate falling to 0) get below it (490 measured)
        "metrics": {"test_neg_elbo_nats": (50, 520), "test_iwae_nats": (50, 520), "iwae_samples": (5, 5),
                    "latent_dim": (16, 16)},
        # the test set: vae.evaluate (through make_pipeline) for the ELBO, encoder.predict for the latent map;
        # the importance-weighted bound reads it too, by hand (not counted)
        "test_evaluations": 2,
        "files": ["reconstructions.png", "samples.png", "latent_map.png", "manifold.png", "interpolation.png"],
    },
    "gan_mnist": {
        "scalars": ["train/epoch_d_loss", "train/epoch_g_loss", "validation/inception_score",
                    "validation/frechet_distance", "test/inception_score", "test/frechet_distance"],
        # --smoke: 3 steps an epoch; the scores are checked in tests/test_week5_generative.py
        "metrics": {"inception_score": (1, 10), "real_inception_score": (1, 10), "min_class_share": (0, 0.1),
                    "steps": (6, 6), "epochs": (2, 2)},
        # the test set: the judging classifier's accuracy (evaluate) and the real digits' scores (predict)
        "test_evaluations": 2,
        "files": ["samples.png", "training.gif", "class_histogram.png", "history.png", "generator.keras"],
    },
    "neural_style_transfer": {  # --smoke: --weights none, the cache's tiny photo and painting, 6 Adam steps
        "scalars": ["losses/total", "losses/content", "losses/style", "losses/total_variation"],
        "falls": "losses/total",
        "metrics": {"iterations": (6, 6), "seconds_per_iteration": (0, 10), "height": (48, 48), "width": (64, 64)},
        "files": ["result.png", "comparison.png", "progress/step_0006.png"],
    },
    "deepdream": {  # --smoke: --weights none, the cache's tiny photo, 2 octaves of 3 steps
        "scalars": ["dream/loss"],
        "metrics": {"steps": (6, 6), "seconds_per_step": (0, 20), "height": (80, 80), "width": (96, 112)},
        "files": ["dream.png", "comparison.png", "octave_1.png", "octave_2.png"],
    },
    "segmentation": {  # the tiny fake membranes of the test cache: dark lines (membrane) between bright cells
        "scalars": ["train/epoch_loss", "train/epoch_pixel_accuracy", "validation/epoch_mean_iou",
                    "validation/epoch_iou_membrane", "validation/epoch_dice_membrane", "test/mean_iou"],
        "falls": "train/epoch_loss",
        # 6 smoke steps do not beat calling every pixel "cell"; what is checked here is the run's shape (the loss falls
        # above, the membrane Dice logged, 8 test views after flipped training); learning is checked on the synthetic scenes
        # in tests/test_week5_segmentation.py
        "metrics": {"epochs": (2, 2), "best_epoch": (1, 2), "views": (8, 8)},
        "files": ["predictions.png", "history.png", "model.keras", "classes.json"],
    },
}


class MarkedTestImages(np.ndarray):
    """The test images, marked: NumPy keeps the mark through reshape, astype, slicing and arithmetic."""


def count_test_evaluations(monkeypatch, module):
    """Marks the test split the data layer returns; counts evaluations that take (most of) it whole.

    Counted: keras.Model.evaluate / predict, data.make_pipeline, and the script's own top-level
    `evaluate` function (hand-written loops), when their first argument is the marked test images.
    Figures that show a few test images are not evaluations and are not counted.
    """
    import keras

    from common import data

    calls = []
    sizes = {}

    def marked_loader(load):
        def wrapper(*args, **kwargs):
            result = load(*args, **kwargs)
            (x_train, y_train), (x_test, y_test), *rest = result
            sizes["test"] = len(x_test)
            return ((x_train, y_train), (x_test.view(MarkedTestImages), y_test), *rest)
        return wrapper

    def counted(function, name):
        def wrapper(*args, **kwargs):
            x = next((a for a in args if isinstance(a, np.ndarray)), None)
            if isinstance(x, MarkedTestImages) and len(x) * 2 > min(sizes.get("test", 0), 500):
                calls.append(name)
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(data, "load_mnist", marked_loader(data.load_mnist))
    monkeypatch.setattr(data, "load_cifar10", marked_loader(data.load_cifar10))
    monkeypatch.setattr(data, "make_pipeline", counted(data.make_pipeline, "make_pipeline"))
    monkeypatch.setattr(keras.Model, "evaluate", counted(keras.Model.evaluate, "evaluate"))
    monkeypatch.setattr(keras.Model, "predict", counted(keras.Model.predict, "predict"))
    if callable(getattr(module, "evaluate", None)):
        monkeypatch.setattr(module, "evaluate", counted(module.evaluate, "script evaluate"))
    return calls


def test_scripts_are_collected():
    assert REPO / "week1/mnist_softmax_regression.py" in SCRIPTS


def test_every_script_has_an_expectation():
    assert set(EXPECT) == {p.stem for p in SCRIPTS} | {"script_template"}


def test_template_runs(tmp_path, offline_cache, monkeypatch):
    module = load_script(REPO / "docs/script_template.py")
    calls = count_test_evaluations(monkeypatch, module)
    metrics = module.main(["--smoke", "--log-dir", str(tmp_path / "run")])
    assert calls == ["evaluate"] and metrics["test_accuracy"] > 0.5
    assert (tmp_path / "run" / "validation_accuracy.png").stat().st_size > 0


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.relative_to(REPO).as_posix() for p in SCRIPTS])
def test_smoke_run(path, tmp_path, offline_cache, monkeypatch):
    from common import tb

    module = load_script(path)
    assert callable(getattr(module, "main", None)), f"{path.name} needs main(argv=None)"
    run_dir = tmp_path / "run"
    test_calls = count_test_evaluations(monkeypatch, module)
    module.main(["--smoke", "--log-dir", str(run_dir)])

    config = json.loads((run_dir / "config.json").read_text())
    assert config["smoke"] is True and "device" in config
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics and all(math.isfinite(v) for v in metrics.values() if isinstance(v, (int, float)))
    assert list(run_dir.rglob("events.out.tfevents.*")), "no TensorBoard events written"
    assert list(run_dir.glob("*.png")), "no figure saved"

    expect = EXPECT[path.stem]
    if "test_evaluations" in expect:
        assert len(test_calls) == expect["test_evaluations"], f"the test set was evaluated by {test_calls}"
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
