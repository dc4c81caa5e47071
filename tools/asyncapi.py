"""Write or check docs/asyncapi.json, the event catalog built from contracts/ (contracts/catalog.py).

    python -m tools.asyncapi > docs/asyncapi.json        write it (reproducible: sorted keys)
    python -m tools.asyncapi --check docs/asyncapi.json  exit 1 when the file is stale
"""
import argparse
import difflib
import sys
from pathlib import Path

from contracts.catalog import build_document, render


# --- command line ------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.asyncapi",
                                     description="Generate the AsyncAPI event catalog from contracts/.")
    parser.add_argument("--check", metavar="FILE",
                        help="compare FILE with what would be generated; exit 1 when it is stale")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    args = parser.parse_args(argv)
    text = render(build_document())
    if args.check:
        path = Path(args.check)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == text:
            print(f"{path}: up to date")
            return 0
        diff = difflib.unified_diff(current.splitlines(), text.splitlines(), str(path), "generated",
                                    lineterm="", n=1)
        print("\n".join(list(diff)[:60]), file=sys.stderr)
        print(f"{path} is stale: regenerate it with `python -m tools.asyncapi > {path}`", file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.buffer.write(text.encode("utf-8"))  # UTF-8 whatever the locale
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
