"""`nas accuracy fit-proxy` writes the proxy's fitted file (issue 34): from the students recorded in the shipped
nas/accuracy/proxy_fit.json it writes that very file again, and the fitted proxy is what `nas` then reads."""

from __future__ import annotations

import json
from pathlib import Path

from nas.accuracy import proxy
from tests.bad_input_support import run_cli


def test_fit_proxy_writes_the_shipped_fit_from_its_own_students(tmp_path: Path, capsys) -> None:
    out = tmp_path / "proxy_fit.json"
    code, stdout, _ = run_cli(["accuracy", "fit-proxy", str(proxy.FIT_FILE), "--out", str(out)], capsys)
    assert code == 0
    assert out.read_bytes() == proxy.FIT_FILE.read_bytes()
    assert "18 students" in stdout


def test_fit_proxy_on_a_few_students_writes_a_fit(tmp_path: Path, capsys) -> None:
    shipped = json.loads(proxy.FIT_FILE.read_text())
    truth = tmp_path / "gt.json"
    truth.write_text(json.dumps({"note": "tiny", "data": shipped["data"][:5]}))
    out = tmp_path / "fit.json"
    code, _, _ = run_cli(["accuracy", "fit-proxy", str(truth), "--out", str(out)], capsys)
    assert code == 0
    fitted = json.loads(out.read_text())
    assert fitted["n"] == 5 and fitted["note"] == "tiny" and set(fitted["coefficients"]) == set(proxy.TERMS)
