"""DCGAN on MNIST: a generator and a discriminator trained against each other, sample quality measured in numbers.

요약: 생성자(generator)는 잡음에서 숫자 그림을 만들고, 판별자(discriminator)는 진짜와 가짜를 가려냅니다. 둘을 번갈아
학습하면(적대적 학습, adversarial training) 생성자는 판별자를 속일 만큼 진짜 같은 숫자를 그리게 됩니다. 샘플의 품질은
눈으로만 보지 않고, MNIST 분류기(classifier)로 잰 인셉션 점수(Inception Score)와 분류기 특징의 프레셰 거리(Fréchet
distance), 숫자별 비율(모드 붕괴, mode collapse)로 잽니다.

Run:    python week5/gan_mnist.py
        python week5/gan_mnist.py --conditional          (cGAN: ask for a digit, get that digit)
Resume: python week5/gan_mnist.py --resume --log-dir runs/gan_mnist/<run> [--epochs N]   (continue, or train longer)
Smoke:  python week5/gan_mnist.py --smoke
Expect: the first run trains the judging classifier (week 1's CNN recipe, 6 epochs) and keeps it in the data cache;
        then each epoch prints the two losses and the samples' Inception Score and Fréchet distance (against the
        validation digits) and saves a fixed-noise sample grid (frames/, TensorBoard). At the end: the score of
        10,000 samples and of the real test digits (the ceiling), the Fréchet distance to the test digits and the
        share of each digit among the samples. The run folder gets samples.png, training.gif, class_histogram.png,
        history.png (digits.png with --conditional), generator.keras and checkpoints/ for --resume.
        Measured with the defaults (README table): Inception Score 8.07 for 10,000 samples of the moving-average
        generator (8.03 for the generator as trained; real test digits 9.81), Fréchet distance 17.6, every digit
        between 7.6% and 12.2% of the samples, 1,489 s of training (25 epochs) on a 2-core CPU.
        With --conditional: Inception Score 9.65, Fréchet distance 2.8, the asked-for digit read back 0.970 of
        the time, 1,613 s of training.
"""

import copy
import json
import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=25, batch_size=128, learning_rate=2e-4)
PARSER.add_argument("--d-learning-rate", type=float, default=2e-4,
                    help="the discriminator's learning rate; --learning-rate is the generator's (default: %(default)s)")
PARSER.add_argument("--latent-dim", type=int, default=64, help="numbers in the noise vector z (default: %(default)s)")
PARSER.add_argument("--label-smoothing", type=float, default=0.1,
                    help="one-sided label smoothing: the discriminator's target for real digits is 1 minus this "
                    "(default: %(default)s)")
PARSER.add_argument("--ema", type=float, default=0.999,
                    help="decay of the exponential moving average of the generator's weights, whose samples are the "
                    "ones shown and scored; 0: use the generator itself (default: %(default)s)")
PARSER.add_argument("--conditional", action="store_true", help="a conditional GAN: the digit is an input of both nets")
PARSER.add_argument("--resume", action="store_true",
                    help="continue the run in --log-dir from its last finished epoch (a larger --epochs trains longer)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
import scipy.linalg
import tensorflow as tf
from keras import layers

from common import data, runtime, tb
from week1 import mnist_cnn  # 1주차 CNN: 샘플을 채점할 분류기의 조리법(recipe)

VALIDATION = 5000
SMOKE_TRAIN, SMOKE_VALIDATION, SMOKE_TEST = 512, 200, 500
EVAL_SAMPLES, SMOKE_EVAL_SAMPLES = 10_000, 500  # 마지막 평가에 쓰는 샘플 수
EPOCH_SAMPLES = 5000  # 에포크마다 재는 샘플 수(검증 숫자 5,000장과 같은 수)
JUDGE_EPOCHS, SMOKE_JUDGE_EPOCHS = 6, 3  # week1/mnist_cnn.py의 기록: 6 에포크에 테스트 정확도 0.993
GRID = 10  # 고정 잡음 샘플 격자: 10x10 (조건부: 숫자마다 한 줄)
CHECKPOINTS, STATE = "checkpoints", "state.json"
# --resume은 같은 실행을 이어 가므로 이 설정들은 처음 값을 그대로 씁니다(--epochs는 늘려서 더 학습할 수 있습니다).
RESUME_SETTINGS = ("batch_size", "learning_rate", "d_learning_rate", "latent_dim", "label_smoothing", "ema",
                   "conditional", "seed", "smoke")


# 1. 데이터 / Prepare the data: digits scaled to [-1, 1], the range of the generator's tanh
def load_data(data_dir=None, smoke=False):
    """Returns (x_train, y_train), (x_val, y_val), (x_test, y_test); images (N, 28, 28, 1) in [0, 1]."""
    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_dir)
    if smoke:
        x_train, y_train = x_train[:SMOKE_TRAIN + SMOKE_VALIDATION], y_train[:SMOKE_TRAIN + SMOKE_VALIDATION]
        x_test, y_test = x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    x_train = x_train[..., None].astype("float32") / 255
    x_test = x_test[..., None].astype("float32") / 255
    # 검증 세트는 학습 세트에서 떼어 냅니다: 에포크마다 샘플을 이 숫자들과 비교하고, 테스트 세트는 마지막에 한 번.
    n_val = SMOKE_VALIDATION if smoke else VALIDATION
    x_val, y_val, x_train, y_train = x_train[-n_val:], y_train[-n_val:], x_train[:-n_val], y_train[:-n_val]
    print(f"Data: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images")
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


