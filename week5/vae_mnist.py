"""Variational autoencoder (VAE) on MNIST: the reparameterisation trick, the ELBO in nats, and new digits from noise.

요약: 변분 오토인코더(variational autoencoder, VAE)의 인코더는 그림마다 코드 하나가 아니라 정규분포 하나(평균과 로그 분산)를
내고, 그 분포에서 뽑은 잠재 벡터(latent vector)로 디코더가 그림을 다시 그립니다. 뽑기를 평균 + 표준편차 x 잡음으로 써서
(재매개변수화 트릭, reparameterisation trick) 기울기가 흐르게 하고, 손실은 재구성 오차(reconstruction)와 KL 발산의 합,
곧 음의 ELBO(evidence lower bound)입니다. 학습 뒤에는 표준정규분포에서 뽑은 잡음만으로 새 숫자를 그립니다.

Run:    python week5/vae_mnist.py
        python week5/vae_mnist.py --latent-dim 2     (a 2-D latent space: the digit map and the decoded manifold)
Smoke:  python week5/vae_mnist.py --smoke
Expect: prints the validation negative ELBO, reconstruction and KL (nats per image) every epoch; then the test
        negative ELBO and the importance-weighted bound (k samples per image, a tighter estimate of -log p(x)).
        The run folder gets reconstructions.png, samples.png, latent_map.png, manifold.png, interpolation.png,
        encoder.keras and decoder.keras; TensorBoard shows the three losses and a sample grid per epoch.
        Measured (README table, 2-core CPU): with the defaults (16 latent numbers) test negative ELBO 95.8 nats
        (reconstruction 73.2 + KL 22.6), importance-weighted bound 92.3 (k = 100), 810 s
        of training; with --latent-dim 2 test negative ELBO 142.6, importance-weighted 139.6, 839 s.
"""

import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=30, batch_size=128, learning_rate=1e-3)
PARSER.add_argument("--latent-dim", type=int, default=16,
                    help="numbers in the latent vector z; 2 draws the latent space itself (default: %(default)s)")
PARSER.add_argument("--hidden", type=int, default=256,
                    help="units of the dense layer in the encoder and the decoder (default: %(default)s)")
PARSER.add_argument("--iwae-samples", type=int, default=100,
                    help="k, the samples per test image of the importance-weighted bound (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from common import data, runtime, tb

VALIDATION = 5000  # 학습 세트의 마지막 5,000장: 검증 세트
SMOKE_TRAIN, SMOKE_VALIDATION, SMOKE_TEST, SMOKE_IWAE_SAMPLES = 1000, 200, 200, 5
LOG_2PI = math.log(2 * math.pi)
GRID = 8  # 에포크마다 TensorBoard에 올리는 샘플 격자: 8x8


# 1. 데이터 / Prepare the data: images (N, 28, 28, 1) in [0, 1]; labels only colour the latent map
def load_data(data_dir=None, smoke=False):
    """Returns (x_train, x_val, x_test, y_test)."""
    (x_train, _), (x_test, y_test) = data.load_mnist(data_dir)
    if smoke:
        x_train, x_test, y_test = x_train[:SMOKE_TRAIN], x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    x_train = x_train[..., None].astype("float32") / 255
    x_test = x_test[..., None].astype("float32") / 255
    # 검증 세트(validation set)는 학습 세트에서 떼어 냅니다. 테스트 세트는 마지막에 한 번만 씁니다.
    n_val = SMOKE_VALIDATION if smoke else VALIDATION
    x_val, x_train = x_train[-n_val:], x_train[:-n_val]
    print(f"Data: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images")
    return x_train, x_val, x_test, y_test


# 2. 모델 / Build the model: encoder -> (mean, log-variance) -> sampling -> decoder
class Sampling(layers.Layer):
    """The reparameterisation trick: z = mean + exp(log_var / 2) * eps, eps ~ N(0, I).

    Drawing z directly from N(mean, var) would give no gradient for mean and var; written this way the
    randomness is in eps alone, and z is a plain differentiable function of mean and log_var.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, mean, log_var):
        eps = keras.random.normal(keras.ops.shape(mean), seed=self.seed_generator)  # 잡음(noise)
        return mean + keras.ops.exp(0.5 * log_var) * eps


def build_encoder(latent_dim=16, hidden=256):
    """Image (28, 28, 1) -> (mean, log_var), each (latent_dim,): the posterior q(z|x) = N(mean, exp(log_var))."""
    image = keras.Input(shape=(28, 28, 1), name="image")
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(image)  # 14x14
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)  # 7x7
    x = layers.Dense(hidden, activation="relu")(layers.Flatten()(x))
    mean = layers.Dense(latent_dim, name="mean", dtype="float32")(x)
    log_var = layers.Dense(latent_dim, name="log_var", dtype="float32")(x)  # 분산은 양수: 로그로 내면 제약이 없습니다
    return keras.Model(image, [mean, log_var], name="encoder")


def build_decoder(latent_dim=16, hidden=256):
    """z (latent_dim,) -> logits (28, 28, 1): every pixel's Bernoulli parameter is sigmoid(logit)."""
    z = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense(hidden, activation="relu")(z)
    x = layers.Reshape((7, 7, 64))(layers.Dense(7 * 7 * 64, activation="relu")(x))
    x = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(x)  # 14x14
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)  # 28x28
    logits = layers.Conv2D(1, 3, padding="same", name="logits", dtype="float32")(x)
    return keras.Model(z, logits, name="decoder")


