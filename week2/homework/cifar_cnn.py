"""CIFAR-10 CNN homework (template): output-shape arithmetic, and a CNN under 100,000 parameters that beats an MLP.

요약: 2주차 과제입니다. 합성곱(convolution)·풀링(pooling) 층의 출력 크기를 손으로 계산하고(TODO 1, 2),
파라미터 100,000개 이하의 작은 CNN을 만들어(TODO 3) CIFAR-10 사진 10,000장으로 학습합니다(TODO 4).
채우지 않은 TODO가 있으면 스크립트는 그 번호를 알려 주고 멈춥니다.

Run:    python week2/homework/cifar_cnn.py
Smoke:  python week2/homework/cifar_cnn.py --smoke
Grade:  python scripts/grade_homework.py week2/homework/cifar_cnn.py
Expect: until TODO 1 is filled: "TODO 1 (conv_output_size) is not done yet: ...".
        Once all four are filled: the shapes of week2/cifar10_cnn.py's conv/pool stack, the model summary and
        its parameter count, the training epochs (not timed in results/), the test accuracy (the grader asks for
        more than its MLP baseline; the solution's numbers are in README.md) and learning_curves.png.
"""

import math  # noqa: F401  (TODO 1에서 씁니다 / used in TODO 1: math.ceil)
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
# 채점기도 이 기본값(에포크, 배치 크기, 학습률)으로 학습합니다. 바꾸려면 검증 세트의 곡선을 보고 바꾸세요.
PARSER = flags.make_parser(__file__, __doc__, epochs=5, batch_size=64, learning_rate=2e-3)
PARSER.set_defaults(mixed_precision="off")  # 작은 CNN: 16비트 계산으로 얻는 것이 없습니다
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras  # noqa: F401  (TODO 3, 4에서 씁니다 / used in TODO 3 and 4)
import numpy as np
from keras import layers  # noqa: F401  (TODO 3)

from common import data, runtime, tb

INPUT_SHAPE, NUM_CLASSES = (32, 32, 3), 10
MAX_PARAMS = 100_000  # 파라미터 예산: 채점기가 model.count_params()로 셉니다
N_TRAIN, N_VAL = 10_000, 1_000  # 학습 세트 50,000장 중 앞의 10,000장으로 학습, 다음 1,000장은 검증 세트
SMOKE_TRAIN, SMOKE_VAL, SMOKE_TEST = 1000, 200, 500
# week2/cifar10_cnn.py의 합성곱·풀링 층 (배치 정규화와 ReLU는 모양을 바꾸지 않으므로 뺌)
# 층 하나는 튜플 하나 / one tuple per layer:
#   ("conv", filters, kernel_size, strides, padding)   <- layers.Conv2D(filters, kernel_size, strides, padding)
#   ("pool", pool_size, strides, padding)              <- layers.MaxPooling2D(pool_size, strides, padding)
#   ("flatten",)                                       <- layers.Flatten()
COURSE_STACK = [
    ("conv", 32, 3, 1, "same"), ("pool", 2, None, "valid"), ("conv", 32, 3, 1, "same"),
    ("conv", 64, 3, 1, "same"), ("pool", 2, None, "valid"), ("conv", 64, 3, 1, "same"),
    ("conv", 128, 3, 1, "same"), ("pool", 2, None, "valid"), ("conv", 128, 3, 1, "same"), ("flatten",),
]


class TodoNotDone(NotImplementedError):
    """Raised by a TODO block that is still empty; main() turns it into a one-line message."""


def todo(number, name):
    """채운 TODO 블록에서는 이 `todo(...)` 줄을 지우세요. / Delete the `todo(...)` line of a block you have filled."""
    raise TodoNotDone(
        f"TODO {number} ({name}) is not done yet: write the TODO {number} block of {Path(__file__).name} "
        "and delete its todo(...) line"
    )


# 채점기(scripts/grade_homework.py)가 아래 네 함수를 직접 부릅니다: 이름과 인자를 바꾸지 마세요.
# The grader calls the four functions below: keep their names and arguments.


# 1. 출력 크기 / The output size of a conv or pooling layer along one axis
def conv_output_size(size, kernel, stride=1, padding="valid"):
    """Output length along one axis of Conv2D or MaxPooling2D with this kernel (window), stride and padding."""
    # ===== TODO 1: 출력 크기 계산 / Output-size arithmetic =========================================
    # 입력 길이 size에 크기 kernel인 창(필터, 또는 풀링 창)을 stride칸씩 밀 때 출력 길이를 정수로 돌려주세요.
    # Return the output length (an int) when a window of `kernel` slides over `size` positions by `stride`.
    # (a) padding="valid" (패딩 없음): 창이 통째로 들어가는 자리만 셉니다.
    #     첫 자리 하나 + 남은 (size - kernel)칸에서 stride마다 한 자리:  (size - kernel) // stride + 1
    #     예: size 32, kernel 3, stride 1 -> 30;  size 31, kernel 2, stride 2 -> 15
    # (b) padding="same": Keras는 가장자리를 0으로 채워(zero padding) 출력이 ceil(size / stride)가 되게 합니다.
    #     커널 크기와 상관없습니다. stride 1이면 크기가 그대로(그래서 'same'). 힌트: math.ceil(size / stride)
    #     예: size 32, stride 1 -> 32;  size 7, kernel 3, stride 2 -> 4
    # 풀링 층(MaxPooling2D)도 같은 계산입니다: kernel 자리에 pool_size.
    # 채점기는 여러 경우를 Keras가 직접 계산한 크기와 비교합니다(하나라도 다르면 불합격).
    # The grader compares many cases with the sizes Keras itself computes for Conv2D and MaxPooling2D.
    todo(1, "conv_output_size")
    # ===== end of TODO 1 =========================================================================


