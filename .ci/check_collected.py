"""CI: fail when a test file under tests/ is not collected by the README's test command.

pytest silently skips folders it is configured (or defaults) to skip — its default
``norecursedirs`` holds ``build``, which once hid tests/build/ from CI.  This lists what
``python -m pytest --collect-only -q`` collects and compares it with every ``test_*.py`` /
``*_test.py`` file on disk.
"""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main(extra=()) -> int:
    """``extra``: more pytest arguments (the test of this check passes a bad option)."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", *extra],
                          cwd=ROOT, capture_output=True, text=True)
    if proc.returncode not in (0, 5):
        sys.stdout.write(proc.stdout[-4000:])
        sys.stderr.write(proc.stderr[-4000:])
        print(".ci/check_collected: pytest --collect-only failed", file=sys.stderr)
        return 1
    collected = {line.split("::", 1)[0] for line in proc.stdout.splitlines() if "::" in line}
    on_disk = {str(p.relative_to(ROOT)) for pattern in ("test_*.py", "*_test.py")
               for p in (ROOT / "tests").rglob(pattern) if "__pycache__" not in p.parts}
    missing = sorted(on_disk - collected)
    if missing:
        print(".ci/check_collected: these test files exist but pytest collected nothing "
              "from them:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    print(f".ci/check_collected: all {len(on_disk)} test files collected")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
