"""Build the dataset: `python build.py` publishes data/ and datapackage.json; `--check` writes nothing."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from noncoop.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
