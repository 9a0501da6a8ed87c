"""What the studio holds between requests: uploaded account files and recent answers, both bounded.

An upload is kept as a file in the studio's own temporary folder (the accounts reader
takes a path) under a name the studio chooses; the name people gave it is kept for
messages. Answers keep what their downloads need (the what-if and its charts) and are
asked one at a time: a simulation takes both cores, two at once would only be slower.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import InputError, clean
from sim.inputs.accounts import read_accounts
from sim.inputs.schema import Account

MAX_UPLOAD = 2_000_000  # bytes: an account list of tens of thousands of rows
KEEP_UPLOADS = 20
KEEP_ANSWERS = 30
SUFFIXES = (".csv", ".xlsx", ".xlsm", ".txt")


@dataclass
class Upload:
    """An accounts file as uploaded: where it is kept, what it was called, the accounts it holds."""

    id: int
    path: Path
    name: str
    accounts: list[Account]


@dataclass
class Answer:
    """An answer the studio gave: the what-if, its charts, the scenario to re-run and the command that asks it."""

    id: int
    result: Any  # sim.whatif.answer.WhatIf
    charts: dict[str, str]
    scenario_yaml: str
    command: str
    files: dict[str, bytes] = field(default_factory=dict)


class Workspace:
    """Uploads and answers of a studio, in a temporary folder removed at :meth:`close`."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="procsim-studio-"))
        self.uploads: OrderedDict[int, Upload] = OrderedDict()
        self.answers: OrderedDict[int, Answer] = OrderedDict()
        self.ids = itertools.count(1)
        self.lock = threading.Lock()  # one what-if at a time
        self.state = threading.Lock()  # the two dictionaries

    def add_upload(self, name: str, data: bytes) -> Upload:
        """Keep an uploaded accounts file and read it; a bad file is an :class:`InputError` naming it (nothing kept)."""
        shown = clean(Path(name.replace("\\", "/")).name, 80) or "accounts"
        suffix = Path(shown).suffix.lower()
        if suffix not in SUFFIXES:
            raise InputError("an accounts file must be .csv or .xlsx", source=shown, field="file")
        if not data:
            raise InputError("the file is empty", source=shown, field="file")
        number = next(self.ids)
        path = self.folder / f"upload-{number}{suffix}"
        path.write_bytes(data)
        try:
            accounts = read_accounts(path)
        except InputError as exc:
            path.unlink(missing_ok=True)
            where = f"{exc.field}: " if exc.field else ""
            raise InputError(where + exc.message, source=shown, field="file") from None
        upload = Upload(number, path, shown, accounts)
        with self.state:
            self.uploads[number] = upload
            while len(self.uploads) > KEEP_UPLOADS:
                _, old = self.uploads.popitem(last=False)
                old.path.unlink(missing_ok=True)
        return upload

    def upload(self, number: Any) -> Upload | None:
        if number in (None, ""):
            return None
        with self.state:
            found = self.uploads.get(number if isinstance(number, int) else _int(number))
        if found is None:
            raise InputError("that upload is no longer here: upload the accounts file again", field="file")
        return found

    def add_answer(self, result: Any, charts: dict[str, str], scenario_yaml: str, command: str) -> Answer:
        """Keep an answer for its downloads; its runs let go of their ensembles (the reports need no model)."""
        for runs in result.runs.values():
            for run in runs:
                run.model = None  # the market's view holds the whole ensemble's arrays
        answer = Answer(next(self.ids), result, charts, scenario_yaml, command)
        with self.state:
            self.answers[answer.id] = answer
            while len(self.answers) > KEEP_ANSWERS:
                self.answers.popitem(last=False)
        return answer

    def answer(self, number: Any) -> Answer | None:
        with self.state:
            return self.answers.get(_int(number))

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
