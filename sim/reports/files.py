"""Writing run outputs: a complete folder appears at once or not at all.

Every file of a run is written into a temporary folder beside the destination, which is
renamed into place when everything is there, so an interrupted or failed run never
leaves a half-written result. The temporary folder carries a marker file procsim wrote
(:data:`MARKER`); the leftovers of a killed run are removed by the next run into the same
folder once they are a day old, and only those: a hidden file or folder procsim did not
make is never touched, whatever its name. The output folder is checked before any work
starts (:func:`check_place`, :func:`check_out`). Same seed, same scenario and same package
versions give byte-identical files, except ``manifest.json`` (wall time, date, command line).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.errors import InputError, excerpt
from sim.reports.cells import spreadsheet_frame
from sim.version import __version__

if TYPE_CHECKING:
    from sim.inputs.schema import Scenario

PACKAGES = ("mesa", "numpy", "pandas", "matplotlib", "pydantic", "pyarrow", "pyyaml", "networkx", "openpyxl")
STALE_SECONDS = 24 * 3600  # procsim's own staging folders older than this are leftovers of killed runs
MARKER = ".procsim-staging"  # written into every staging folder procsim makes; clean_stale trusts nothing else
STAGING_NAME = re.compile(r"^\..*\.partial-[a-z0-9_]{8}$")  # tempfile.mkdtemp's eight random characters
STAGING_PREFIX_CHARS = 100  # of the output folder's name in its staging folder's name (which must fit NAME_MAX)
TEMPORARY = "[a-z0-9_]{8}"  # tempfile.mkstemp's random part of an atomic write's temporary name
DEEPEST_FILE = 64  # characters below an output folder: plots/<panel>.png and the like, with a margin
OUTPUT_MARKERS = ("sweep.json", "manifest.json")  # a folder holding one of these is procsim's output
DISK_ERRORS = {
    errno.ENOSPC: "no space left on the disk",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


def default_out(
    scenario_name: str, seed: int, suffix: str = "", root: Path | None = None, label: str | None = None
) -> Path:
    """``results/<scenario>/<UTC time>-seed<seed><suffix>[-<label>]``, unique within the folder."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in scenario_name[:100]) or "scenario"
    tail = "-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in label)[:60] if label else ""
    base = (root or Path("results")) / safe / f"{stamp}-seed{seed}{suffix}{tail}"
    path, n = base, 2
    while path.exists():
        path = base.with_name(f"{base.name}-{n}")
        n += 1
    return path


def check_place(final: Path) -> None:
    """Refuse, before any work, a place that can never be an output folder; touches nothing.

    The current folder (``--out .`` or ``--out ""``) or one above it, the home folder, a
    file, a name or path longer than the file system allows, and a place inside another
    procsim output folder (a run, comparison, what-if, game export or sweep).
    """
    source = os.fspath(final) or '""'
    absolute = Path(os.path.abspath(final))
    existing = _existing_ancestor(absolute)
    name_max = _pathconf(existing, "PC_NAME_MAX", 255)
    for part in absolute.parts[1:]:
        if len(os.fsencode(part)) > name_max:
            raise InputError(
                f"a folder name of {len(part)} characters ({excerpt(part, 40)}); this file system allows at most "
                f"{name_max}; choose a shorter --out",
                source=excerpt(source, 80),
            )
    path_max = _pathconf(existing, "PC_PATH_MAX", 4096)
    if len(os.fsencode(str(absolute))) + DEEPEST_FILE > path_max:
        raise InputError(
            f"the path is {len(str(absolute)):,} characters long; with the files inside it this system allows at most "
            f"{path_max - DEEPEST_FILE:,}; choose a shorter --out",
            source=excerpt(source, 80),
        )
    try:
        here = Path.cwd()
    except OSError:
        here = None
    if here is not None and (absolute == here or absolute in here.parents):
        which = "the current folder" if absolute == here else "a folder above the current one"
        raise InputError(
            f"is {which}; name a new folder for the outputs, e.g. --out results/mine", source=excerpt(source, 80)
        )
    if absolute == Path(absolute.anchor) or absolute == Path.home():
        raise InputError(
            "is your home folder or the top of the file system; name a new folder for the outputs, e.g. "
            "--out results/mine",
            source=excerpt(source, 80),
        )
    if final.exists() and not final.is_dir():
        raise InputError("exists and is not an empty folder (it is a file); choose another --out", source=source)
    owner = output_owner(absolute)
    if owner is not None:
        raise InputError(
            f"is inside {owner}, the output folder of another run; choose a folder outside it", source=source
        )


def output_owner(path: Path) -> Path | None:
    """The procsim output folder (run, comparison, what-if, game export, sweep) ``path`` lies inside, or None."""
    for ancestor in Path(os.path.realpath(path)).parents:
        if any((ancestor / name).is_file() for name in OUTPUT_MARKERS):
            return ancestor
    return None


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        try:
            if candidate.is_dir():
                return candidate
        except OSError:  # too long a name to even look at
            continue
    return Path(path.anchor)


def _pathconf(folder: Path, name: str, default: int) -> int:
    try:
        return int(os.pathconf(folder, name))
    except (OSError, ValueError, AttributeError):
        return default