# 2. 채점 / Scoring samples: a classifier, the Inception Score and the Fréchet distance
def inception_score(probabilities):
    """exp(E_x KL(p(y|x) || p(y))) of class probabilities (n, classes) (Salimans et al. 2016).

    High when each sample is clearly one class (p(y|x) sharp) and the classes are used evenly (p(y) flat):
    10 for perfectly confident, perfectly balanced predictions over 10 classes; 1 when every sample gets the
    same prediction. Here the classifier is an MNIST CNN, not Inception: the score only compares MNIST samples.
    """
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, 1.0)
    marginal = p.mean(axis=0, keepdims=True)  # p(y): 샘플 전체의 숫자 분포
    kl = (p * (np.log(p) - np.log(marginal))).sum(axis=1)
    return float(np.exp(kl.mean()))


def frechet_distance(features_a, features_b):
    """The Fréchet distance between Gaussians fitted to two sets of features (n, d) (Heusel et al. 2017, "FID"):
    |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)). 0 for a set against itself; lower is closer."""
    a, b = np.asarray(features_a, dtype=np.float64), np.asarray(features_b, dtype=np.float64)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():  # 특징이 몇 개 안 되면(--smoke) 공분산이 특이(singular)하다는 경고: 값은 그대로 씁니다
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(cov_a @ cov_b)  # 행렬 제곱근(matrix square root), scipy
    covmean = np.real(covmean)  # 수치 오차로 생기는 아주 작은 허수부는 버립니다
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * covmean))


class Judge:
    """An MNIST classifier that scores samples: class probabilities and its penultimate (128-unit) features."""

    def __init__(self, classifier, test_accuracy):
        self.classifier, self.test_accuracy = classifier, test_accuracy
        hidden = [layer for layer in classifier.layers if isinstance(layer, layers.Dense)][0]  # 끝에서 두 번째 층
        self.both = keras.Model(classifier.inputs, [classifier.outputs[0], hidden.output])

    def __call__(self, images):
        """Images (n, 28, 28, 1) in [0, 1] -> (probabilities (n, 10), features (n, 128))."""
        probabilities, features = self.both.predict(images.astype("float32", copy=False), batch_size=1000, verbose=0)
        return probabilities, features


