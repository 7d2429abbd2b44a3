"""Start TensorBoard on a shared server and print the SSH command that shows it on your laptop.

요약: 실습 서버의 TensorBoard는 서버 안의 localhost에서만 열립니다. 이 스크립트는 내 계정이 쓸 수 있는
빈 포트를 골라 TensorBoard를 127.0.0.1(서버 자신)에만 띄우고, 노트북에서 실행할 SSH 포트 포워딩 명령과
PuTTY 설정을 알려 줍니다. 모든 네트워크에 여는 일(0.0.0.0)은 하지 않습니다: 다른 사람이 내 기록을 볼 수 있습니다.

Run:     python scripts/start_tensorboard.py                  (logs in runs/; Ctrl-C stops TensorBoard)
         python scripts/start_tensorboard.py --logdir runs/mnist_cnn
Dry run: python scripts/start_tensorboard.py --dry-run        (only print the port and the commands)
"""

import argparse
import getpass
import os
import socket
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"  # 서버 자신만 접속할 수 있는 주소
FIRST_PORT = 6006  # TensorBoard's usual port


def port_is_free(port, host=LOOPBACK):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(user_id=None, tries=200):
    """A free loopback port, starting at a place of this user's own so classmates rarely collide."""
    user_id = os.getuid() if user_id is None and hasattr(os, "getuid") else (user_id or 0)
    start = FIRST_PORT + (user_id % 500) * 2
    for port in range(start, start + tries):
        if port_is_free(port):
            return port
    raise SystemExit(f"error: no free port between {start} and {start + tries - 1}; pass --port N")


def server_address():
    """How the laptop reaches this server: the address of the current SSH connection, else the host name."""
    connection = os.environ.get("SSH_CONNECTION", "").split()
    return connection[2] if len(connection) >= 3 else socket.getfqdn()


def instructions(port, user, host):
    return "\n".join([
        f"TensorBoard: http://localhost:{port} (on this server only: {LOOPBACK}:{port})",
        "노트북(내 컴퓨터)의 새 터미널에서 / on your laptop, in a new terminal:",
        f"    ssh -N -L {port}:localhost:{port} {user}@{host}      (add -i KEY if you log in with a key file)",
        f"그다음 브라우저에서 / then open: http://localhost:{port}",
        f"PuTTY: Connection > SSH > Tunnels: Source port {port}, Destination localhost:{port}, Add; then Open.",
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logdir", type=Path, default=REPO_ROOT / "runs", help="folder of runs (default: runs/)")
    parser.add_argument("--port", type=int, help="use this port instead of a free one chosen for you")
    parser.add_argument("--dry-run", action="store_true", help="print the port and the commands, start nothing")
    args = parser.parse_args(argv)
    port = args.port or free_port()
    if args.port and not port_is_free(port):
        raise SystemExit(f"error: port {port} is in use on this server (another user's TensorBoard?); leave out --port")
    print(instructions(port, getpass.getuser(), server_address()), flush=True)
    if args.dry_run:
        return port
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(args.logdir), "--host", LOOPBACK, "--port", str(port)]
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        print("TensorBoard stopped")
        return 0


if __name__ == "__main__":
    main()
