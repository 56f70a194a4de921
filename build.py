"""Build the dataset: `python build.py` publishes data/ and datapackage.json; `--check` writes nothing."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

try:
    from noncoop.cli import main  # noqa: E402
except KeyboardInterrupt:  # Ctrl-C while the libraries load
    print("build.py: interrupted (Ctrl-C); nothing published changed", file=sys.stderr)
    sys.exit(130)

if __name__ == "__main__":
    sys.exit(main())
