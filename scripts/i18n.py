"""Message catalogs with Babel. `extract` updates the .po files from the sources,
`compile` builds the .mo files the app loads (run by `make run` and `make test`)."""

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "src" / "tongban" / "locale"
POT = LOCALE / "messages.pot"


def run(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def main(cmd: str) -> None:
    if cmd == "extract":
        run("extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_", "-k", "_", "--no-location",
            "--sort-output", "-o", str(POT), str(ROOT / "src"))
        for lang in ("zh_CN",):
            po = LOCALE / lang / "LC_MESSAGES" / "messages.po"
            if po.exists():
                run("update", "-i", str(POT), "-d", str(LOCALE), "-l", lang, "--no-fuzzy-matching")
            else:
                run("init", "-i", str(POT), "-d", str(LOCALE), "-l", lang)
    elif cmd == "compile":
        run("compile", "-d", str(LOCALE), "--use-fuzzy")
        print("i18n: catalogs compiled")
    else:
        sys.exit(f"unknown command {cmd!r}: use extract or compile")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "compile")