def reconstruction_nats(x, logits):
    """-log p(x|z) per image in nats: the Bernoulli cross-entropy summed over the 784 pixels (not averaged)."""
    return keras.ops.sum(keras.ops.binary_crossentropy(x, logits, from_logits=True), axis=(1, 2, 3))


def kl_nats(mean, log_var):
    """KL(q(z|x) || N(0, I)) per image in nats, in closed form: -1/2 sum(1 + log_var - mean^2 - exp(log_var)).
    Zero exactly when the posterior is the prior (mean 0, log_var 0)."""
    return -0.5 * keras.ops.sum(1 + log_var - keras.ops.square(mean) - keras.ops.exp(log_var), axis=1)


class VAE(keras.Model):
    """Encoder + sampling + decoder, trained on the negative ELBO = reconstruction + KL (nats per image).

    train_step is written out so each part of the loss is visible and logged on its own: "loss" (the
    negative ELBO), "reconstruction" and "kl", for train and validation alike.
    """

    def __init__(self, encoder, decoder, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.sampling = Sampling(seed=seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss", "reconstruction", "kl")}

    @property
    def metrics(self):
        return list(self.trackers.values())  # 에포크마다 초기화되는 평균들

    def call(self, x):
        mean, log_var = self.encoder(x)
        return self.decoder(self.sampling(mean, log_var))

    def losses_of(self, x):
        mean, log_var = self.encoder(x)
        z = self.sampling(mean, log_var)  # 재매개변수화: 기울기가 mean과 log_var로 흐릅니다
        reconstruction = keras.ops.mean(reconstruction_nats(x, self.decoder(z)))
        kl = keras.ops.mean(kl_nats(mean, log_var))
        return reconstruction + kl, reconstruction, kl

    def update_trackers(self, *values):
        for tracker, value in zip(self.trackers.values(), values):
            tracker.update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, x):
        with tf.GradientTape() as tape:
            loss, reconstruction, kl = self.losses_of(x)
            scaled = self.optimizer.scale_loss(loss)  # 혼합 정밀도(mixed precision)에서만 크기를 키웁니다
        gradients = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self.update_trackers(loss, reconstruction, kl)

    def test_step(self, x):
        return self.update_trackers(*self.losses_of(x))


def build_vae(latent_dim=16, hidden=256, learning_rate=1e-3, seed=None, total_steps=1000):
    """The VAE, compiled with Adam (the loss lives in train_step); the learning rate falls along a cosine to 0."""
    vae = VAE(build_encoder(latent_dim, hidden), build_decoder(latent_dim, hidden), seed=seed, name="vae")
    # 코사인 학습률 스케줄: 끝에서 작게 움직여, 한 번 뽑은 z에 따라 흔들리는 손실이 자리를 잡습니다
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps)
    vae.compile(optimizer=keras.optimizers.Adam(schedule))
    vae(keras.ops.zeros((1, 28, 28, 1)))  # 가중치를 만들어 둡니다(build)
    return vae


