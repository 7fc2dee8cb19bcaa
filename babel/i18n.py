"""Translation workflow that fails loudly (FAB's babel-extract swallows errors).

    python babel/i18n.py update    extract app + FAB strings, merge into the zh catalogue
    python babel/i18n.py compile   compile .po → .mo; exit 1 if anything is untranslated

FAB's own strings are extracted too, so our catalogue (which FAB merges over its
own) covers the 25+ strings FAB's 2015 Chinese catalogue lacks.
"""
from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POT = os.path.join(ROOT, "babel", "messages.pot")
CFG = os.path.join(ROOT, "babel", "babel.cfg")
TRANSLATIONS = os.path.join(ROOT, "app", "translations")
LOCALES = ["zh"]
KEYWORDS = ["_", "__", "gettext", "lazy_gettext", "_l", "N_", "ngettext:1,2"]


def run(*args: str) -> None:
    print("+", " ".join(args))
    subprocess.run(args, check=True)


def fab_dir() -> str:
    import flask_appbuilder

    return os.path.dirname(flask_appbuilder.__file__)


def update() -> None:
    kw = [a for k in KEYWORDS for a in ("-k", k)]
    run(sys.executable, "-m", "babel.messages.frontend", "extract", "-F", CFG, *kw,
        "--no-location", "--sort-output", "--omit-header", "-o", POT,
        os.path.join(ROOT, "app"), fab_dir())
    for locale in LOCALES:
        po = os.path.join(TRANSLATIONS, locale, "LC_MESSAGES", "messages.po")
        cmd = "update" if os.path.exists(po) else "init"
        extra = ["--no-fuzzy-matching", "--ignore-obsolete"] if cmd == "update" else []
        run(sys.executable, "-m", "babel.messages.frontend", cmd, "-i", POT, "-d",
            TRANSLATIONS, "-l", locale, *extra)


def untranslated(po_path: str) -> list[str]:
    from babel.messages.pofile import read_po

    with open(po_path, "rb") as fh:
        catalog = read_po(fh)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def compile_() -> int:
    status = 0
    for locale in LOCALES:
        po = os.path.join(TRANSLATIONS, locale, "LC_MESSAGES", "messages.po")
        missing = untranslated(po)
        if missing:
            status = 1
            print(f"{po}: {len(missing)} untranslated or fuzzy:", file=sys.stderr)
            for msgid in missing[:50]:
                print("  ", msgid, file=sys.stderr)
    run(sys.executable, "-m", "babel.messages.frontend", "compile", "-d", TRANSLATIONS,
        "--statistics")
    return status


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    if action == "update":
        update()
    elif action == "compile":
        sys.exit(compile_())
    else:
        print(__doc__)
        sys.exit(2)