def load_judge(x_train, y_train, x_test, y_test, folder, epochs=JUDGE_EPOCHS):
    """The judging classifier from folder (classifier.keras + judge.json), or trained there once with week 1's
    CNN recipe. Its test accuracy is what it is trusted for: the scores mean little below 0.99."""
    path, record = folder / "classifier.keras", folder / "judge.json"
    if path.exists() and record.exists():
        print(f"Judge: {path} (test accuracy {json.loads(record.read_text())['test_accuracy']:.4f})")
        return Judge(keras.models.load_model(path), json.loads(record.read_text())["test_accuracy"])
    print(f"Judge: training week 1's CNN for {epochs} epochs to score the samples (once; kept in {folder})")
    steps = epochs * -(-len(x_train) // 128)
    classifier = mnist_cnn.build_model(total_steps=steps)
    classifier.fit(data.make_pipeline(x_train, y_train, batch_size=128, shuffle=True, seed=0), epochs=epochs, verbose=2)
    _, accuracy = classifier.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    folder.mkdir(parents=True, exist_ok=True)
    classifier.save(path)
    flags.save_json(record, {"test_accuracy": float(accuracy), "epochs": epochs, "recipe": "week1/mnist_cnn.py"})
    print(f"Judge: test accuracy {accuracy:.4f}" + ("" if accuracy >= 0.99 else " (below 0.99: scores are rough)"))
    return Judge(classifier, float(accuracy))


# 3. 모델 / Build the two networks and the GAN that trains them
def build_generator(latent_dim=64, conditional=False):
    """z (latent_dim,) [+ digit] -> image (28, 28, 1) in [-1, 1]: Dense to 7x7x128, two transposed convolutions
    (7 -> 14 -> 28) with a 3x3 convolution between them, batch normalisation, tanh at the end."""
    z = keras.Input(shape=(latent_dim,), name="z")
    inputs, x = [z], z
    if conditional:  # 조건부: 숫자를 임베딩해 잡음 옆에 붙입니다
        digit = keras.Input(shape=(), dtype="int32", name="digit")
        inputs.append(digit)
        x = layers.Concatenate()([z, layers.Embedding(10, 16, name="digit_embedding")(digit)])
    x = layers.Dense(7 * 7 * 128, use_bias=False)(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Reshape((7, 7, 128))(x)
    x = layers.Conv2DTranspose(64, 4, strides=2, padding="same", use_bias=False)(x)  # 14x14
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)  # 획의 모양을 다듬을 층 하나 더
    x = layers.ReLU()(layers.BatchNormalization()(x))
    image = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh", dtype="float32")(x)  # 28x28
    return keras.Model(inputs, image, name="generator")


def build_discriminator(conditional=False):
    """image (28, 28, 1) [+ digit] -> one logit: real (> 0) or generated. Strided convolutions, leaky ReLU."""
    image = keras.Input(shape=(28, 28, 1), name="image")
    inputs, x = [image], image
    if conditional:  # 숫자를 28x28 한 장으로 임베딩해 그림의 두 번째 채널로 붙입니다
        digit = keras.Input(shape=(), dtype="int32", name="digit")
        inputs.append(digit)
        plane = layers.Reshape((28, 28, 1))(layers.Embedding(10, 28 * 28, name="digit_embedding")(digit))
        x = layers.Concatenate()([image, plane])
    x = layers.LeakyReLU(0.2)(layers.Conv2D(64, 4, strides=2, padding="same")(x))  # 14x14
    x = layers.LeakyReLU(0.2)(layers.Conv2D(128, 4, strides=2, padding="same")(x))  # 7x7
    logit = layers.Dense(1, dtype="float32")(layers.Flatten()(x))
    return keras.Model(inputs, logit, name="discriminator")


class GAN(keras.Model):
    """Both networks and their two optimizers; train_step is one round of the game, on one batch of fakes:

    1) the discriminator learns to say 1 to real digits (1 - label_smoothing) and 0 to generated ones;
    2) the generator learns to make the discriminator say 1 to its digits (the "non-saturating" loss);
    both gradients come from the same forward pass and are applied together;
    3) the moving average (EMA) of the generator's weights takes a small step towards the new weights.
    """

    def __init__(self, generator, discriminator, latent_dim, conditional=False, label_smoothing=0.1, ema=0.999,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim, self.conditional = latent_dim, conditional
        self.label_smoothing, self.ema = label_smoothing, ema
        # 생성자 가중치의 지수 이동 평균(exponential moving average): 학습 중 흔들리는 가중치를 평균해 더 고른 샘플
        self.ema_generator = keras.models.clone_model(generator)
        self.ema_generator.set_weights(generator.get_weights())
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("d_loss", "g_loss", "d_real", "d_fake")}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    def sampler(self):
        """The generator whose samples are shown and scored: the moving average, or the generator itself."""
        return self.ema_generator if self.ema > 0 else self.generator

    def inputs_of(self, images, digits):
        return [images, digits] if self.conditional else images

    def train_step(self, batch):
        real, digits = batch
        n = keras.ops.shape(real)[0]
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        z = keras.random.normal((n, self.latent_dim), seed=self.seed_generator)
        # 가짜 한 배치를 한 번 만들고, 두 테이프로 두 망의 기울기를 함께 구합니다(TensorFlow DCGAN 튜토리얼의 방식)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake = self.generator(self.inputs_of(z, digits), training=True)
            real_logits = self.discriminator(self.inputs_of(real, digits), training=True)
            fake_logits = self.discriminator(self.inputs_of(fake, digits), training=True)
            # 1) 판별자: 진짜는 1(조금 깎아서), 가짜는 0
            d_loss = (bce(keras.ops.full_like(real_logits, 1 - self.label_smoothing), real_logits)
                      + bce(keras.ops.zeros_like(fake_logits), fake_logits))
            # 2) 생성자: 판별자가 가짜를 진짜(1)라고 하도록 ("non-saturating" 손실)
            g_loss = bce(keras.ops.ones_like(fake_logits), fake_logits)
            d_scaled, g_scaled = self.d_optimizer.scale_loss(d_loss), self.g_optimizer.scale_loss(g_loss)
        d_grads = d_tape.gradient(d_scaled, self.discriminator.trainable_weights)
        g_grads = g_tape.gradient(g_scaled, self.generator.trainable_weights)
        self.d_optimizer.apply(d_grads, self.discriminator.trainable_weights)
        self.g_optimizer.apply(g_grads, self.generator.trainable_weights)
        # 3) 이동 평균: 처음에는 빨리 따라가도록 (1 + t) / (10 + t)와 ema 가운데 작은 값
        if self.ema > 0:
            t = keras.ops.cast(self.g_optimizer.iterations, "float32")
            decay = keras.ops.minimum(self.ema, (1 + t) / (10 + t))
            for average, weight in zip(self.ema_generator.weights, self.generator.weights):
                average.assign(decay * average + (1 - decay) * keras.ops.cast(weight, average.dtype))
        values = (d_loss, g_loss, keras.ops.mean(keras.ops.sigmoid(real_logits)),
                  keras.ops.mean(keras.ops.sigmoid(fake_logits)))
        for tracker, value in zip(self.trackers.values(), values):
            tracker.update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}