# 3. 학습 / Train, watching the validation negative ELBO and a grid of samples every epoch
class SampleGrid(keras.callbacks.Callback):
    """Decodes the same GRID*GRID latent vectors from N(0, I) after every epoch and logs them to TensorBoard."""

    def __init__(self, decoder, latent_dim, log_dir, seed=0):
        super().__init__()
        self.decoder, self.log_dir = decoder, log_dir
        self.z = np.random.default_rng(seed).standard_normal((GRID * GRID, latent_dim)).astype("float32")

    def on_epoch_end(self, epoch, logs=None):
        images = decode(self.decoder, self.z)
        tb.log_image(self.log_dir, "samples", "samples", tb.image_grid(images, GRID), step=epoch,
                     description="같은 잡음 z에서 그린 숫자 / the same z ~ N(0, I), decoded after each epoch")


def train(vae, x_train, x_val, epochs, batch_size, log_dir, latent_dim, seed=42):
    """Fits the VAE; returns (history, seconds of training). TensorBoard: train/, validation/, samples/."""
    train_ds = data.make_pipeline(x_train, batch_size=batch_size, shuffle=True, seed=seed)
    val_ds = data.make_pipeline(x_val, batch_size=1000)
    timer = tb.Timer()
    history = vae.fit(
        train_ds, validation_data=val_ds, epochs=epochs, verbose=2,
        callbacks=[tb.tensorboard_callback(log_dir), tb.StopOnNaN(log_dir),
                   SampleGrid(vae.decoder, latent_dim, log_dir, seed)],
    )
    return history, timer.seconds()


# 4. 평가 / Evaluate: the ELBO and the importance-weighted bound on the test set
def decode(decoder, z, batch_size=1000):
    """Latent vectors (n, latent_dim) -> images (n, 28, 28) in [0, 1], the Bernoulli means."""
    logits = decoder.predict(np.asarray(z, dtype="float32"), batch_size=batch_size, verbose=0)
    return keras.ops.convert_to_numpy(keras.ops.sigmoid(logits))[..., 0]


def log_normal(z, mean, log_var):
    """log N(z; mean, exp(log_var)) summed over the latent dimensions."""
    return -0.5 * tf.reduce_sum(LOG_2PI + log_var + tf.square(z - mean) / tf.exp(log_var), axis=-1)


def importance_weighted_bound(encoder, decoder, x, k=100, batch_size=100, seed=0):
    """Mean over images of -log (1/k sum_i p(x, z_i) / q(z_i|x)), z_i ~ q(z|x), in nats (Burda et al. 2016).

    k=1 is the negative ELBO of one sample; as k grows the bound tightens towards -log p(x), so it is
    never above the negative ELBO on average.
    """
    rng = tf.random.Generator.from_seed(seed)
    total = 0.0
    for start in range(0, len(x), batch_size):
        batch = tf.constant(x[start:start + batch_size])
        mean, log_var = encoder(batch, training=False)  # (b, d)
        eps = rng.normal((k, *mean.shape))
        z = mean + tf.exp(0.5 * log_var) * eps  # (k, b, d)
        logits = decoder(tf.reshape(z, (-1, z.shape[-1])), training=False)
        repeated = tf.tile(batch, (k, 1, 1, 1))  # decoder의 출력 순서(k, b)에 맞춘 그림들
        log_px_z = -tf.reshape(reconstruction_nats(repeated, logits), (k, -1))  # (k, b)
        log_w = log_px_z + log_normal(z, 0.0, 0.0) - log_normal(z, mean, log_var)
        log_px = tf.reduce_logsumexp(log_w, axis=0) - math.log(k)  # log (1/k sum exp(log_w))
        total += float(tf.reduce_sum(-log_px))
    return total / len(x)


