"""Week 5, vae_mnist.py and gan_mnist.py: the loss terms, the sample scores, smoke runs and GAN resume."""

import json

import numpy as np
import pytest

from tests.helpers import REPO, load_script


@pytest.fixture(scope="module")
def vae():
    return load_script(REPO / "week5" / "vae_mnist.py")


@pytest.fixture(scope="module")
def gan():
    return load_script(REPO / "week5" / "gan_mnist.py")


# --- VAE: the reparameterisation trick, the KL term, the bounds -------------------------------------------------

def test_kl_of_the_prior_itself_is_zero_and_matches_the_closed_form(vae):
    zeros = np.zeros((3, 4), "float32")
    assert np.allclose(vae.kl_nats(zeros, zeros), 0.0)
    mean, log_var = np.full((1, 4), 1.0, "float32"), np.full((1, 4), np.log(2.0), "float32")
    # per dimension KL(N(1, 2) || N(0, 1)) = (2 + 1 - 1 - ln 2) / 2
    assert float(vae.kl_nats(mean, log_var)[0]) == pytest.approx(4 * (2 - np.log(2)) / 2, rel=1e-5)
    assert float(vae.kl_nats(-mean, log_var)[0]) == pytest.approx(float(vae.kl_nats(mean, log_var)[0]))


def test_sampling_is_mean_plus_std_times_noise_and_passes_gradients(vae):
    import tensorflow as tf

    layer = vae.Sampling(seed=1)
    mean = tf.Variable(np.full((20000, 1), 3.0, "float32"))
    log_var = tf.Variable(np.full((20000, 1), np.log(4.0), "float32"))
    with tf.GradientTape() as tape:
        z = layer(mean, log_var)
        total = tf.reduce_sum(z)
    assert float(tf.reduce_mean(z)) == pytest.approx(3.0, abs=0.05)
    assert float(tf.math.reduce_std(z)) == pytest.approx(2.0, abs=0.05)
    d_mean, d_log_var = tape.gradient(total, [mean, log_var])
    assert np.allclose(d_mean.numpy(), 1.0)  # z = mean + ...: dz/dmean = 1
    assert np.abs(d_log_var.numpy()).sum() > 0  # and the noise's scale learns too
    frozen = layer(tf.constant([[1.5]]), tf.constant([[-80.0]]))  # variance ~ 0: z is the mean
    assert float(frozen[0, 0]) == pytest.approx(1.5)


def test_reconstruction_is_summed_over_pixels_in_nats(vae):
    x = np.zeros((2, 28, 28, 1), "float32")
    logits = np.zeros((2, 28, 28, 1), "float32")  # p = 0.5 everywhere: ln 2 per pixel
    assert np.allclose(vae.reconstruction_nats(x, logits), 784 * np.log(2), rtol=1e-5)


@pytest.fixture(scope="module")
def vae_run(vae, module_offline_cache, tmp_path_factory):
    folder = tmp_path_factory.mktemp("vae") / "run"
    return folder, vae.main(["--smoke", "--epochs", "3", "--latent-dim", "2", "--log-dir", str(folder)])


def test_vae_smoke_run_logs_each_loss_term_and_draws_the_figures(vae_run):
    from common import tb

    folder, metrics = vae_run
    scalars = tb.read_scalars(folder)
    for part in ("loss", "reconstruction", "kl"):
        assert f"train/epoch_{part}" in scalars and f"validation/epoch_{part}" in scalars
    losses = [v for _, v in scalars["train/epoch_loss"]]
    assert losses[-1] < losses[0]
    # the negative ELBO is the sum of its two terms; an untrained decoder (p = 0.5) costs 784 ln 2 = 543 nats
    assert metrics["test_neg_elbo_nats"] == pytest.approx(metrics["test_reconstruction_nats"] + metrics["test_kl_nats"],
                                                          rel=1e-4)
    assert 0 < metrics["test_neg_elbo_nats"] < 500 and metrics["test_kl_nats"] > 0  # below the untrained 543
    assert metrics["test_iwae_nats"] < metrics["test_neg_elbo_nats"] + 5
    for name in ("reconstructions.png", "samples.png", "latent_map.png", "manifold.png", "interpolation.png",
                 "encoder.keras", "decoder.keras"):
        assert (folder / name).stat().st_size > 0


def test_importance_weighted_bound_tightens_with_more_samples(vae, vae_run):
    import keras

    folder, _ = vae_run
    encoder, decoder = (keras.models.load_model(folder / f"{n}.keras") for n in ("encoder", "decoder"))
    x = np.random.default_rng(0).random((50, 28, 28, 1)).astype("float32") ** 4  # mostly dark, like digits
    one, many = (vae.importance_weighted_bound(encoder, decoder, x, k=k, seed=3) for k in (1, 50))
    assert many < one  # log of a mean >= mean of logs (Jensen): more samples, a tighter (lower) bound


# --- GAN: the scores, smoke runs, resume -------------------------------------------------------------------------