def check_out(final: Path) -> Path:
    """Check an output folder before any work: the folder a run will be published at (symbolic links followed).

    Refuses what :func:`check_place` refuses, a folder that exists and is not empty, a broken
    symbolic link, and a place that cannot be written; removes day-old staging folders of
    killed runs beside it (procsim's own, by their marker).
    """
    check_place(final)
    if final.is_symlink():
        target = Path(os.path.realpath(final))
        if not target.exists():
            raise InputError("is a broken symbolic link; remove it or choose another --out", source=str(final))
        final = target
        check_place(final)
    if final.exists() and (not final.is_dir() or any(final.iterdir())):
        raise InputError("exists and is not an empty folder; choose another --out or remove it", source=str(final))
    ancestor = Path(os.path.abspath(final.parent))
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"{ancestor} is not a folder; choose another --out", source=str(final))
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"cannot write in {ancestor} (permission denied); choose another --out", source=str(final))
    clean_stale(final.parent)
    return final


def clean_stale(folder: Path, max_age: float = STALE_SECONDS, names: Sequence[str] = ()) -> int:
    """Remove what killed procsim runs left in ``folder`` more than ``max_age`` seconds ago; nothing else.

    A staging folder is removed only if procsim made it: a hidden ``.<name>.partial-XXXXXXXX``
    folder (not a link) holding procsim's :data:`MARKER` file. ``names`` are files procsim
    itself writes in ``folder``; their atomic-write temporaries (``.<name>.XXXXXXXX.tmp``)
    are removed too. Any other file or folder, hidden or not, old or new, stays.
    """
    if not folder.is_dir():
        return 0
    temporaries = [re.compile(rf"^\.{re.escape(n)}\.{TEMPORARY}\.tmp$") for n in names]
    removed, cutoff = 0, time.time() - max_age
    try:
        entries = [p for p in folder.iterdir() if p.name.startswith(".")]
    except OSError:
        return 0
    for path in entries:
        try:
            info = path.lstat()
            if info.st_mtime > cutoff:
                continue
            if STAGING_NAME.match(path.name) and path.is_dir() and not path.is_symlink():
                marker = path / MARKER
                if not marker.is_file() or marker.is_symlink():
                    continue
                shutil.rmtree(path)
            elif any(t.match(path.name) for t in temporaries) and path.is_file() and not path.is_symlink():
                path.unlink()
            else:
                continue
            removed += 1
        except OSError:
            continue
    return removed


def staging_folder(parent: Path, name: str) -> Path:
    """A new hidden folder in ``parent`` to build ``name`` in, marked as procsim's (so only it is ever cleaned up)."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{name[:STAGING_PREFIX_CHARS]}.partial-", dir=parent))
    try:
        (tmp / MARKER).write_text(
            f"procsim {__version__} staging folder of process {os.getpid()}; removed when the outputs are "
            "published, or by a later run once it is a day old\n",
            encoding="utf-8",
        )
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def ready(tmp: Path) -> None:
    """Make a staging folder publishable: its marker goes, its files get the user's usual permissions."""
    (tmp / MARKER).unlink(missing_ok=True)
    _publishable(tmp)


def disk_problem(exc: BaseException) -> str | None:
    """A plain description of a write that failed for lack of space or permission (None for other errors)."""
    if not isinstance(exc, OSError):
        return None
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    if exc.errno in DISK_ERRORS:
        return DISK_ERRORS[exc.errno] + where
    text = str(exc)
    for code, words in DISK_ERRORS.items():
        if os.strerror(code) in text:
            return words + where
    return None


@contextlib.contextmanager
def staged_directory(final: Path) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``final`` (atomically renamed) when the block succeeds."""
    final = check_out(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = staging_folder(final.parent, final.name)
    except OSError as exc:
        raise InputError(f"cannot create the output folder: {exc.strerror}", source=str(final)) from None
    try:
        yield tmp
        ready(tmp)
        if final.exists():
            final.rmdir()
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publishable(folder: Path) -> None:
    """Give files made by mkstemp/mkdtemp (private by default) the user's usual permissions."""
    mask = _umask()
    folder.chmod(0o777 & ~mask)
    for path in folder.rglob("*"):
        path.chmod((0o777 if path.is_dir() else 0o666) & ~mask)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` that replaces it (by rename) if the block succeeds.

    Readers see the old file or the complete new one, never a half-written file; a failed
    or killed write leaves at most a hidden ``.<name>.*.tmp`` file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.chmod(0o666 & ~_umask())  # mkstemp files are private; give the user's usual permissions
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write a single text file through a temporary name and a rename."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def git_revision() -> tuple[str | None, bool | None]:
    """The source tree's commit and whether it has uncommitted changes (None outside git)."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - the user's git, from PATH
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if rev.returncode != 0:
            return None, None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607 - as above
            cwd=here,
            check=False,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return rev.stdout.strip(), bool(dirty.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, None


def environment(packages: Sequence[str] = PACKAGES) -> dict[str, Any]:
    """procsim, Python and package versions and the git revision: what a result depends on."""

    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    rev, dirty = git_revision()
    return {
        "procsim": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "git_revision": rev,
        "git_dirty": dirty,
    }


def manifest(
    scenario: Scenario, seeds: Sequence[int], wall_seconds: float, command: Sequence[str] | None
) -> dict[str, Any]:
    """Versions, seeds, parameters' fingerprint and provenance of a run."""
    resolved = scenario.to_yaml()
    return {
        **environment(),
        "scenario": scenario.name,
        "scenario_source": scenario.source,
        "scenario_sha256": hashlib.sha256(resolved.encode()).hexdigest(),
        "seed": seeds[0] if len(seeds) == 1 else None,
        "seeds": list(seeds),
        "command": list(command) if command is not None else None,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(wall_seconds, 3),
    }


def write_frame_csv(frame: pd.DataFrame, path: Path) -> None:
    """A table as CSV, its text made safe for a spreadsheet (:mod:`sim.reports.cells`)."""
    spreadsheet_frame(frame).to_csv(path, index=False, float_format="%.10g", lineterminator="\n")


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, engine="pyarrow", index=False, compression="zstd")
