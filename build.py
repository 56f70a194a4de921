"""Build the dataset: `python build.py` publishes data/ and datapackage.json; `--check` writes nothing.

Run with any Python: outside the project's virtual environment it re-runs itself with
`.venv/bin/python` (which `make check` / `make data` set up), or says how to get one. When
`build.py serve` is running, the run is handed to it (src/noncoop/resident.py) before anything
else is imported.
"""
import os
import sys
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "src"))

if __name__ == "__main__":
    spec = spec_from_file_location("noncoop_resident", HERE / "src" / "noncoop" / "resident.py")
    resident = module_from_spec(spec)  # (not through the package: its __init__ imports pandas)
    spec.loader.exec_module(resident)
    status = resident.hand_over(HERE, sys.argv[1:])
    if status is not None:
        sys.exit(status)

try:
    from noncoop.cli import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load
    print("build.py: interrupted (Ctrl-C); nothing published changed", file=sys.stderr)
    sys.exit(130)
except ModuleNotFoundError as exc:
    venv = HERE / ".venv" / "bin" / "python"
    if venv.is_file() and Path(sys.prefix).resolve() != venv.parent.parent.resolve():
        os.execv(venv, [str(venv), __file__, *sys.argv[1:]])
    sys.exit(f"build.py: {exc.name} is not installed for {sys.executable}: run `make check` or `make data` "
             "once (they set up .venv with pinned versions), then `python build.py` works with any Python")

if __name__ == "__main__":
    sys.exit(main())
