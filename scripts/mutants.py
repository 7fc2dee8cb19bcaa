"""Mutation testing of the critical rules, on demand: ``make mutants`` (never in CI).

For each ``[mutants:<group>]`` of setup.cfg (its modules, and the tests that exercise
them) this runs mutmut 3 in its own folder, ``mutants/<group>/``: the project is
linked in, a ``setup.cfg`` made of the ``[mutmut]`` settings plus the group's
``only_mutate`` and test selection is written there, and mutmut copies and mutates
the project under ``mutants/<group>/mutants/``. Each group's tests run on SQLite,
from an initialised database template (``AGENCYDESK_TEST_SQLITE_TEMPLATE``).
At the end it prints killed / survived per module, and the surviving mutants.

    python scripts/mutants.py                 # every group
    python scripts/mutants.py domain audit    # some groups
    python scripts/mutants.py --report        # the table of the last run, no run

mutmut's own commands work inside a group's folder, e.g.
``cd mutants/domain && mutmut show app.domain.codes.x_uscc_check_char__mutmut_3``.
"""
from __future__ import annotations

import configparser
import datetime
import glob
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutants"
#: what a group's folder links to (mutmut copies them: source_paths and also_copy)
LINKED = ["app", "tests", "migrations", "babel", "config.py", "pytest.ini"]
#: mutmut's exit codes (mutmut.stats.status_by_exit_code), folded into the columns
KILLED, SURVIVED, NO_TESTS, TIMEOUT, OTHER = ("killed", "survived", "no tests", "timeout",
                                              "other")
STATUS = {1: KILLED, 3: KILLED, 37: KILLED, 0: SURVIVED, 5: NO_TESTS, 33: NO_TESTS,
          36: TIMEOUT, -24: TIMEOUT, 24: TIMEOUT, 152: TIMEOUT, 255: TIMEOUT}


def groups(config: configparser.ConfigParser) -> dict[str, dict[str, list[str]]]:
    """``{group: {"modules": [...], "tests": [...]}}`` from setup.cfg."""
    found = {}
    for section in config.sections():
        if section.startswith("mutants:"):
            found[section.split(":", 1)[1]] = {
                key: config.get(section, key).split() for key in ("modules", "tests")}
    return found


def prepare(name: str, group: dict, config: configparser.ConfigParser) -> Path:
    """The group's folder: links to the project and its own setup.cfg."""
    folder = WORK / name
    folder.mkdir(parents=True, exist_ok=True)
    for entry in LINKED:
        link = folder / entry
        if not link.is_symlink():
            link.symlink_to(os.path.relpath(ROOT / entry, folder))
    own = configparser.ConfigParser()
    own["mutmut"] = dict(config["mutmut"])
    own["mutmut"]["only_mutate"] = "\n" + "\n".join(group["modules"])
    own["mutmut"]["pytest_add_cli_args_test_selection"] = "\n" + "\n".join(group["tests"])
    with open(folder / "setup.cfg", "w") as fh:
        own.write(fh)
    return folder


def run(name: str, folder: Path, max_children: int) -> int:
    template = folder / "template.db"
    template.unlink(missing_ok=True)  # the schema may have changed since the last run
    # a fresh run each time: mutmut keeps old verdicts, which new tests would not change
    shutil.rmtree(folder / "mutants", ignore_errors=True)
    env = {**os.environ, "AGENCYDESK_TEST_SQLITE_TEMPLATE": str(template)}
    env.pop("AGENCYDESK_TEST_DB", None)  # SQLite only
    print(f"== {name}: mutmut run (log: mutants/{name}/run.log)", flush=True)
    with open(folder / "run.log", "w") as log:
        return subprocess.call([sys.executable, "-m", "mutmut", "run",
                                "--max-children", str(max_children)],
                               cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)


def results(name: str, group: dict) -> tuple[dict[str, Counter], list[str]]:
    """Per module: Counter of statuses; and the names of the mutants not killed."""
    folder = WORK / name
    per_module: dict[str, Counter] = {}
    alive = []
    for pattern in group["modules"]:
        for path in sorted(glob.glob(str(ROOT / pattern))):
            rel = os.path.relpath(path, ROOT)
            meta = folder / "mutants" / (rel + ".meta")
            counts = Counter()
            if meta.exists():
                codes = json.loads(meta.read_text())["exit_code_by_key"]
                for key, code in codes.items():
                    status = "not run" if code is None else STATUS.get(code, OTHER)
                    counts[status if status in STATUS.values() else OTHER] += 1
                    if status != KILLED:
                        alive.append(f"{status}: {key}")
            per_module[rel] = counts
    return per_module, alive


def report(selected: dict) -> str:
    lines = [f"Mutation results, printed {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
             "",
             f"| {'module':<34} | killed | survived | no tests | timeout, not run | score |",
             f"|{'-' * 36}|--------|----------|----------|-----------------|-------|"]
    alive_all = []
    total = Counter()
    for name, group in selected.items():
        per_module, alive = results(name, group)
        alive_all += alive
        for module, c in per_module.items():
            n = sum(c.values())
            if not n:
                continue
            total += c
            score = f"{100 * c[KILLED] / n:.0f}%"
            lines.append(f"| {module:<34} | {c[KILLED]:>6} | {c[SURVIVED]:>8} | "
                         f"{c[NO_TESTS]:>8} | {c[TIMEOUT] + c[OTHER]:>15} | {score:>5} |")
    n = sum(total.values())
    if n:
        lines.append(f"| {'total':<34} | {total[KILLED]:>6} | {total[SURVIVED]:>8} | "
                     f"{total[NO_TESTS]:>8} | {total[TIMEOUT] + total[OTHER]:>15} | "
                     f"{100 * total[KILLED] / n:>4.0f}% |")
    lines += ["", "Not killed (see one: cd mutants/<group> && mutmut show <name>):"]
    lines += [f"  {a}" for a in alive_all] or ["  none"]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    every = groups(config)
    only_report = "--report" in argv
    names = [a for a in argv if not a.startswith("--")] or list(every)
    unknown = [n for n in names if n not in every]
    if unknown:
        print(f"unknown group(s) {unknown}; setup.cfg has {list(every)}", file=sys.stderr)
        return 2
    selected = {n: every[n] for n in names}
    max_children = int(os.environ.get("MUTANTS_JOBS", "2"))
    failed = []
    if not only_report:
        for name, group in selected.items():
            if run(name, prepare(name, group, config), max_children) != 0:
                failed.append(name)
    text = report(selected)
    print(text)
    (WORK / "report.txt").write_text(text + "\n")
    if failed:
        print(f"mutmut failed for {failed}: see mutants/<group>/run.log", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
