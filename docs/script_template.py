"""Title: one line that says what the script teaches.

요약: 이 스크립트가 가르치는 한 가지 생각을 2-3줄의 한국어로 씁니다. 새 스크립트는 이 파일을
복사해서 시작합니다(week1/mnist_cnn.py가 같은 모양의 완성된 예입니다).

Run:    python docs/script_template.py
Smoke:  python docs/script_template.py --smoke
Expect: what the user sees and how long it takes (only numbers that are in results/).
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, epochs=2, batch_size=128, learning_rate=1e-3)
PARSER.add_argument("--hidden", type=int, default=64, help="units in the hidden layer (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
from keras import layers

from common import data, runtime, tb

VALIDATION = 5000  # 학습 세트에서 떼어 내는 검증 세트의 크기
SMOKE_TRAIN, SMOKE_VALIDATION, SMOKE_TEST = 1000, 200, 500


# 1. 데이터 / Prepare the data
def load_data(data_dir=None, smoke=False):
    """Returns (x_train, y_train), (x_val, y_val), (x_test, y_test)."""
    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_dir)
    if smoke:
        x_train, y_train, x_test, y_test = x_train[:SMOKE_TRAIN], y_train[:SMOKE_TRAIN], x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    x_train = x_train.reshape(len(x_train), -1).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), -1).astype("float32") / 255
    # 검증 세트(validation set)는 학습 세트에서 떼어 냅니다. 테스트 세트는 마지막에 한 번만 씁니다.
    n_val = SMOKE_VALIDATION if smoke else VALIDATION
    x_val, y_val, x_train, y_train = x_train[-n_val:], y_train[-n_val:], x_train[:-n_val], y_train[:-n_val]
    print(f"Data: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images")
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


# 2. 모델 / Build the model
def build_model(hidden=64, learning_rate=1e-3):
    """The idea being taught, written out; arguments are plain values, so it works in a REPL."""
    model = keras.Sequential(
        [keras.Input(shape=(784,)), layers.Dense(hidden, activation="relu"), layers.Dense(10, activation="softmax")]
    )
    model.compile(keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# 3. 학습 / Train, watching the validation set
def train(model, x_train, y_train, x_val, y_val, epochs, batch_size, log_dir, seed=42):
    """Returns (history, seconds of training)."""
    train_ds = data.make_pipeline(x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed)
    val_ds = data.make_pipeline(x_val, y_val, batch_size=1000)
    timer = tb.Timer()
    history = model.fit(
        train_ds, validation_data=val_ds, epochs=epochs, verbose=2,
        callbacks=[tb.tensorboard_callback(log_dir), tb.StopOnNaN(log_dir)],
    )
    return history, timer.seconds()


def main(argv=None):
    args = flags.parse(PARSER, argv)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data(args.data_dir, args.smoke)
    strategy = runtime.setup(args)  # 장치, 시드, 실행 폴더와 config.json
    with strategy.scope():
        model = build_model(args.hidden, args.learning_rate)
    history, seconds = train(model, x_train, y_train, x_val, y_val, args.epochs, args.batch_size, args.log_dir, args.seed)

    # 4. 평가 / Evaluate on the test set, once
    test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    print(f"Test accuracy: {test_acc:.4f}")
    plt = tb.pyplot()  # 그림은 PNG로 저장하고 TensorBoard의 Images 탭에도 올립니다
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(history.history["val_accuracy"], marker="o")
    ax.set(xlabel="에포크 / epoch", ylabel="검증 정확도 / validation accuracy")
    tb.save_figure(fig, Path(args.log_dir) / "validation_accuracy.png", log_dir=args.log_dir)
    return tb.write_metrics(
        args.log_dir, test_accuracy=test_acc, test_loss=test_loss, train_seconds=round(seconds, 2),
        steps_per_epoch=math.ceil(len(x_train) / args.batch_size),
    )


if __name__ == "__main__":
    main()
