"""Caption one picture with a model trained by week4/image_captioning.py: the best caption and the beam's others.

요약: 학습된 캡션 모델 폴더를 읽어 그림 한 장에 캡션을 씁니다. 인코더가 그림을 LSTM 상태로 바꾸고, 디코더 스텝이
단어를 하나씩 고릅니다. 탐욕(greedy) 디코딩의 캡션과 빔 서치(beam search)가 끝까지 들고 간 후보들을 로그 확률
(log-probability)과 함께 보여 줍니다: 빔이 왜 탐욕보다 나은 캡션을 찾을 수 있는지 보입니다.

Run:    python week4/caption_image.py PICTURE --model runs/image_captioning/<time>
        python week4/caption_image.py PICTURE --model DIR --beam-size 10      (more alternatives)
Smoke:  python week4/caption_image.py --smoke   (trains a tiny model for a few seconds, captions a drawn scene)
Expect: the greedy caption, then the beam's captions best first, each with its log-probability (the sum of its
        words' log-probabilities; closer to 0 is likelier); captions.json in the run folder, and attention.png
        when the model was trained with --attention.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): TensorFlow보다 먼저 만들어 두면 --help와 잘못된 옵션이 바로 답합니다.
PARSER = flags.make_parser(__file__, __doc__, data_dir=False)
PARSER.add_argument("image", nargs="?", type=Path, help="the picture to caption (PNG or JPEG)")
PARSER.add_argument("--model", type=Path,
                    help="run folder of week4/image_captioning.py (encoder.keras, decoder_step.keras, vocabulary.json)")
PARSER.add_argument("--beam-size", type=int, default=5,
                    help="captions kept at every step, all of them printed (default: %(default)s)")
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import keras
import numpy as np
from PIL import Image, UnidentifiedImageError

from common import data, runtime, scenes, tb
from week4 import image_captioning as captioning  # 디코딩(탐욕, 빔 서치)은 학습 스크립트의 것을 그대로 씁니다

MODEL_FILES = ("vocabulary.json", "encoder.keras", "decoder_step.keras")


# 1. 모델 읽기 / Load the model folder
def load_model_dir(model_dir):
    """Returns (encoder, decoder step, vocabulary dict) from an image_captioning.py run folder; one-line errors."""
    model_dir = Path(model_dir)
    hint = "give the run folder of week4/image_captioning.py (it holds " + ", ".join(MODEL_FILES) + ")"
    if not model_dir.is_dir():
        raise data.DataError(f"--model {model_dir} is not a folder; {hint}")
    for name in MODEL_FILES:
        if not (model_dir / name).exists():
            raise data.DataError(f"--model {model_dir} has no {name}; {hint}")
    try:
        vocab = json.loads((model_dir / "vocabulary.json").read_text(encoding="utf-8"))
        words, image_size, max_words = vocab["words"], int(vocab["image_size"]), int(vocab["max_words"])
    except (ValueError, KeyError, TypeError):
        raise data.DataError(f"{model_dir / 'vocabulary.json'} is not an image_captioning.py vocabulary; {hint}") from None
    if list(words[: len(captioning.SPECIAL)]) != list(captioning.SPECIAL):
        raise data.DataError(f"{model_dir / 'vocabulary.json'} does not start with {captioning.SPECIAL}; {hint}")
    encoder = keras.saving.load_model(model_dir / "encoder.keras")
    step = keras.saving.load_model(model_dir / "decoder_step.keras")
    scored = step.get_layer("next_word").units
    if scored != len(words):
        raise data.DataError(f"{model_dir}: the decoder scores {scored} words but "
                             f"vocabulary.json lists {len(words)}; the files come from different runs")
    return encoder, step, {**vocab, "words": words, "image_size": image_size, "max_words": max_words}


def read_picture(path, size):
    """The picture as uint8 (size, size, 3): any size and colour mode is converted; one-line errors."""
    path = Path(path)
    if not path.is_file():
        raise data.DataError(f"{path} does not exist or is not a file; give a PNG or JPEG picture")
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR), np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise data.DataError(f"{path} is not a readable image ({e}); give a PNG or JPEG picture") from None


def encoder_input(picture, vocab):
    """What the encoder reads: the picture itself (scene models), or the backbone's feature map (photo models)."""
    if vocab.get("dataset") != "flickr8k":
        return picture[None]
    backbone = captioning.build_backbone(vocab["backbone"], vocab["weights"], vocab["image_size"])
    return backbone.predict(picture[None].astype("float32"), verbose=0)


def smoke_model(log_dir):
    """--smoke: a tiny captioning model trained for a few seconds, and a new scene drawn as a PNG."""
    model_dir = log_dir / "smoke_model"
    captioning.main(["--smoke", "--log-dir", str(model_dir)])
    picture = log_dir / "scene.png"
    log_dir.mkdir(parents=True, exist_ok=True)
    Image.fromarray(scenes.make_scene("test", 0, seed=7).image).save(picture)
    return model_dir, picture


def main(argv=None):
    args = flags.parse(PARSER, argv)
    if args.beam_size < 1:
        PARSER.error("--beam-size must be at least 1")
    if args.smoke and args.model is None:
        args.model, args.image = smoke_model(args.log_dir)
    if args.model is None or args.image is None:
        PARSER.error("give a PICTURE and --model DIR (the run folder of week4/image_captioning.py)")
    runtime.setup(args)
    encoder, step, vocab = load_model_dir(args.model)
    picture = read_picture(args.image, vocab["image_size"])
    inputs = encoder_input(picture, vocab)

    # 2. 쓰기 / Write: greedy first, then the beam's captions with their log-probabilities
    greedy_ids, maps = captioning.greedy_decode(encoder, step, inputs, vocab["max_words"])
    greedy = captioning.to_words(greedy_ids[0], vocab["words"])
    beam_ids, scores = captioning.beam_search(encoder, step, inputs, args.beam_size, vocab["max_words"])
    beam = [(captioning.to_words(ids, vocab["words"]), float(s)) for ids, s in zip(beam_ids[0], scores[0])
            if np.isfinite(s)]
    print(f"{args.image}")
    print(f"  greedy:  {' '.join(greedy)}")
    for rank, (caption, score) in enumerate(beam, start=1):
        print(f"  beam {rank}: {' '.join(caption)}   (log-probability {score:.3f})")
    flags.save_json(args.log_dir / "captions.json", {
        "image": str(args.image), "greedy": " ".join(greedy),
        "beam": [{"caption": " ".join(c), "log_probability": s} for c, s in beam],
    })
    if maps is not None and vocab.get("dataset") != "flickr8k":
        captioning.save_attention(picture, greedy + [captioning.END], maps[0], args.log_dir / "attention.png",
                                  args.log_dir)
    return tb.write_metrics(args.log_dir, caption=" ".join(beam[0][0]), log_probability=beam[0][1],
                            greedy_caption=" ".join(greedy), beam_size=args.beam_size)


if __name__ == "__main__":
    main()
