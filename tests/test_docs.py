"""The guides are guides, not lab notebooks (issue 34).

README.md and every nas/*/README.md stay short, carry no dates, run numbers, "superseded" figures, machine names,
sessions or paths in someone's home directory, and every file they link (a Markdown link, or a
`benchmarks/results/...` path named anywhere) exists. The history behind them lives in docs/history.md, which
these checks leave alone. Fast: reads text files only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README_MAX_LINES = 250
PACKAGE_README_MAX_LINES = 150

FORBIDDEN = [
    (re.compile(r"\b20\d\d-\d\d-\d\d\b"), "a date"),
    (re.compile(r"superseded", re.IGNORECASE), "'superseded'"),
    (re.compile(r"\bruns? (?:1[0-8]|[1-9])\b(?![.,]\d)", re.IGNORECASE), "a run number"),
    (re.compile(r"\b(?:EPYC|Xeon)\b", re.IGNORECASE), "a machine name"),
    (re.compile(r"\bsessions?\b", re.IGNORECASE), "'session'"),
    (re.compile(r"~/"), "a path in someone's home directory"),
]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
RESULTS_PATH = re.compile(r"benchmarks/results/[\w./-]*[\w/]")


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def problems(text: str, base: Path, root: Path = ROOT) -> list[str]:
    """Every lab-notebook word and every missing linked file in `text`, a guide read from directory `base`."""
    found = []
    anchors = {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}
    for number, line in enumerate(text.splitlines(), start=1):
        for pattern, what in FORBIDDEN:
            match = pattern.search(line)
            if match:
                found.append(f"line {number}: {what} ({match.group(0)!r})")
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target):
                continue                                     # http(s), mailto: not a file of this repository
            path, _, anchor = target.partition("#")
            if not path:
                if anchor not in anchors:
                    found.append(f"line {number}: no heading for the anchor #{anchor}")
            elif not (base / path).exists():
                found.append(f"line {number}: linked file {path} does not exist")
        for path in RESULTS_PATH.findall(line):
            if not (root / path).exists():
                found.append(f"line {number}: results file {path} does not exist")
    return found


def guides() -> list[tuple[Path, int]]:
    found = [(ROOT / "README.md", README_MAX_LINES)]
    found += [(path, PACKAGE_README_MAX_LINES) for path in sorted((ROOT / "nas").glob("*/README.md"))]
    return found


def test_the_package_guides_are_found() -> None:
    names = {path.relative_to(ROOT).as_posix() for path, _ in guides()}
    assert {"README.md", "nas/distill/README.md", "nas/supernet/README.md"} <= names


@pytest.mark.parametrize(("path", "limit"), guides(), ids=lambda value: getattr(value, "name", str(value)))
def test_guide_is_short_and_current(path: Path, limit: int) -> None:
    text = path.read_text(encoding="utf-8")
    lines = len(text.splitlines())
    assert lines <= limit, f"{path.relative_to(ROOT)}: {lines} lines, at most {limit} (history: docs/history.md)"
    assert problems(text, path.parent) == [], path.relative_to(ROOT)


def test_readme_keeps_the_ci_test_command() -> None:
    """.ci/run takes the one-line ```bash block after its marker (awk); the rewrite must keep both."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    marker = [i for i, line in enumerate(lines) if line.startswith("<!-- .ci/run runs the command in the next block")]
    assert len(marker) == 1
    assert lines[marker[0] + 1] == "```bash" and lines[marker[0] + 3] == "```"
    assert "pytest" in lines[marker[0] + 2]


def test_readme_keeps_the_ci_set_up_command() -> None:
    """.ci/run first runs set-up command 1 (the base install and the main job), as a newcomer would: a default that
    needs an extra fails CI, not only a newcomer."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    marker = [i for i, line in enumerate(lines) if line.startswith("<!-- .ci/run runs the set-up command")]
    assert len(marker) == 1
    assert lines[marker[0] + 1] == "```bash" and lines[marker[0] + 3] == "```"
    command = lines[marker[0] + 2]
    assert "pip install -e . " in command and "nas search --device pixel4 --budget 62ms" in command


def test_checker_catches_planted_lines(tmp_path: Path) -> None:
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "current.json").write_text("{}")
    (tmp_path / "there.md").write_text("")
    good = (
        "# Title\n## Your own phone (TFLite)\n"
        "See [the file](there.md), [a section](#your-own-phone-tflite), [a site](https://example.org/x) and\n"
        "`benchmarks/results/current.json`. Runs continue with --resume; 2.5 M parameters, 1–4 FFNs.\n"
    )
    assert problems(good, tmp_path, tmp_path) == []
    planted = {
        "On the VM of 2026-12-02 it took 5 s.": "a date",
        "The first rows are superseded.": "'superseded'",
        "Half the steps (run 13, same seed) ranked at 0.74.": "a run number",
        "Runs 1-8 used one set of weights.": "a run number",
        "On the 2-core AMD EPYC VM it took 5 s.": "a machine name",
        "An Intel Xeon machine.": "a machine name",
        "The rest is for the next session.": "'session'",
        "Run `~/logs/run18_chain.sh`.": "home directory",
        "See [gone](missing.md).": "missing.md does not exist",
        "See [gone](#no-such-heading).": "no heading for the anchor",
        "As `benchmarks/results/estimator_rank_s1000_before.json` shows.": "results file",
        "Files `benchmarks/results/supernet_seeds_s9600*.json`.": "results file",
    }
    for line, what in planted.items():
        found = problems(good + line + "\n", tmp_path, tmp_path)
        assert len(found) == 1 and what in found[0], (line, found)
        assert found[0].startswith("line 5:"), found
