"""Grade a homework file: one grader for every week, each on data and checks the grader, not the student, controls.

요약: 학생의 과제 파일을 불러와 채점합니다. 파일 이름으로 몇 주차 과제인지 고르고(iris_ann*.py는 1주차,
cifar_cnn*.py는 2주차, sampling*.py는 3주차, decoding*.py는 4주차, vision_losses*.py는 5주차), 채점기가 직접 만든 데이터와 시드로 숫자만 확인합니다.
학생의 코드는 별도 프로세스에서 돌리고, TensorFlow가 시작할 때 찍는 로그 줄은 점수표에서 걸러 냅니다.

Run:    python scripts/grade_homework.py --list            (every homework and the command that grades it)
        python scripts/grade_homework.py week1/homework/iris_ann.py
        python scripts/grade_homework.py week2/homework/cifar_cnn.py --data-dir DIR   (DIR holds cifar-10-batches-bin/)
        python scripts/grade_homework.py week3/homework/sampling.py
        python scripts/grade_homework.py week4/homework/decoding.py
        python scripts/grade_homework.py week5/homework/vision_losses.py
        python scripts/grade_homework.py my_copy.py        (another name: recognised by the functions it defines)
Pass:   every check of that week passes, exit status 0 (otherwise 1); each week's checks are listed in
        scripts/graders/weekN.py and its homework README.
Expect: weeks 1, 3, 4 and 5 check small functions; week 2 takes longest (it trains your CNN and an MLP baseline on
        10,000 CIFAR-10 images; no timing of the graders is recorded in results/). A TODO that is still empty stops the grading with a message naming
        the first one.
"""

import argparse
import ast
import fnmatch
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # 어느 폴더에서 실행해도 `import common`, `import scripts.graders`가 되도록

# 이 파일과 scripts/graders/는 TensorFlow를 불러오지 않습니다. 학생의 코드와 Keras는 --worker 프로세스에서 돌고,
# 그 출력에서 TensorFlow의 C++ 로그 줄만 걸러 냅니다 (어떤 환경 변수로도 모두 끌 수는 없습니다).
from scripts.graders import week1, week2, week3, week4, week5
from scripts.graders.base import GRADER_SEED, TF_LOG_LINE, Report, Stop, run_filtered  # noqa: F401  (the shared plumbing)
from scripts.graders.week1 import TARGET_ACCURACY, check_split, label_problem  # noqa: F401  (week 1's names, kept)

HOMEWORKS = (week1.HOMEWORK, week2.HOMEWORK, week3.HOMEWORK, week4.HOMEWORK, week5.HOMEWORK)


def defined_names(path):
    """Top-level names a Python file defines (functions, classes, assignments), read without running it."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.ImportFrom, ast.Import)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def pick(path):
    """The homework a file is: by its name (iris_ann*.py, ...), else by the functions it defines; None if neither."""
    path = Path(path)
    for homework in HOMEWORKS:
        if fnmatch.fnmatch(path.name, homework.names):
            return homework
    names = defined_names(path)
    matches = {hw: len(names & set(hw.required)) for hw in HOMEWORKS}
    best = max(matches.values())
    found = [hw for hw, n in matches.items() if n == best]
    return found[0] if best and len(found) == 1 else None


def grade_file(path, seed=GRADER_SEED, epochs=None, data_dir=None):
    """Grades one file in this process and prints the report; returns the exit status (0: pass)."""
    homework = pick(path)
    if homework is None:
        print(f"Score: cannot tell which homework {Path(path).name} is: {unknown_hint()}. FAIL")
        return 1
    options = {name: value for name, value in (("epochs", epochs), ("data_dir", data_dir)) if value is not None}
    return homework.grade_file(path, seed, **{k: v for k, v in options.items() if k in homework.options})


def unknown_hint():
    return ("name it like the template (" + ", ".join(hw.names for hw in HOMEWORKS) + ") or keep the template's "
            "function names; `python scripts/grade_homework.py --list` shows every homework")


def list_homework():
    print("Homework: fill in the template's TODO blocks, then run its command "
          "(the solution is the template's name + _solution.py; the task is in the README next to it).")
    for homework in HOMEWORKS:
        print(f"  week {homework.week}  {homework.title}")
        print(f"          template: {homework.template}")
        print(f"          grade:    python scripts/grade_homework.py {homework.template}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python scripts/grade_homework.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("homework", type=Path, nargs="?", help="the student's file, e.g. week1/homework/iris_ann.py")
    parser.add_argument("--list", action="store_true", help="show every homework and the command that grades it")
    parser.add_argument(
        "--seed", type=int, default=GRADER_SEED, help="the grader's split, weight and sampling seed (default: %(default)s)"
    )
    parser.add_argument(
        "--epochs", type=int, default=None,
        help=f"weeks 1 and 2: override the student's --epochs default (default: theirs, at most "
             f"{week1.MAX_EPOCHS} in week 1, {week2.MAX_EPOCHS} in week 2)",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="week 2: read CIFAR-10 from DIR (holding cifar-10-batches-bin/) instead of the course's download cache",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # 실제로 채점하는 쪽 (작업 프로세스)
    args = parser.parse_args(argv)
    if args.list:
        return list_homework()
    if args.homework is None:
        parser.error("give the homework file to grade, or --list to see them all")
    if not args.homework.is_file():
        parser.error(f"{args.homework} is not a file")
    homework = pick(args.homework)
    if homework is None:
        parser.error(f"cannot tell which homework {args.homework.name} is: {unknown_hint()}")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    for name, value in (("epochs", args.epochs), ("data_dir", args.data_dir)):
        if value is not None and name not in homework.options:
            parser.error(f"--{name.replace('_', '-')} does not apply to week {homework.week}'s homework")
    if args.worker:
        return grade_file(args.homework, args.seed, args.epochs, args.data_dir)
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(args.homework.resolve()), "--seed", str(args.seed)]
    if args.epochs is not None:
        command += ["--epochs", str(args.epochs)]
    if args.data_dir is not None:
        command += ["--data-dir", str(args.data_dir.resolve())]
    return run_filtered(command)


if __name__ == "__main__":
    sys.exit(main())