# 5. 그림 / Figures
def save_reconstructions(vae, x_test, path, log_dir, n=10):
    """Test digits (top) and their reconstructions from the posterior mean (bottom)."""
    mean, _ = vae.encoder.predict(x_test[:n], verbose=0)
    rebuilt = decode(vae.decoder, mean)
    plt = tb.pyplot()
    fig, axes = plt.subplots(2, n, figsize=(n, 2.3))
    for i in range(n):
        for row, image in enumerate((x_test[i, ..., 0], rebuilt[i])):
            axes[row, i].imshow(image, cmap="gray", vmin=0, vmax=1)
            axes[row, i].axis("off")
    fig.suptitle("위: 테스트 숫자, 아래: 재구성 / top: test digits, bottom: reconstructions (posterior mean)")
    tb.save_figure(fig, path, log_dir=log_dir)


def save_samples(decoder, latent_dim, path, log_dir, seed=0, n=10):
    """n x n digits decoded from z ~ N(0, I): digits no one drew."""
    z = np.random.default_rng(seed + 1).standard_normal((n * n, latent_dim))
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(tb.image_grid(decode(decoder, z), n)[..., 0], cmap="gray", vmin=0, vmax=1)
    ax.set_title("표준정규분포에서 뽑은 z로 그린 숫자 / samples, z ~ N(0, I)")
    ax.axis("off")
    tb.save_figure(fig, path, log_dir=log_dir)


def latent_plane(means):
    """(origin, two directions, coordinates (n, 2)): the latent space itself when it is 2-D, else the plane of
    its two principal components (PCA by SVD), through the mean of the test codes."""
    if means.shape[1] == 2:
        return np.zeros(2), np.eye(2), means
    origin = means.mean(axis=0)
    _, _, vt = np.linalg.svd(means - origin, full_matrices=False)
    return origin, vt[:2], (means - origin) @ vt[:2].T


def save_latent_map(means, labels, path, log_dir):
    """The test images' posterior means, coloured by digit (2-D latent space, or its 2-D projection)."""
    _, _, coords = latent_plane(means)
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(6, 5))
    points = ax.scatter(coords[:, 0], coords[:, 1], c=labels, cmap="tab10", s=2, vmin=-0.5, vmax=9.5)
    fig.colorbar(points, ticks=range(10), label="숫자 / digit")
    projected = means.shape[1] > 2
    ax.set(xlabel="주성분 1 / PC 1" if projected else "z[0]", ylabel="주성분 2 / PC 2" if projected else "z[1]",
           title="테스트 숫자의 잠재 평균 / test posterior means" + (" (PCA)" if projected else ""))
    tb.save_figure(fig, path, log_dir=log_dir)


def save_manifold(decoder, means, path, log_dir, n=15):
    """Digits decoded on an n x n grid of the latent plane: with a 2-D latent space the grid's coordinates are
    normal quantiles (equal probability between lines); otherwise +-2 standard deviations along the two
    principal directions of the test codes."""
    origin, directions, coords = latent_plane(means)
    if means.shape[1] == 2:
        steps = [statistics.NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, n)]
        a_values, b_values = steps, steps
    else:
        a_values, b_values = (np.linspace(-2, 2, n) * coords[:, i].std() for i in range(2))
    z = np.array([origin + a * directions[0] + b * directions[1] for b in b_values[::-1] for a in a_values])
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.imshow(tb.image_grid(decode(decoder, z), n)[..., 0], cmap="gray", vmin=0, vmax=1)
    ax.set_title("잠재 공간의 격자를 그린 것 / the decoded latent " + ("space" if means.shape[1] == 2 else "plane (PCA)"))
    ax.axis("off")
    tb.save_figure(fig, path, log_dir=log_dir)


