"""The bad-input corpus (tests/bad_inputs/): every case exits 2 with one clear message and writes nothing.

README promises that a bad file, value, key or option gets "one message naming the file and
the field, exit code 2, and nothing is written". Each case of ``cases.yaml`` is run through
the CLI from a copy of the corpus folder (which is also the current folder, so a stray
``results/`` would be seen); a few also through a real process, as a user runs them. A case
with both ``file`` and ``args`` runs the command in ``args`` on the file (``{file}``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.cli import main

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
ROOT = CORPUS.parent.parent


def _id(case: dict) -> str:
    return case.get("file") or " ".join(case["args"])[:60]


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _args(case: dict, out: Path) -> list[str]:
    if "args" in case:
        args = [a.replace("{out}", str(out)).replace("{file}", case.get("file", "")) for a in case["args"]]
        return args if "--out" in args or args[0] not in ("run", "compare", "sweep") else [*args, "--out", str(out)]
    command = "sweep" if case["file"].startswith("sweep_") else "run"
    return [command, case["file"], "--out", str(out)]


def test_the_corpus_has_at_least_60_files_each_with_a_case():
    files = {p.name for p in CORPUS.iterdir() if p.name != "cases.yaml"}
    assert len(files) >= 60
    assert files == {c["file"] for c in CASES if "file" in c}


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_bad_input_exits_2_with_one_message_and_writes_nothing(case, tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    shutil.copytree(CORPUS, work)
    monkeypatch.chdir(work)
    monkeypatch.delenv("PROCSIM_SCENARIOS", raising=False)
    before = _files(work)
    out = tmp_path / "out"
    try:
        code = main(_args(case, out))
    except SystemExit as exc:  # argparse
        code = exc.code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("procsim: error: "), err
    assert "Traceback" not in err and "\x1b" not in err and len(err) < 1200, err
    names = case.get("names") or [case["file"], *([case["field"]] if "field" in case else [])]
    for word in [*names, case["words"]]:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"
    assert not out.exists()
    assert _files(work) == before, "something was written"
    assert not [p for p in tmp_path.rglob("*") if ".partial" in p.name or p.name.endswith(".tmp")]


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    big.write_text("extends: baseline\ndescription: '" + "x" * 1_100_000 + "'\n")
    assert main(["validate", str(big)]) == 2
    err = capsys.readouterr().err
    assert "big.yaml: is 1,100,0" in err and "at most 1,000,000 bytes" in err


def test_a_message_never_shows_what_a_refused_file_holds(capsys):
    assert main(["validate", str(CORPUS / "extends_etc_passwd_relative.yaml")]) == 2
    assert "root:" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "name",
    ["yaml_billion_laughs.yaml", "yaml_binary.yaml", "extends_etc_shadow.yaml", "sweep_grid_billion_points.yaml"],
)
def test_a_real_process_gets_the_same_answer(name, tmp_path):
    command = "sweep" if name.startswith("sweep_") else "run"
    proc = subprocess.run(
        [sys.executable, "-m", "sim", command, str(CORPUS / name), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("procsim: error:") == 1 and "Traceback" not in proc.stderr
    assert name in proc.stderr and not list(tmp_path.iterdir())


def test_procsim_list_shows_a_broken_file_and_lists_the_rest(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(CORPUS / "yaml_billion_laughs.yaml", folder / "laughs.yaml")
    shutil.copy(CORPUS / "yaml_latin1.yaml", folder / "latin.yaml")
    (folder / "mine.yaml").write_text("extends: baseline\ndescription: Our own market.\n")
    monkeypatch.chdir(tmp_path)
    assert main(["list"]) == 0
    rows = dict(line.split(maxsplit=1) for line in capsys.readouterr().out.splitlines())
    assert rows["mine"] == "Our own market."
    assert rows["laughs"].startswith("(invalid:") and "aliases" in rows["laughs"]
    assert rows["latin"].startswith("(invalid:") and "UTF-8" in rows["latin"]
    assert "procurement_squeeze" in rows
