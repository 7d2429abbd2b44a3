"""Char-RNN, writing: generate text one character at a time from a model trained by week3/char_rnn.py.

요약: 학습된 문자 수준 언어 모델(character-level language model)로 글을 씁니다. 첫 글자들(prime)을
한 번 읽어 순환 상태(recurrent state)를 만든 뒤, 한 글자씩 뽑고(sampling) 그 글자와 상태만 다음 스텝에
넘깁니다: 앞의 글 전체를 매번 다시 읽지 않습니다. 온도(temperature)와 top-k가 글의 모험심을 정합니다.

Run:    python week3/char_rnn_sample.py --model runs/char_rnn/<time> --prime "그는" --length 500
        python week3/char_rnn_sample.py --model DIR --temperature 0.5 --top-k 5   (safer, more repetitive)
Smoke:  python week3/char_rnn_sample.py --smoke   (trains a tiny model for a few seconds first)
Expect: the prime followed by the generated text, characters per second (664 for 500 characters of the Korean-novel
        model on a 2-core CPU, README table), and sample.txt in the run folder
        (with the corpus attribution when the model learned from the Korean novels).
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, data_dir=False)
PARSER.add_argument("--model", type=Path, help="run folder of week3/char_rnn.py (holds model.keras and vocab.json)")
PARSER.add_argument("--prime", default=None, help="text to start from (default: the first line the model saw)")
PARSER.add_argument("--length", type=int, default=500, help="characters to generate (default: %(default)s)")
PARSER.add_argument("--temperature", type=float, default=0.8, help=(
    "divides the logits before the softmax: < 1 sharper and safer, > 1 flatter and wilder (default: %(default)s)"))
PARSER.add_argument("--top-k", type=int, default=0, help="sample only among the k most likely characters; 0: all (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
import tensorflow as tf

from common import data, runtime, tb

UNKNOWN = "\ufffd"  # 학습 세트에 (거의) 없던 글자가 모두 이 한 글자(unknown token)가 됩니다
KOREAN_NOVELS_CREDIT = (
    "Trained on 50 Korean short novels of the 1920s-30s (public domain; spelling modernised by the KoCoNovel "
    "project, Kim, Lee and Lee 2024, https://github.com/storidient/KoCoNovel), licensed CC BY-SA 4.0 "
    "(https://creativecommons.org/licenses/by-sa/4.0/). This generated text is shared under the same licence."
)


# 1. 모델 읽기 / Load the model and its vocabulary
def load_model_dir(model_dir):
    """Returns (model, vocab) from a char_rnn.py run folder; one-line errors for a wrong folder."""
    model_dir = Path(model_dir)
    hint = "give the run folder of week3/char_rnn.py (it holds model.keras and vocab.json)"
    if not model_dir.is_dir():
        raise data.DataError(f"--model {model_dir} is not a folder; {hint}")
    for name in ("vocab.json", "model.keras"):
        if not (model_dir / name).exists():
            raise data.DataError(f"--model {model_dir} has no {name}; {hint}")
    try:
        vocab = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))
        chars = vocab["chars"]
    except (ValueError, KeyError, TypeError):
        raise data.DataError(f"{model_dir / 'vocab.json'} is not a char_rnn.py vocabulary; {hint}") from None
    model = keras.saving.load_model(model_dir / "model.keras")
    if model.output_shape[-1] != len(chars):
        raise data.DataError(f"{model_dir}: the model predicts {model.output_shape[-1]} characters but vocab.json "
                             f"lists {len(chars)}; the two files come from different runs")
    return model, vocab


def encode(text, chars, warn=True):
    """Characters -> ids; characters never seen in training become the unknown token (with a warning)."""
    index = {c: i for i, c in enumerate(chars)}
    unknown = sorted({c for c in text if c not in index})
    if unknown and warn:
        print(f"warning: the model never saw {''.join(unknown)!r} in training; they are read as the unknown token")
    return np.array([index.get(c, 0) for c in text], dtype="int32")


# 2. 한 글자씩 모델 / The same weights as a one-step model that carries its state
def build_step_model(model):
    """tokens (B, T) and the recurrent states -> (logits of the last position (B, V), new states).

    It reuses the trained layers (same weights): embedding -> rnn1 -> rnn2 ... -> logits. An LSTM
    carries two states (h, c), a GRU one (h). Dropout is left out: it only acts in training.
    """
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = model.get_layer("embedding")(tokens)
    state_inputs, state_outputs = [], []
    for layer in model.layers:
        if not isinstance(layer, keras.layers.RNN):
            continue
        states = [keras.Input(shape=(layer.cell.units,), name=f"{layer.name}_state{i}")
                  for i in range(2 if isinstance(layer, keras.layers.LSTM) else 1)]
        x, *new_states = layer(x, initial_state=states)
        state_inputs += states
        state_outputs += new_states
    logits = model.get_layer("logits")(x[:, -1])
    return keras.Model([tokens, *state_inputs], [logits, *state_outputs], name="char_rnn_step")


def zero_states(step_model, batch=1):
    return [np.zeros((batch, s.shape[-1]), dtype="float32") for s in step_model.inputs[1:]]


# 3. 뽑기 / Sample the next character: temperature and top-k
def sample_next(logits, rng, temperature=0.8, top_k=0, banned=(0,)):
    """One character id from logits (V,). The unknown token (id 0) is never written out."""
    logits = np.asarray(logits, dtype="float64") / max(temperature, 1e-6)
    logits[list(banned)] = -np.inf
    if 0 < top_k < len(logits):
        cutoff = np.sort(logits)[-top_k]
        logits[logits < cutoff] = -np.inf  # 상위 k개 밖의 글자는 뽑지 않습니다
    p = np.exp(logits - logits.max())
    return int(rng.choice(len(p), p=p / p.sum()))


def generate(step_model, chars, prime, length, temperature=0.8, top_k=0, seed=0):
    """prime + `length` generated characters, and characters per second of the generation.

    The prime is read once (one call over all its characters); after that each step feeds only the
    last character and the carried state.
    """
    rng = np.random.default_rng(seed)
    step = tf.function(step_model)  # 한 번 그래프로 만들어 두면 스텝마다 파이썬 오버헤드가 줄어듭니다
    ids = encode(prime, chars, warn=False) if prime else np.zeros(1, dtype="int32")
    logits, *states = step([ids[None], *zero_states(step_model)])
    out = []
    start = time.perf_counter()
    for _ in range(length):
        next_id = sample_next(logits[0].numpy(), rng, temperature, top_k)
        out.append(chars[next_id])
        logits, *states = step([np.array([[next_id]], dtype="int32"), *states])
    seconds = time.perf_counter() - start
    return prime + "".join(out), length / max(seconds, 1e-9)


# 4. 온도 그림 / How temperature reshapes the next-character distribution
def plot_temperatures(logits, chars, path, temperatures=(0.5, 1.0, 1.5), top=15):
    """Bar charts of the most likely next characters after the prime, at several temperatures."""
    logits = np.asarray(logits, dtype="float64")
    order = np.argsort(logits)[::-1][:top]
    labels = [repr(chars[i])[1:-1] or " " for i in order]
    plt = tb.pyplot()
    fig, axes = plt.subplots(1, len(temperatures), figsize=(4.5 * len(temperatures), 3.4), sharey=True)
    for ax, t in zip(axes, temperatures):
        p = np.exp((logits - logits.max()) / t)
        ax.bar(range(top), (p / p.sum())[order], color="tab:blue")
        ax.set_xticks(range(top), labels)
        ax.set_title(f"온도(temperature) {t}")
    axes[0].set_ylabel("다음 글자 확률 / next-character probability")
    fig.suptitle("같은 로짓, 다른 온도 / same logits, different temperatures")
    return tb.save_figure(fig, path)


def main(argv=None):
    args = flags.parse(PARSER, argv)
    if args.length < 1 or args.temperature <= 0 or args.top_k < 0:
        PARSER.error("--length must be at least 1, --temperature positive and --top-k at least 0")
    if args.smoke and args.model is None:
        # --smoke: 몇 초 만에 작은 모델을 학습해 그 폴더로 씁니다 (week3/char_rnn.py를 그대로 실행)
        from week3 import char_rnn

        args.model = args.log_dir / "smoke_model"
        char_rnn.main(["--smoke", "--log-dir", str(args.model)])
        args.length = min(args.length, 50)
    if args.model is None:
        PARSER.error("--model DIR is required (the run folder of week3/char_rnn.py)")
    runtime.setup(args)
    model, vocab = load_model_dir(args.model)
    chars = vocab["chars"]
    prime = args.prime if args.prime is not None else vocab.get("default_prime", "")
    encode(prime, chars)  # 모르는 글자가 있으면 경고 한 줄

    # 5. 쓰기 / Write
    step_model = build_step_model(model)
    first_logits, *_ = step_model([encode(prime or UNKNOWN, chars, warn=False)[None], *zero_states(step_model)])
    plot_temperatures(first_logits[0], chars, args.log_dir / "temperature.png")
    text, chars_per_second = generate(step_model, chars, prime, args.length, args.temperature, args.top_k, args.seed)
    print("-" * 60 + "\n" + text + "\n" + "-" * 60)
    print(f"{args.length} characters at {chars_per_second:.0f} characters per second")
    header = f"# char_rnn sample: temperature {args.temperature}, top-k {args.top_k or 'all'}, prime {prime!r}\n"
    if vocab.get("corpus") == "korean_novels":
        header += f"# {KOREAN_NOVELS_CREDIT}\n"
    (args.log_dir / "sample.txt").write_text(header + "\n" + text + "\n", encoding="utf-8")
    tb.log_text(args.log_dir, "sample", "text", header.replace("# ", "") + "\n    " + text.replace("\n", "\n    "))
    return tb.write_metrics(args.log_dir, chars_per_second=round(chars_per_second, 1), length=args.length,
                            temperature=args.temperature, top_k=args.top_k)


if __name__ == "__main__":
    main()
