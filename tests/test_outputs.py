import pytest

from sim import run_scenario
from sim.errors import InputError
from sim.reports import files as outputs

from .conftest import bundled


def test_a_failure_while_writing_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("sim.reports.pages.run_report", broken)
    out = tmp_path / "run"
    with pytest.raises(RuntimeError):
        run_scenario(bundled("baseline", {"customers.count": 10, "periods": 4}), out=out)
    assert list(tmp_path.iterdir()) == []


def test_outputs_appear_all_at_once_with_normal_permissions(tmp_path):
    out = tmp_path / "run"
    run_scenario(bundled("baseline", {"customers.count": 10, "periods": 4}), out=out, counterfactual=False)
    assert (out / "summary.json").stat().st_mode & 0o044  # readable by others, like any file the user makes
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_default_output_folders_are_unique(tmp_path):
    first = outputs.default_out("baseline", 42, root=tmp_path)
    first.mkdir(parents=True)
    second = outputs.default_out("baseline", 42, root=tmp_path)
    assert second != first and second.parent == first.parent and "seed42" in second.name


def test_atomic_text_write_replaces_whole_files(tmp_path):
    path = tmp_path / "a.json"
    outputs.atomic_write_text(path, "one")
    outputs.atomic_write_text(path, "two")
    assert path.read_text() == "two" and [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_refuses_a_file_where_the_folder_should_go(tmp_path):
    target = tmp_path / "x"
    target.write_text("")
    with pytest.raises(InputError), outputs.staged_directory(target):
        pass