# 2. 층을 쌓으면 / The shape after each layer of a conv/pool stack
def output_shapes(input_shape, stack):
    """[(height, width, channels) after each layer, or (features,) after a flatten], without the batch axis."""
    # ===== TODO 2: 층마다 출력 모양 / The shape after each layer ======================================
    # input_shape = (height, width, channels)에서 시작해 stack의 층을 차례로 지나며, 층마다 출력 모양을
    # 리스트에 담아 돌려주세요. 층의 형식은 위의 COURSE_STACK 설명과 같습니다. 배치 축(batch axis)은 넣지 않습니다.
    # Walk through `stack` from input_shape and return the shape after every layer (no batch axis).
    # - ("conv", filters, kernel_size, strides, padding): 높이와 너비에 각각 TODO 1,
    #   채널 수는 filters (필터 하나가 특징 맵(feature map) 하나)
    # - ("pool", pool_size, strides, padding): 높이와 너비에 TODO 1, 채널 수는 그대로.
    #   strides가 None이면 Keras처럼 strides = pool_size  (None: the Keras default, the pool size)
    # - ("flatten",): (height * width * channels,)  <- 원소 하나짜리 튜플
    # 예 / e.g. output_shapes((32, 32, 3), [("conv", 6, 5, 1, "valid"), ("pool", 2, None, "valid"), ("flatten",)])
    #        == [(28, 28, 6), (14, 14, 6), (1176,)]
    # 채점기는 여러 층 묶음(stack)으로 Keras가 만든 모델의 모양과 비교합니다.
    todo(2, "output_shapes")
    # ===== end of TODO 2 =========================================================================


# 3. 데이터 / Prepare the data (the grader makes its own split; nothing to fill in here)
def load_data(data_dir=None, smoke=False):
    """(x_train, y_train), (x_val, y_val), (x_test, y_test), class_names; images (N, 32, 32, 3) in [0, 1]."""
    (x_all, y_all), (x_test, y_test), class_names = data.load_cifar10(data_dir)
    n_train, n_val = (SMOKE_TRAIN, SMOKE_VAL) if smoke else (N_TRAIN, N_VAL)
    n_val = min(n_val, len(x_all) // 10)  # 사진이 적으면(시험용 작은 데이터) 비율로
    n_train = min(n_train, len(x_all) - n_val)
    if smoke:
        x_test, y_test = x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]
    x_train, y_train = x_all[:n_train], y_all[:n_train]
    x_val, y_val = x_all[n_train:n_train + n_val], y_all[n_train:n_train + n_val]
    x_train, x_val, x_test = (x.astype("float32") / 255 for x in (x_train, x_val, x_test))
    print(f"Data: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images of shape {x_train.shape[1:]}")
    return (x_train, y_train.astype("int32")), (x_val, y_val.astype("int32")), (x_test, y_test.astype("int32")), class_names


# 4. 모델 / Build a CNN with at most MAX_PARAMS parameters
def build_model(input_shape=INPUT_SHAPE, num_classes=NUM_CLASSES):
    """A keras.Model from (32, 32, 3) images to num_classes outputs, at most MAX_PARAMS parameters, not yet compiled."""
    # ===== TODO 3: CNN 만들기 / Build the CNN =====================================================
    # 합성곱 층(layers.Conv2D)이 하나 이상 있고 파라미터가 MAX_PARAMS(100,000)개 이하인 모델을 돌려주세요.
    # Return a model with at least one Conv2D layer and at most 100,000 parameters.
    # 힌트 / Hint: 합성곱-풀링 블록 세 개, 그다음 분류층
    #   keras.Input(shape=input_shape)
    #   layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D()   -> (16, 16, 32)
    #   layers.Conv2D(64, 3, padding="same", activation="relu"), layers.MaxPooling2D()   -> (8, 8, 64)
    #   layers.Conv2D(64, 3, padding="same", activation="relu"), layers.MaxPooling2D()   -> (4, 4, 64)
    #   layers.Flatten(), layers.Dense(num_classes, activation="softmax")
    # 파라미터 세기: Conv2D는 (kernel * kernel * 입력 채널 + 1) * filters, Dense는 (입력 + 1) * units.
    # 풀링 없이 큰 특징 맵을 Flatten해서 Dense에 넣으면 예산을 금방 넘습니다 (예: 32*32*32*10 = 327,680).
    # Count: Conv2D (k*k*in_channels + 1)*filters, Dense (inputs + 1)*units; pool before Flatten to stay in budget.
    # 소프트맥스(softmax)는 한 번만: 여기서 activation="softmax"로 끝내면 TODO 4의 손실은 확률을 받고
    # (from_logits=False, 기본값), 여기서 소프트맥스를 빼면 손실에 from_logits=True를 줍니다. 둘 다 하면 안 됩니다.
    # 컴파일은 TODO 4에서 합니다. / Do not compile here: TODO 4 does.
    todo(3, "build_model")
    # ===== end of TODO 3 =========================================================================