def build_gan(latent_dim=64, conditional=False, learning_rate=2e-4, d_learning_rate=2e-4, label_smoothing=0.1,
              ema=0.999, seed=None):
    """The GAN with two Adam optimizers, beta_1 = 0.5 (the DCGAN paper's: less momentum, a steadier game)."""
    gan = GAN(build_generator(latent_dim, conditional), build_discriminator(conditional), latent_dim, conditional,
              label_smoothing, ema, seed=seed, name="gan")
    optimizers = [keras.optimizers.Adam(lr, beta_1=0.5) for lr in (d_learning_rate, learning_rate)]
    if keras.mixed_precision.global_policy().name == "mixed_float16":  # float16: 손실 크기 조정(loss scaling)
        optimizers = [keras.optimizers.LossScaleOptimizer(o) for o in optimizers]
    gan.compile(*optimizers)
    gan.d_optimizer.build(gan.discriminator.trainable_weights)  # 체크포인트를 되살리기 전에 상태 변수를 만들어 둡니다
    gan.g_optimizer.build(gan.generator.trainable_weights)
    return gan


def generate(generator, z, digits=None, batch_size=1000):
    """Images (n, 28, 28) in [0, 1] from noise z (and digits, for a conditional generator)."""
    inputs = z if digits is None else [z, np.asarray(digits, dtype="int32")]
    return (generator.predict(inputs, batch_size=batch_size, verbose=0)[..., 0] + 1) / 2


def sample(gan, n, seed, raw=False):
    """n samples from gan.sampler() (raw: from the generator being trained) with their digits (for a conditional
    GAN: each digit n/10 times; else None)."""
    z = np.random.default_rng(seed).standard_normal((n, gan.latent_dim)).astype("float32")
    digits = np.arange(n) % 10 if gan.conditional else None
    return generate(gan.generator if raw else gan.sampler(), z, digits), digits