def save_interpolation(decoder, means, labels, path, log_dir, steps=10):
    """A strip from one test digit's code to another's (the first test image and the first of another digit)."""
    other = int(np.flatnonzero(labels != labels[0])[0])
    z = np.array([(1 - t) * means[0] + t * means[other] for t in np.linspace(0, 1, steps)])
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(steps, 1.5))
    ax.imshow(tb.image_grid(decode(decoder, z), steps)[..., 0], cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"잠재 공간의 직선 보간 / latent interpolation: {labels[0]} -> {labels[other]}")
    ax.axis("off")
    tb.save_figure(fig, path, log_dir=log_dir)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    if args.latent_dim < 2 or args.iwae_samples < 1:
        raise data.DataError("--latent-dim must be at least 2 and --iwae-samples at least 1")
    x_train, x_val, x_test, y_test = load_data(args.data_dir, args.smoke)
    strategy = runtime.setup(args)  # 장치, 시드, 실행 폴더와 config.json
    with strategy.scope():
        vae = build_vae(args.latent_dim, args.hidden, args.learning_rate, args.seed,
                        total_steps=args.epochs * math.ceil(len(x_train) / args.batch_size))
    vae.encoder.summary()
    vae.decoder.summary()
    history, seconds = train(vae, x_train, x_val, args.epochs, args.batch_size, args.log_dir, args.latent_dim, args.seed)

    # 평가 / Evaluate on the test set, once: the ELBO (one z per image) and the tighter importance-weighted bound
    test = vae.evaluate(data.make_pipeline(x_test, batch_size=1000), verbose=0, return_dict=True)
    k = SMOKE_IWAE_SAMPLES if args.smoke else args.iwae_samples
    timer = tb.Timer()
    iwae = importance_weighted_bound(vae.encoder, vae.decoder, x_test, k=k, seed=args.seed)
    print(f"Test negative ELBO {test['loss']:.2f} nats per image (reconstruction {test['reconstruction']:.2f} + "
          f"KL {test['kl']:.2f}); importance-weighted bound (k={k}) {iwae:.2f} nats ({timer.seconds():.0f} s)")
    with tb.writer(args.log_dir, "test").as_default():
        for name, value in (("neg_elbo", test["loss"]), ("reconstruction", test["reconstruction"]),
                            ("kl", test["kl"]), ("iwae", iwae)):
            tf.summary.scalar(name, value, step=0)

    means, _ = vae.encoder.predict(x_test, batch_size=1000, verbose=0)
    save_reconstructions(vae, x_test, args.log_dir / "reconstructions.png", args.log_dir)
    save_samples(vae.decoder, args.latent_dim, args.log_dir / "samples.png", args.log_dir, args.seed)
    save_latent_map(means, y_test, args.log_dir / "latent_map.png", args.log_dir)
    save_manifold(vae.decoder, means, args.log_dir / "manifold.png", args.log_dir)
    save_interpolation(vae.decoder, means, y_test, args.log_dir / "interpolation.png", args.log_dir)
    vae.encoder.save(args.log_dir / "encoder.keras")
    vae.decoder.save(args.log_dir / "decoder.keras")
    return tb.write_metrics(
        args.log_dir,
        test_neg_elbo_nats=test["loss"], test_reconstruction_nats=test["reconstruction"], test_kl_nats=test["kl"],
        test_iwae_nats=iwae, iwae_samples=k, val_neg_elbo_nats=history.history["val_loss"][-1],
        train_seconds=round(seconds, 2), latent_dim=args.latent_dim, epochs=args.epochs,
    )


if __name__ == "__main__":
    main()
