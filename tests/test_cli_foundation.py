"""The `nas` entry point as a user runs it: version, arch show/list, devices, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from search_spaces import PRESETS


def nas(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nas.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_version_and_help() -> None:
    assert nas("--version").stdout.startswith("nas ")
    out = nas("--help").stdout
    for command in ("arch", "devices"):
        assert command in out


def test_arch_show_json_matches_hf_and_paper() -> None:
    result = nas("arch", "show", "mobilebert", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["num_params"] == 24_844_544  # MobileBertModel(MobileBertConfig()) parameter count
    assert abs(summary["flops"] / 5.7e9 - 1) < 0.06
    assert 0 < summary["mha_ffn_param_ratio"] < 1
    bert = json.loads(nas("arch", "show", "bert-base", "--json").stdout)
    assert abs(bert["num_params"] / 109e6 - 1) < 0.01 and abs(bert["flops"] / 22.5e9 - 1) < 0.03


def test_arch_show_table_and_file(tmp_path) -> None:
    path = tmp_path / "tiny.json"
    PRESETS["mobilebert-tiny"].arch.save(path)
    result = nas("arch", "show", str(path), "--seq-len", "64")
    assert result.returncode == 0 and "ffn" in result.stdout and "MHA:FFN" in result.stdout


def test_arch_list_and_devices() -> None:
    listing = nas("arch", "list").stdout
    assert all(name in listing for name in PRESETS)
    devices = nas("devices").stdout
    assert "pixel4" in devices and "host" in devices


@pytest.mark.parametrize(
    ("args", "contents"),
    [
        (("arch", "show", "nosuch"), None),
        (("arch", "show", "{broken}"), "broken.json"),
        (("devices", "--profile", "{broken}"), "broken.toml"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, args, contents) -> None:
    if contents == "broken.json":
        (tmp_path / contents).write_text('{"num_attention_heads": 3}')
    elif contents == "broken.toml":
        (tmp_path / contents).write_text("name = 'x'\n[target\n")
    args = tuple(str(tmp_path / contents) if a == "{broken}" else a for a in args)
    result = nas(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- nas_common.paths: the shared resolvers
def test_data_dir_explicit_then_env_then_sibling(tmp_path, monkeypatch) -> None:
    from nas_common import paths
    from search_spaces import UserInputError

    (tmp_path / "mine" / "glue").mkdir(parents=True)
    (tmp_path / "env").mkdir()
    assert paths.data_dir(tmp_path / "mine", "glue") == tmp_path / "mine" / "glue"
    assert paths.data_dir(tmp_path / "mine" / "glue", "glue") == tmp_path / "mine" / "glue"  # already the sub
    with pytest.raises(UserInputError, match="no such file"):
        paths.data_dir(tmp_path / "missing", "glue")
    monkeypatch.setenv("NAS_DATA_DIR", str(tmp_path / "env"))
    assert paths.data_dir() == tmp_path / "env"
    assert paths.data_dir(None, "corpus") is None  # the root exists, its corpus/ does not
    monkeypatch.setenv("NAS_DATA_DIR", str(tmp_path / "typo"))  # named by the user: never silently replaced
    with pytest.raises(UserInputError, match=r"\$NAS_DATA_DIR .*typo: no such file"):
        paths.data_dir(None, "glue")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserInputError, match="is a file, not a folder"):
        paths.data_dir(tmp_path / "file", "glue")
    monkeypatch.delenv("NAS_DATA_DIR")
    monkeypatch.setattr(paths, "SIBLING_DATA", tmp_path / "mine")
    assert paths.data_dir(None, "glue") == tmp_path / "mine" / "glue"
    monkeypatch.setattr(paths, "SIBLING_DATA", tmp_path / "nowhere")
    assert paths.data_dir() is None


def test_corpus_path_given_else_the_data_folders_else_one_line(tmp_path, monkeypatch) -> None:
    """The one "a corpus, or else an error" step (issue 34): distill, supernet, confirm and the supernet's
    held-out batches all call it."""
    from nas_common import paths
    from search_spaces import UserInputError

    (tmp_path / "corpus").mkdir()
    monkeypatch.setenv("NAS_DATA_DIR", str(tmp_path))
    assert paths.corpus_path("mine.txt") == "mine.txt"  # as typed: its reader says whether it exists
    assert paths.corpus_path(None) == str(tmp_path / "corpus")
    with pytest.raises(UserInputError, match=r"^give --eval-corpus PATH \(held-out text\)$"):
        paths.corpus_path(None, "--eval-corpus", in_data="test.txt", why="held-out text")  # no such file in it
    (tmp_path / "corpus" / "test.txt").write_text("x\n")
    assert paths.corpus_path("", "--eval-corpus", in_data="test.txt") == str(tmp_path / "corpus" / "test.txt")
    with pytest.raises(UserInputError, match=r"^give --corpus PATH \(the distillation corpus\)$"):
        paths.corpus_path(None, in_data=None, why="the distillation corpus")  # no default at all
    monkeypatch.setenv("NAS_DATA_DIR", str(tmp_path / "typo"))
    assert paths.corpus_path("mine.txt") == "mine.txt"  # the data folder is not looked at when one is given
    with pytest.raises(UserInputError, match=r"\$NAS_DATA_DIR"):
        paths.corpus_path(None)
    monkeypatch.delenv("NAS_DATA_DIR")
    monkeypatch.setattr(paths, "SIBLING_DATA", tmp_path / "nowhere")
    with pytest.raises(UserInputError, match=r"^give --corpus PATH \(or set NAS_DATA_DIR\)$"):
        paths.corpus_path(None)


def test_check_output_dir_refuses_before_any_work(tmp_path) -> None:
    from nas_common.paths import check_output_dir, check_output_file
    from search_spaces import UserInputError

    taken = tmp_path / "taken"
    taken.write_text("x")
    with pytest.raises(UserInputError, match="is a file"):
        check_output_dir(taken)
    with pytest.raises(UserInputError, match="nothing can be written under it"):
        check_output_dir(taken / "sub" / "out")
    with pytest.raises(UserInputError, match="not writable"):
        check_output_dir("/proc/nas-test/out")  # /proc refuses new entries even to root
    model = tmp_path / "model"
    model.mkdir()
    (model / "checkpoint.pt").write_text("old")
    with pytest.raises(UserInputError, match="already holds checkpoint.pt.*--overwrite"):
        check_output_dir(model, result_files=("config.json", "checkpoint.pt"))
    assert check_output_dir(model, overwrite=True, result_files=("checkpoint.pt",)) == model
    assert check_output_dir(model, result_files=("metrics.json",)) == model
    with pytest.raises(UserInputError, match="already holds files"):
        check_output_dir(model)
    assert check_output_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # a check creates nothing
    assert (model / "checkpoint.pt").read_text() == "old"
    with pytest.raises(UserInputError, match="also an input"):
        check_output_file(taken, inputs=(tmp_path / "." / "taken",))
    (tmp_path / "link").symlink_to(taken)
    with pytest.raises(UserInputError, match="also an input"):
        check_output_file(tmp_path / "link", inputs=(taken,))
    with pytest.raises(UserInputError, match="is a directory"):
        check_output_file(model)
    assert check_output_file(tmp_path / "rows.csv", inputs=(taken,)) == tmp_path / "rows.csv"


# ---------------------------------------------------------------- issue 14 item 6: no hidden import cycles
PACKAGES = ("nas", "nas_common", "search_spaces", "latency_models", "device_profiles")


def _imports(repo: Path) -> tuple[dict[str, Path], dict[str, set[str]], dict[str, list[tuple[str, int]]]]:
    """(modules, module-level imports, function-level imports) of the project's packages, from their AST."""
    import ast

    modules = {}
    for package in PACKAGES:
        for path in (repo / package).rglob("*.py"):
            parts = list(path.relative_to(repo).with_suffix("").parts)
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    top: dict[str, set[str]] = {m: set() for m in modules}
    local: dict[str, list[tuple[str, int]]] = {m: [] for m in modules}
    for module, path in modules.items():
        def visit(node: ast.AST, in_function: bool, module: str = module, path: Path = path) -> None:
            for child in ast.iter_child_nodes(node):
                inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                if isinstance(child, ast.Import | ast.ImportFrom):
                    if isinstance(child, ast.Import):
                        names = [a.name for a in child.names]
                    else:
                        base = child.module or ""
                        if child.level:
                            package = module.split(".")[: len(module.split(".")) - child.level
                                                        + (path.name == "__init__.py")]
                            base = ".".join([*package, base] if base else package)
                        names = [base, *(f"{base}.{a.name}" for a in child.names)]
                    for name in (n for n in names if n in modules):
                        (local[module].append((name, child.lineno)) if inside else top[module].add(name))
                visit(child, inside)
        visit(ast.parse(path.read_text()), False)
    return modules, top, local