# 4. 학습 / Train: checkpoints every epoch, scores and a fixed-noise grid in TensorBoard
class EpochEnd(keras.callbacks.Callback):
    """After every epoch: the fixed-noise grid (frames/epoch_NNN.png and TensorBoard), the Inception Score and the
    Fréchet distance of EPOCH_SAMPLES samples against the validation digits, a checkpoint and state.json."""

    def __init__(self, gan, judge, x_val, state, log_dir, manager, seed):
        super().__init__()
        self.gan, self.judge, self.state, self.log_dir, self.manager, self.seed = gan, judge, state, log_dir, manager, seed
        self.val_features = judge(x_val)[1]
        self.z = np.random.default_rng(seed).standard_normal((GRID * GRID, gan.latent_dim)).astype("float32")
        self.digits = np.repeat(np.arange(10), GRID) if gan.conditional else None  # 조건부: 줄마다 한 숫자
        self.seconds_before, self.timer = state["train_seconds"], tb.Timer()

    def on_epoch_end(self, epoch, logs=None):
        seconds = self.seconds_before + self.timer.seconds()  # 채점 전까지: 학습 시간
        grid = tb.image_grid(generate(self.gan.sampler(), self.z, self.digits), GRID)
        frames = Path(self.log_dir) / "frames"
        frames.mkdir(exist_ok=True)
        tb.pyplot().imsave(frames / f"epoch_{epoch + 1:03d}.png", grid[..., 0], cmap="gray", vmin=0, vmax=1)
        tb.log_image(self.log_dir, "samples", "fixed_noise", grid, step=epoch,
                     description="같은 잡음에서 그린 숫자 / the same noise after each epoch")
        n = min(EPOCH_SAMPLES, len(self.val_features))
        probabilities, features = self.judge(sample(self.gan, n, self.seed + epoch)[0][..., None])
        score, distance = inception_score(probabilities), frechet_distance(features, self.val_features)
        scores = {"inception_score": score, "frechet_distance": distance}
        if self.gan.ema > 0:  # 이동 평균이 얼마나 돕는지: 학습 중인 생성자 자체의 점수도 잽니다
            raw, raw_features = self.judge(sample(self.gan, n, self.seed + epoch, raw=True)[0][..., None])
            scores.update(raw_inception_score=inception_score(raw),
                          raw_frechet_distance=frechet_distance(raw_features, self.val_features))
        with tb.writer(self.log_dir, "validation").as_default():
            for name, value in scores.items():
                tf.summary.scalar(name, value, step=epoch)
        print(f"epoch {epoch + 1}: Inception Score {score:.2f}, Fréchet distance {distance:.2f} (validation)"
              + (f"; without the moving average {scores['raw_inception_score']:.2f}, "
                 f"{scores['raw_frechet_distance']:.2f}" if self.gan.ema > 0 else ""))
        self.manager.save(checkpoint_number=epoch + 1)
        self.state["history"].append({"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}, **scores})
        self.state["train_seconds"] = round(seconds, 2)
        self.timer, self.seconds_before = tb.Timer(), seconds  # 채점한 시간은 학습 시간에서 뺍니다
        write_state(self.log_dir, self.state)


def checkpoint_manager(gan, log_dir):
    """tf.train.Checkpoint of everything a resumed run needs: both networks, the moving average, both optimizers
    (Adam's moments and step count) and the noise generator's state; the last two epochs are kept."""
    checkpoint = tf.train.Checkpoint(generator=gan.generator, discriminator=gan.discriminator,
                                     ema_generator=gan.ema_generator, d_optimizer=gan.d_optimizer,
                                     g_optimizer=gan.g_optimizer, noise=gan.seed_generator.state)
    return tf.train.CheckpointManager(checkpoint, Path(log_dir) / CHECKPOINTS, max_to_keep=2)


def write_state(log_dir, state):
    """state.json under a temporary name, then renamed (atomic): never half a file."""
    folder = Path(log_dir) / CHECKPOINTS
    folder.mkdir(parents=True, exist_ok=True)
    flags.save_json(folder / f"saving-{STATE}", state)
    os.replace(folder / f"saving-{STATE}", folder / STATE)


def parse_flags(argv=None):
    """flags.parse; with --resume the run's own settings are the defaults, so `--resume --log-dir DIR` suffices."""
    first = PARSER.parse_args(argv)
    if not first.resume:
        return flags.parse(PARSER, argv)
    if first.log_dir is None:
        PARSER.error("--resume needs --log-dir DIR: the run folder to continue")
    path = first.log_dir / CHECKPOINTS / STATE
    if not path.exists():
        raise SystemExit(f"error: {path} does not exist, so there is nothing to resume; check the folder name, "
                         "or start a new run without --resume")
    settings = json.loads(path.read_text(encoding="utf-8"))["settings"]
    given = sys.argv[1:] if argv is None else argv
    for key in RESUME_SETTINGS:
        option = "--" + key.replace("_", "-")
        if any(a == option or a.startswith(option + "=") for a in given) and getattr(first, key) != settings[key]:
            PARSER.error(f"{option} {getattr(first, key)} differs from the run being resumed ({settings[key]}); "
                         f"--resume continues a run unchanged (only --epochs may grow): drop {option}")
    parser = copy.deepcopy(PARSER)  # 복사본의 기본값만 바꿉니다
    parser.set_defaults(**settings, smoke_epochs=settings["epochs"])
    return flags.parse(parser, argv, allow_existing_run=True)


# 5. 그림 / Figures
def save_grid(images, path, log_dir, title, ncols=GRID):
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(6, 6.3))
    ax.imshow(tb.image_grid(images, ncols)[..., 0], cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
    tb.save_figure(fig, path, log_dir=log_dir)


def save_gif(log_dir, path):
    """frames/epoch_*.png (one fixed-noise grid per epoch, resumed runs included) as an animated GIF."""
    from PIL import Image

    frames = [Image.open(p).convert("L") for p in sorted((Path(log_dir) / "frames").glob("epoch_*.png"))]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=400, loop=0)
    print(f"Saved animation: {path} ({len(frames)} epochs)")


def save_class_histogram(shares, path, log_dir):
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.bar(range(10), shares)
    ax.axhline(0.1, color="grey", linestyle="--", label="고른 분포 / uniform (0.1)")
    ax.set(xticks=range(10), xlabel="분류기가 읽은 숫자 / digit read by the classifier", ylabel="비율 / share",
           title="샘플의 숫자 분포 (모드 붕괴라면 몇 숫자만) / digits among the samples")
    ax.legend()
    tb.save_figure(fig, path, log_dir=log_dir)


def save_history(history, real_score, path, log_dir):
    plt = tb.pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    epochs = [row["epoch"] for row in history]
    left.plot(epochs, [row["inception_score"] for row in history], "o-", label="샘플 / samples")
    if "raw_inception_score" in history[-1]:
        left.plot(epochs, [row.get("raw_inception_score") for row in history], "s--", label="이동 평균 없이 / no EMA")
    left.axhline(real_score, color="grey", linestyle="--", label="진짜 테스트 숫자 / real test digits")
    left.set(xlabel="에포크 / epoch", ylabel="Inception Score", title="높을수록 좋음 / higher is better")
    left.legend()
    right.plot(epochs, [row["frechet_distance"] for row in history], "o-")
    right.set(xlabel="에포크 / epoch", ylabel="Fréchet distance", yscale="log", title="낮을수록 좋음 / lower is better")
    tb.save_figure(fig, path, log_dir=log_dir)


def main(argv=None):
    args = parse_flags(argv)
    if not (0 <= args.label_smoothing < 1 and 0 <= args.ema < 1 and args.latent_dim >= 1):
        raise data.DataError("--label-smoothing and --ema must be in [0, 1), --latent-dim at least 1")
    (x_train, y_train), (x_val, _), (x_test, y_test) = load_data(args.data_dir, args.smoke)
    strategy = runtime.setup(args)
    # 채점용 분류기: 한 번 학습해 데이터 캐시에 둡니다(--smoke는 실행 폴더에 1 에포크짜리를)
    judge_dir = args.log_dir / "judge" if args.smoke else data.cache_dir() / "mnist_judge"
    judge = load_judge(x_train, y_train, x_test, y_test, judge_dir, epochs=SMOKE_JUDGE_EPOCHS if args.smoke else JUDGE_EPOCHS)
    with strategy.scope():
        gan = build_gan(args.latent_dim, args.conditional, args.learning_rate, args.d_learning_rate,
                        args.label_smoothing, args.ema, args.seed)
    gan.generator.summary()
    gan.discriminator.summary()
    manager = checkpoint_manager(gan, args.log_dir)
    state = {"settings": {k: getattr(args, k) for k in (*RESUME_SETTINGS, "epochs")}, "history": [],
             "train_seconds": 0.0, "resumed_at_epochs": []}
    if args.resume:
        state = json.loads((args.log_dir / CHECKPOINTS / STATE).read_text(encoding="utf-8"))
        manager.checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        state["resumed_at_epochs"].append(len(state["history"]))
        state["settings"]["epochs"] = args.epochs
        print(f"Resuming {args.log_dir} after epoch {len(state['history'])} (step {int(gan.g_optimizer.iterations)})")
    start_epoch, start_step = len(state["history"]), int(gan.g_optimizer.iterations)
    if start_epoch >= args.epochs:
        raise SystemExit(f"error: the run in {args.log_dir} has already trained {start_epoch} epochs; "
                         f"pass a larger --epochs to train longer")

    # 진짜 숫자와 그 숫자(조건부 GAN의 입력)를 한 배치로; 마지막의 작은 배치는 버립니다
    x_train = x_train * 2 - 1  # [0, 1] -> [-1, 1]
    train_ds = data.make_pipeline(x_train, y_train.astype("int32"), batch_size=args.batch_size, shuffle=True,
                                  seed=args.seed, drop_remainder=True)
    epoch_end = EpochEnd(gan, judge, x_val, state, args.log_dir, manager, args.seed)
    gan.fit(train_ds, epochs=args.epochs, initial_epoch=start_epoch, verbose=2,
            callbacks=[tb.tensorboard_callback(args.log_dir), tb.StopOnNaN(args.log_dir), epoch_end])

    # 평가 / Evaluate once: 10,000 samples against the test digits, and the test digits themselves (the ceiling)
    n = SMOKE_EVAL_SAMPLES if args.smoke else EVAL_SAMPLES
    images, digits = sample(gan, n, args.seed + 10_000)
    probabilities, features = judge(images[..., None])
    real_probabilities, real_features = judge(x_test)
    score, real_score = inception_score(probabilities), inception_score(real_probabilities)
    distance = frechet_distance(features, real_features)
    extra = {}
    if args.ema > 0:  # 같은 잡음으로 학습 중인 생성자 자체를: 이동 평균이 얼마나 도왔는지
        raw = judge(sample(gan, n, args.seed + 10_000, raw=True)[0][..., None])[0]
        extra["raw_inception_score"] = inception_score(raw)
        print(f"Without the moving average (the generator as trained): Inception Score {extra['raw_inception_score']:.2f}")
    shares = np.bincount(probabilities.argmax(axis=1), minlength=10) / n
    print(f"Test: Inception Score {score:.2f} (real test digits {real_score:.2f}), Fréchet distance {distance:.2f}; "
          f"digit shares {np.round(shares, 3).tolist()}")
    if args.conditional:
        extra["conditional_accuracy"] = float((probabilities.argmax(axis=1) == digits).mean())
        print(f"Conditional: the classifier reads the asked-for digit in {extra['conditional_accuracy']:.4f} of samples")
    with tb.writer(args.log_dir, "test").as_default():
        for name, value in (("inception_score", score), ("real_inception_score", real_score),
                            ("frechet_distance", distance), ("min_class_share", shares.min()), *extra.items()):
            tf.summary.scalar(name, value, step=0)

    title = "숫자마다 한 줄 / one row per digit" if args.conditional else "샘플 / samples"
    order = (np.concatenate([np.flatnonzero(digits == d)[:GRID] for d in range(10)]) if args.conditional
             else np.arange(GRID * GRID))
    save_grid(images[order], args.log_dir / ("digits.png" if args.conditional else "samples.png"), args.log_dir,
              f"{title} (EMA generator)" if args.ema > 0 else title)
    save_gif(args.log_dir, args.log_dir / "training.gif")
    save_class_histogram(shares, args.log_dir / "class_histogram.png", args.log_dir)
    save_history(state["history"], real_score, args.log_dir / "history.png", args.log_dir)
    gan.sampler().save(args.log_dir / "generator.keras")
    return tb.write_metrics(
        args.log_dir, inception_score=score, real_inception_score=real_score, frechet_distance=distance,
        min_class_share=shares.min(), **extra, class_shares=shares.tolist(), judge_test_accuracy=judge.test_accuracy,
        train_seconds=state["train_seconds"], epochs=args.epochs, resumed_from_epoch=start_epoch,
        resumed_from_step=start_step, steps=int(gan.g_optimizer.iterations),
    )


if __name__ == "__main__":
    main()