def test_inception_score_is_ten_for_confident_balanced_and_one_for_constant(gan):
    assert gan.inception_score(np.eye(10)[np.arange(1000) % 10]) == pytest.approx(10.0, rel=1e-6)
    assert gan.inception_score(np.tile(np.eye(10)[3], (1000, 1))) == pytest.approx(1.0)
    assert gan.inception_score(np.full((1000, 10), 0.1)) == pytest.approx(1.0)  # unsure about everything
    two_digits = np.eye(10)[np.arange(1000) % 2]  # mode collapse to two digits: 2
    assert gan.inception_score(two_digits) == pytest.approx(2.0, rel=1e-6)


def test_frechet_distance_is_zero_to_itself_and_grows_with_a_mean_shift(gan):
    features = np.random.default_rng(0).standard_normal((2000, 8))
    assert gan.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)
    shift = np.zeros(8)
    shift[0] = 3.0
    assert gan.frechet_distance(features, features + shift) == pytest.approx(9.0, rel=1e-6)  # |shift|^2
    assert gan.frechet_distance(features, features * 2) > 1  # a wider spread is far too


def gan_args(folder, *extra):
    return ["--smoke", "--device", "cpu", "--log-dir", str(folder), *extra]


@pytest.fixture(scope="module")
def gan_first(gan, module_offline_cache, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gan") / "run"
    return folder, gan.main(gan_args(folder, "--epochs", "1"))


def test_gan_smoke_run_reports_the_scores_and_saves_the_figures(gan_first):
    from common import tb

    folder, metrics = gan_first
    for key in ("inception_score", "real_inception_score", "frechet_distance", "min_class_share", "train_seconds"):
        assert key in metrics
    assert 1 <= metrics["inception_score"] <= 10 and metrics["frechet_distance"] > 0
    assert metrics["real_inception_score"] > 2  # the smoke judge already tells the fake digits apart
    assert sum(metrics["class_shares"]) == pytest.approx(1.0) and metrics["min_class_share"] == min(metrics["class_shares"])
    scalars = tb.read_scalars(folder)
    for tag in ("train/epoch_d_loss", "train/epoch_g_loss", "validation/inception_score",
                "validation/frechet_distance", "test/inception_score"):
        assert tag in scalars, sorted(scalars)
    for name in ("samples.png", "training.gif", "class_histogram.png", "history.png", "generator.keras",
                 "frames/epoch_001.png", "checkpoints/state.json"):
        assert (folder / name).stat().st_size > 0


def test_gan_resume_continues_from_the_saved_step(gan, gan_first, module_offline_cache):
    folder, first = gan_first
    steps_per_epoch = first["steps"]
    assert first["resumed_from_epoch"] == 0 and steps_per_epoch == 400 // 128  # 400 training digits, full batches
    again = gan.main(["--resume", "--log-dir", str(folder), "--epochs", "3"])
    assert again["resumed_from_epoch"] == 1 and again["resumed_from_step"] == steps_per_epoch
    assert again["steps"] == 3 * steps_per_epoch
    state = json.loads((folder / "checkpoints" / "state.json").read_text())
    assert [row["epoch"] for row in state["history"]] == [1, 2, 3] and state["resumed_at_epochs"] == [1]
    assert len(list((folder / "frames").glob("epoch_*.png"))) == 3
    assert again["train_seconds"] > first["train_seconds"]  # seconds add up over the runs
    from PIL import Image

    with Image.open(folder / "training.gif") as gif:
        assert gif.n_frames == 3


def test_gan_resume_refuses_changed_settings_and_a_finished_run(gan, tmp_path, module_offline_cache, capsys):
    with pytest.raises(SystemExit, match="nothing to resume"):
        gan.main(["--resume", "--log-dir", str(tmp_path / "none")])
    folder = tmp_path / "run"
    gan.main(gan_args(folder, "--epochs", "1"))
    with pytest.raises(SystemExit):
        gan.main(["--resume", "--log-dir", str(folder), "--latent-dim", "8", "--epochs", "2"])
    assert "--latent-dim 8 differs from the run being resumed" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="already trained 1 epochs"):
        gan.main(["--resume", "--log-dir", str(folder)])


def test_conditional_gan_scores_the_asked_for_digits(gan, tmp_path, module_offline_cache, monkeypatch):
    """A judge that reads every picture as a 3: the digits asked for are spread evenly, so 1 in 10 is right."""
    rng = np.random.default_rng(0)

    def reads_three(self, images):
        return np.eye(10)[np.full(len(images), 3)], rng.standard_normal((len(images), 8))

    monkeypatch.setattr(gan.Judge, "__call__", reads_three)
    metrics = gan.main(gan_args(tmp_path / "run", "--conditional", "--epochs", "1"))
    assert metrics["conditional_accuracy"] == pytest.approx(0.1)
    assert metrics["class_shares"][3] == 1.0 and metrics["inception_score"] == pytest.approx(1.0)
    assert (tmp_path / "run" / "digits.png").stat().st_size > 0
