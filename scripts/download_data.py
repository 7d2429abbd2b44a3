"""Fetch every registered dataset into the download cache ahead of a class.

요약: 수업 전에 모든 데이터셋을 캐시(datasets/ 또는 $COURSE_DATA_DIR)에 내려받고
검증합니다. 인터넷이 없는 교실에서는 미리 받아 둔 캐시 폴더를 복사해 쓰면 됩니다.

Run:   python scripts/download_data.py            (all datasets)
       python scripts/download_data.py --list     (what is registered and what is cached)
       python scripts/download_data.py --only mnist --only cifar10
       python scripts/download_data.py --only flickr8k   (1.1 GB, only for week 4's --dataset flickr8k)
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lets `import common` work from any folder

from common import data

LOADERS = {
    "mnist": data.load_mnist,
    "cifar10": data.load_cifar10,  # downloads, extracts safely, and parses every batch
    "iris": data.load_iris,  # bundled with the code
    "tiny_shakespeare": lambda: data.load_corpus("tiny_shakespeare"),
    "korean_novels": lambda: data.load_corpus("korean_novels"),  # no download: checks the cached copy
    "flickr8k": data.load_flickr8k,  # two zip files, extracted safely, captions and splits checked
    "isbi_membranes": lambda: data.load_segmentation_folder(data.fetch("isbi_membranes"), (0, 255)),  # 60 PNGs
    "style_images": lambda: data.fetch("style_images"),  # week 5's default photo and painting
}
ON_REQUEST = {"flickr8k"}  # 1.1 GB, and only `week4/image_captioning.py --dataset flickr8k` reads it
NO_DOWNLOAD = {name for name, d in data.REGISTRY.items() if not any(f.urls for f in d.files)}


def describe(name):
    if name == "iris":
        return "bundled"
    if name in NO_DOWNLOAD and data.status(name)[0] == "missing":
        return f"no download: copy {data.REGISTRY[name].files[0].filename} into {data.cache_dir() / name} yourself"
    state, detail = data.status(name)
    if state == "cached":
        return f"cached in {detail}"
    missing = ", ".join(detail) if len(detail) <= 4 else f"{len(detail)} of {len(data.REGISTRY[name].files)} files"
    return f"not cached (missing {missing})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="list the datasets and their cache state, download nothing")
    parser.add_argument("--only", action="append", choices=sorted(data.REGISTRY), help="fetch only this dataset (repeatable)")
    args = parser.parse_args(argv)

    # 내려받을 곳이 없는 것(korean_novels)과 큰 것(flickr8k)은 --only 로 이름을 댈 때만 확인합니다.
    names = args.only or [name for name in data.REGISTRY if name not in NO_DOWNLOAD | ON_REQUEST]
    print(f"Cache: {data.cache_dir()}  (set ${data.CACHE_ENV} to move it)")
    if args.list:
        for name in args.only or data.REGISTRY:
            print(f"  {name:16s} {data.REGISTRY[name].title}\n  {'':16s} {describe(name)}")
        return 0

    failed = []
    for name in names:
        try:
            LOADERS[name]()
            print(f"ok      {name:16s} {describe(name)}")
        except data.DataError as e:
            failed.append(name)
            print(f"FAILED  {name:16s} {e}")
    print(f"{len(names) - len(failed)} of {len(names)} datasets ready" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
