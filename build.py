"""Build the dataset: `python build.py` publishes data/ and datapackage.json; `--check` writes nothing.

Run with any Python: outside the project's virtual environment it re-runs itself with
`.venv/bin/python` (which `make check` / `make data` set up), or says how to get one. When
`build.py serve` is running, the run is handed to it (src/noncoop/resident.py) before anything
else is imported.
"""
import os
import sys
from importlib.machinery import SourceFileLoader  # (the import system's own: costs nothing to import)
from types import ModuleType

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(HERE, "src"))

if __name__ == "__main__":
    resident = ModuleType("noncoop_resident")  # (not through the package: its __init__ imports pandas)
    SourceFileLoader(resident.__name__, os.path.join(HERE, "src", "noncoop", "resident.py")).exec_module(resident)
    status = resident.hand_over(HERE, sys.argv[1:])
    if status is not None:
        sys.exit(status)

try:
    from noncoop.cli import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load
    print("build.py: interrupted (Ctrl-C); nothing published changed", file=sys.stderr)
    sys.exit(130)
except ModuleNotFoundError as exc:
    venv = os.path.join(HERE, ".venv", "bin", "python")
    if os.path.isfile(venv) and os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(HERE, ".venv")):
        os.execv(venv, [venv, __file__, *sys.argv[1:]])
    sys.exit(f"build.py: {exc.name} is not installed for {sys.executable}: run `make check` or `make data` "
             "once (they set up .venv with pinned versions), then `python build.py` works with any Python")

if __name__ == "__main__":
    sys.exit(main())
