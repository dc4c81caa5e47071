"""Write README.md's configuration table from the setting definitions: `python -m tools.settings_table`.

`--check` only says whether README.md is up to date (exit status 1 when it is not)."""
import argparse
import sys
from pathlib import Path

from contracts.settings import with_table

README = Path(__file__).resolve().parent.parent / "README.md"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the table differs")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    wanted = with_table(text)
    if args.check:
        if wanted != text:
            sys.exit("README.md's configuration table differs from contracts/settings.py: "
                     "run python -m tools.settings_table")
        return
    if wanted != text:
        README.write_text(wanted, encoding="utf-8")
        print("README.md: configuration table rewritten")


if __name__ == "__main__":
    main()
