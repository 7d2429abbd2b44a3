"""Run every week script and print a pass/fail table (instructors: run this before class).

요약: 모든 주차 스크립트를 차례로 실행하고 결과 표를 출력합니다. `--smoke`는 스크립트마다
몇 초면 끝나는 작은 실행으로, 설치와 데이터가 제대로 준비됐는지 확인하는 용도입니다.

Run:   python scripts/run_all.py --smoke
       python scripts/run_all.py --smoke --only week1
       python scripts/run_all.py            (full default runs: takes a long time)
Data comes from the download cache (run scripts/download_data.py first when offline).
"""

import argparse
import datetime
import json
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def find_scripts():
    """Every runnable week script, in week and file order (homework templates excluded)."""
    return sorted(
        p for p in REPO_ROOT.glob("week*/**/*.py")
        if not p.name.startswith("_") and not (p.parent.name == "homework" and not p.stem.endswith("_solution"))
    )


def headline(metrics):
    for key in ("test_accuracy", "test_mse", "val_accuracy", "loss"):
        if key in metrics:
            return f"{key}={metrics[key]:.4f}"
    return ""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="pass --smoke to every script (seconds each)")
    parser.add_argument("--only", default="", help="run only scripts whose path contains this text")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per script (default: %(default)s)")
    args = parser.parse_args(argv)

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    scripts = [p for p in find_scripts() if args.only in p.relative_to(REPO_ROOT).as_posix()]
    rows, failed = [], 0
    for path in scripts:
        name = path.relative_to(REPO_ROOT).as_posix()
        log_dir = REPO_ROOT / "runs" / "run_all" / stamp / path.stem
        command = [sys.executable, str(path), "--log-dir", str(log_dir)] + (["--smoke"] if args.smoke else [])
        print(f"=== {name}", flush=True)
        start = time.perf_counter()
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
            ok, detail = result.returncode == 0, (result.stderr.strip().splitlines() or [""])[-1]
        except subprocess.TimeoutExpired:
            ok, detail = False, f"timed out after {args.timeout:.0f}s"
        seconds = time.perf_counter() - start
        metrics_file = log_dir / "metrics.json"
        if ok and metrics_file.exists():
            detail = headline(json.loads(metrics_file.read_text()))
        failed += not ok
        rows.append((name, "pass" if ok else "FAIL", f"{seconds:.1f}s", detail[:100]))
        print(f"    {rows[-1][1]} in {rows[-1][2]}: {rows[-1][3]}", flush=True)

    width = max([len(r[0]) for r in rows] + [6])
    print(f"\n{'script':{width}}  result  time     detail")
    for name, status, seconds, detail in rows:
        print(f"{name:{width}}  {status:6}  {seconds:>7}  {detail}")
    print(f"\n{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