def test_no_function_level_import_dodges_a_cycle() -> None:
    """A function-level import of module B in A is a dodged cycle when B imports A (through any chain of
    module-level imports, TYPE_CHECKING ones included)."""
    repo = Path(__file__).resolve().parents[1]
    modules, top, local = _imports(repo)

    def reaches(start: str, goal: str) -> bool:
        seen, stack = set(), [start]
        while stack:
            current = stack.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                stack.extend(top[current])
        return False

    dodged = sorted(f"{modules[m].relative_to(repo)}:{line} imports {target} in a function, and {target} "
                    f"imports {m}" for m, found in local.items() for target, line in found
                    if target != m and reaches(target, m))
    assert not dodged, "\n".join(dodged)
    assert "search_spaces.counting" in top["search_spaces.arch"]  # the checker sees module-level imports


def test_a_bug_is_one_line_exit_1_and_its_traceback_on_request(monkeypatch, capsys) -> None:
    from nas import cli
    from nas.cli import arch as cli_arch

    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_arch, "arch_summary", broken)
    monkeypatch.delenv("NAS_DEBUG", raising=False)
    with pytest.raises(SystemExit) as stop:
        cli.main(["arch", "show", "mobilebert"])
    err = capsys.readouterr().err
    assert stop.value.code == 1 and err.count("\n") == 1 and "RuntimeError: boom" in err and "NAS_DEBUG=1" in err
    monkeypatch.setenv("NAS_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["arch", "show", "mobilebert"])


def test_file_system_refusal_is_one_line_exit_2(monkeypatch, capsys) -> None:
    from nas import cli
    from nas.cli import arch as cli_arch

    def refused(*_: object) -> None:
        raise PermissionError(13, "Permission denied", "/somewhere/out")

    monkeypatch.setattr(cli_arch, "arch_summary", refused)
    with pytest.raises(SystemExit) as stop:
        cli.main(["arch", "show", "mobilebert"])
    assert stop.value.code == 2
    assert capsys.readouterr().err == "error: /somewhere/out: Permission denied\n"


def _commands(command, path: tuple[str, ...] = ("nas",)):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_help_texts_lose_nothing_to_rich_markup() -> None:
    """`--help` renders through rich, which takes "[default: 2048, paper §4.2]" for a style tag and drops it:
    brackets in help texts must be escaped (\\[) so users see the defaults."""
    from rich.text import Text

    from nas import cli

    lost = []
    for path, command in _commands(cli.command()):
        texts = [("", command.help or "")] + [(p.name, getattr(p, "help", None) or "") for p in command.params]
        for name, text in texts:
            if Text.from_markup(text).plain != text.replace("\\[", "["):
                lost.append(f"{' '.join(path)} {name}: {text[:60]!r}")
    assert not lost, "\n".join(lost)


def test_every_visible_option_says_what_it_does() -> None:
    from nas import cli

    silent = [f"{' '.join(path)} {param.opts[0]}" for path, command in _commands(cli.command())
              for param in command.params
              if param.opts and param.opts[0].startswith("--") and param.name != "help"
              and not getattr(param, "hidden", False) and not (getattr(param, "help", None) or "").strip()]
    assert not silent, "\n".join(silent)


def test_every_help_page_reads_whole_at_80_columns(monkeypatch, capsys) -> None:
    """Each command's `--help` as a piped terminal shows it (80 columns): a flag takes no value (no `<bool>`),
    no default or word is cut short ("…" at a cell's end), and a description wraps where the terminal ends, not
    where its docstring's line did."""
    import re

    from nas import cli

    monkeypatch.setenv("COLUMNS", "80")
    problems = []
    for path, command in _commands(cli.command()):
        if any("\n" in p for p in (command.help or "").split("\n\n") if not p.startswith("\b")):
            problems.append(f"{' '.join(path)}: a line break inside a paragraph of its help")
        with pytest.raises(SystemExit):
            cli.main([*path[1:], "--help"])
        page = capsys.readouterr().out
        problems += [f"{' '.join(path)}: {line.strip()}" for line in page.splitlines()
                     if "<bool>" in line or re.search(r"…\s*│?\s*$", line)]
    assert not problems, "\n".join(problems)


def test_a_student_as_wide_as_its_embeddings_builds_without_a_spurious_warning() -> None:
    """MobileBERT's MLM head has hidden − embedding extra columns; at equal widths torch warns about zero-element
    tensors for every such student. The CLI silences that one line (nas_common/quiet.py)."""
    import warnings

    from transformers import MobileBertConfig, MobileBertForPreTraining

    from nas_common.quiet import quiet_optional_libraries

    quiet_optional_libraries()  # what importing nas.cli does in every `nas` process (pytest resets filters per test)
    config = MobileBertConfig(vocab_size=64, hidden_size=32, embedding_size=32, intra_bottleneck_size=16,
                              num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, true_hidden_size=16)
    with warnings.catch_warnings(record=True) as caught:
        MobileBertForPreTraining(config)
    assert not [w for w in caught if "zero-element" in str(w.message)]


def test_latency_breakdown_columns_line_up(capsys) -> None:
    """Every row of `nas latency --breakdown`, the runtime's per-inference constant too, puts its columns under
    the header's."""
    from nas import cli

    with pytest.raises(SystemExit):
        cli.main(["latency", "--device", "pixel4", "--arch", "mobilebert-tiny", "--breakdown"])
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("part "))
    rows = lines[header + 1:]
    assert any(r.startswith("runtime ") for r in rows)
    starts = [lines[header].index(column) for column in ("kernel", "kind")]
    assert all(r[at - 1] == " " and r[at] != " " for r in rows for at in starts), rows