# 5. 학습 / Train: cross-entropy, an optimizer, mini-batches, watching the validation set
def train_model(model, x_train, y_train, x_val, y_val, epochs=5, batch_size=64, learning_rate=2e-3, callbacks=()):
    """Compiles and fits `model` in place; returns the History (loss, accuracy, val_loss, val_accuracy per epoch)."""
    # ===== TODO 4: 학습 / Train the model =========================================================
    # (a) model.compile(...): 옵티마이저 Adam(learning_rate), 손실 "sparse_categorical_crossentropy"
    #     (레이블이 정수 0..9), metrics=["accuracy"].
    #     모델이 로짓(logits)을 내면(소프트맥스 없음) keras.losses.SparseCategoricalCrossentropy(from_logits=True).
    # (b) model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size,
    #               callbacks=list(callbacks), verbose=2) 의 결과(History)를 돌려주세요.
    #     넘겨받은 x_train만으로, 넘겨받은 model을 학습하세요: 채점기는 이 model을 자기 사진으로 평가합니다.
    #     Train this `model` on the x_train you are given: the grader evaluates it on its own held-out images.
    # 채점기는 같은 데이터·같은 에포크로 학습한 MLP(파라미터 98,666개) 기준선보다 높은 정확도를 요구합니다.
    todo(4, "train_model")
    # ===== end of TODO 4 =========================================================================


# 그림 / Learning curves (이 아래는 채울 것이 없습니다 / nothing to fill in below)
def save_curves(history, log_dir):
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    epochs = np.arange(1, len(history.history["loss"]) + 1)
    for key, style in (("accuracy", "o-"), ("val_accuracy", "o--")):
        if key in history.history:
            ax.plot(epochs, history.history[key], style, label=key)
    ax.set_xlabel("에포크 / epoch")
    ax.set_ylabel("정확도 / accuracy")
    ax.set_title("학습·검증 정확도 / training and validation accuracy")
    ax.legend()
    tb.save_figure(fig, Path(log_dir) / "learning_curves.png")


def main(argv=None):
    args = flags.parse(PARSER, argv)
    try:
        examples = [(32, 3, 1, "valid"), (32, 3, 1, "same"), (31, 2, 2, "valid"), (7, 3, 2, "same")]
        sizes = [conv_output_size(*example) for example in examples]
        print("conv_output_size(size, kernel, stride, padding): " + ", ".join(
            f"{example} -> {size}" for example, size in zip(examples, sizes)))
        shapes = output_shapes(INPUT_SHAPE, COURSE_STACK)
        print("Output shapes of week2/cifar10_cnn.py's conv/pool layers for a (32, 32, 3) image:")
        for spec, shape in zip(COURSE_STACK, shapes):
            print(f"  {str(spec):32s} -> {shape}")
        (x_train, y_train), (x_val, y_val), (x_test, y_test), class_names = load_data(args.data_dir, args.smoke)
        strategy = runtime.setup(args)  # 장치, 시드, 실행 폴더와 config.json
        with strategy.scope():
            model = build_model(INPUT_SHAPE, len(class_names))
        model.summary()
        params = model.count_params()
        print(f"Parameters: {params:,} of the budget {MAX_PARAMS:,}" + (" (over the budget!)" if params > MAX_PARAMS else ""))
        timer = tb.Timer()
        history = train_model(
            model, x_train, y_train, x_val, y_val, args.epochs, args.batch_size, args.learning_rate,
            callbacks=[tb.tensorboard_callback(args.log_dir), tb.StopOnNaN(args.log_dir)],
        )
        seconds = timer.seconds()
    except TodoNotDone as e:
        raise SystemExit(str(e)) from None  # 한 줄 메시지와 종료 코드 1, 트레이스백 없이

    # 6. 평가 / Evaluate on the test set, once
    y_pred = model.predict(x_test, batch_size=500, verbose=0).argmax(axis=1)
    test_accuracy = float(np.mean(y_pred == y_test))
    print(f"Test accuracy: {test_accuracy:.4f} on {len(y_test)} test images; {seconds:.0f}s of training")
    save_curves(history, args.log_dir)
    return tb.write_metrics(
        args.log_dir, test_accuracy=test_accuracy, val_accuracy=history.history.get("val_accuracy", [None])[-1],
        params=params, train_seconds=round(seconds, 1), epochs=args.epochs,
    )


if __name__ == "__main__":
    main()
