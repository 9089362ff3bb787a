"""Download the wheels avici-core needs, for another Python and platform, to install offline.

  bash scripts/wheelhouse.sh [--python 3.12] [--platform manylinux_2_28_x86_64] [--out .whl]
                             [--only-missing LIST] [--only REQ ...]

Every dependency of the package (``pyproject.toml``), resolved for the target, plus a wheel of
avici-core itself, lands in ``--out``. ``--only REQ ...`` downloads just those requirements (and
what they need), e.g. the few that training adds to a GPU image. ``--only-missing LIST`` leaves
out every project named in LIST, a file with one name per line (``pip list --format=freeze``
output works), so only what the target environment lacks is carried. On the compute node::

  pip install --no-index --find-links .whl avici-core      # a fresh environment
  pip install --no-index --no-deps .whl/*.whl              # on top of an image that has the rest
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANYLINUX = ("manylinux_2_28", "manylinux_2_27", "manylinux_2_17", "manylinux2014", "manylinux1")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.add(normalize(re.split(r"[=<>!~ @\[;]", line, maxsplit=1)[0]))
    return names


def wheel_project(path: Path) -> str:
    return normalize(path.name.split("-")[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="3.12", help="target Python version")
    parser.add_argument("--arch", default="x86_64", help="target machine (x86_64 or aarch64)")
    parser.add_argument("--out", type=Path, default=ROOT / ".whl")
    parser.add_argument("--only-missing", type=Path, help="names the target already has")
    parser.add_argument("--only", nargs="+", help="these requirements instead of all")
    args = parser.parse_args()
    requirements = (
        args.only or tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    )
    platforms = [f"--platform={tag}_{args.arch}" for tag in MANYLINUX]
    with tempfile.TemporaryDirectory() as tmp:
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
        subprocess.run(
            [
                *pip,
                "download",
                "--quiet",
                "--only-binary=:all:",
                f"--python-version={args.python}",
                "--implementation=cp",
                *platforms,
                "--dest",
                tmp,
                *requirements,
            ],
            check=True,
        )
        subprocess.run([*pip, "wheel", "--quiet", "--no-deps", "-w", tmp, str(ROOT)], check=True)
        skip = installed_names(args.only_missing) if args.only_missing else set()
        args.out.mkdir(parents=True, exist_ok=True)
        kept = []
        for wheel in sorted(Path(tmp).glob("*.whl")):
            if wheel_project(wheel) not in skip or wheel_project(wheel) == "avici-core":
                shutil.copy2(wheel, args.out / wheel.name)
                kept.append(wheel)
    size = sum(w.stat().st_size for w in args.out.glob("*.whl")) / 2**20
    print(
        f"{len(kept)} wheel(s) for Python {args.python} ({args.arch}) in {args.out}: {size:.1f} MiB"
    )
    for wheel in kept:
        print(f"  {wheel.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
