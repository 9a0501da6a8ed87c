"""The what-if studio's API in process: uploads, the form, questions, answers, downloads, and every bad input.

The studio asks exactly what ``procsim whatif`` asks: the same question on the same
seeds gives the same sentence, and the scenario.yaml it offers re-runs it from the
command line. Bad uploads and fields get a message naming the file or field (HTTP 400 or
413) and never an internal error.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import openpyxl
import pytest
import yaml

from sim.cli import main
from sim.studio.server import Studio, create_app
from sim.studio.workspace import MAX_UPLOAD, Workspace

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # starlette's TestClient still names an anyio alias
    from starlette.testclient import TestClient

ODD = "<img src=x onerror=alert(1)> & Co"
ACCOUNTS = (
    "name,segment,annual_revenue,current_discount,months_to_renewal,peers\n"
    "ACME Industries,customers,12000000,4%,2,Globex\n"
    "Globex,customers,8000000,2%,5,ACME Industries\n"
    f'"{ODD}",customers,5000000,1%,9,ACME Industries\n'
)
SMALL = {"years": "3"}
QUESTION = {"kind": "level", "to": "ACME Industries", "level": "7", "start": "0", "replicates": "3", "rate": "8"}


@pytest.fixture(scope="module")
def client():
    workspace = Workspace()
    with TestClient(create_app(Studio(workspace)), raise_server_exceptions=False) as c:
        yield c
    workspace.close()


@pytest.fixture(scope="module")
def upload(client):
    response = client.post("/api/accounts", content=ACCOUNTS.encode(), headers={"X-File-Name": "our%20accounts.csv"})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["name"] == "our accounts.csv" and [a["name"] for a in data["accounts"]][:2] == [
        "ACME Industries",
        "Globex",
    ]
    return data["id"]


def _ask(client, upload, question=None, numbers=None, scenario="baseline"):
    body = {
        "scenario": scenario,
        "upload": upload,
        "numbers": {**SMALL, **(numbers or {})},
        "question": question or QUESTION,
    }
    return client.post("/api/ask", json=body)


def test_the_page_and_what_it_offers(client, upload):
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/static/studio.js"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/studio.js").status_code == 200
    scenarios = client.get("/api/scenarios").json()
    assert scenarios["default"] == "baseline" and "procurement_squeeze" in [s["name"] for s in scenarios["scenarios"]]
    form = client.get("/api/form", params={"scenario": "baseline", "upload": upload}).json()
    fields = {f["path"]: f for f in form["fields"]}
    assert fields["you.gross_margin"]["value"] == "45" and fields["years"]["value"] == "10"
    assert "hold" in fields["you.strategy"]["choices"] and "played" not in fields["you.strategy"]["choices"]
    assert [a["name"] for a in form["accounts"]] == ["ACME Industries", "Globex", ODD]
    assert form["segments"] == ["customers"]


def test_the_studio_and_the_command_line_give_the_same_answer(client, upload, tmp_path):
    response = _ask(client, upload)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["text"].startswith("Granting ACME Industries 7% (now 4%) costs you") or "earns you" in answer["text"]
    assert {"cost", "parts", "followers", "overview"} <= set(answer["charts"])
    assert all(uri.startswith("data:image/svg+xml;base64,") for uri in answer["charts"].values())
    assert [line["key"] for line in answer["lines"]][:5] == ["total", "granted", "parity", "moved", "rest"]
    # the downloads: the report, the workbook and a scenario that re-runs from the command line
    html, xlsx, scenario = (client.get(url) for url in answer["downloads"])
    assert all(
        r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
        for r in (html, xlsx, scenario)
    )
    assert answer["text"].replace("'", "&#x27;") in html.text
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    cells = {r[0].value: r[1].value for r in book["Summary"].iter_rows(min_col=1, max_col=2) if r[0].value}
    assert cells["Answer"] == answer["text"]
    path = tmp_path / "scenario.yaml"
    path.write_bytes(scenario.content)
    assert "upload-" not in scenario.text and yaml.safe_load(scenario.text)["accounts"][0]["name"] == "ACME Industries"
    out = tmp_path / "cli"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        args = ["whatif", str(path), "--grant", "ACME Industries=7%@0", "--replicates", "3", "--rate", "8%"]
        assert main([*args, "--out", str(out), "--quiet"]) == 0
    assert buffer.getvalue().splitlines()[0] == answer["text"] + "."
    assert answer["command"] == "procsim whatif scenario.yaml --grant 'ACME Industries=7%@0' --replicates 3 --rate 8%"


def test_names_from_the_upload_are_escaped_in_every_fragment(client, upload):
    answer = _ask(client, upload).json()
    for fragment in answer["html"].values():
        assert "<img src=x" not in fragment
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; Co" in answer["html"]["accounts"]


def test_your_numbers_and_the_other_questions(client, upload):
    numbers = {
        "you.strategy": "hold",
        "you.gross_margin": "40",
        "customers.procurement.savings_target": "{0: 6%, 4: 0}",
    }
    answer = _ask(client, upload, numbers=numbers).json()
    assert "your strategy=hold" in answer["title"] and "your gross_margin=40%" in answer["title"], answer["title"]
    scenario = yaml.safe_load(client.get(answer["downloads"][2]).text)
    you = scenario["suppliers"]["groups"][0]
    assert (you["name"], you["count"], you["strategy"], you["gross_margin"]) == ("you", 1, "hold", 0.4)
    assert scenario["suppliers"]["groups"][1]["strategy"] == "concede"  # your rivals keep theirs
    step = _ask(client, upload, {**QUESTION, "kind": "step", "step": "3"}).json()
    level = _ask(client, upload, {**QUESTION, "level": "7"}).json()
    assert step["lines"] == level["lines"]  # 4% today + 3 points = 7%
    curve = _ask(client, upload, {**QUESTION, "kind": "find", "low": "0", "high": "8", "by": "4", "keep": "50"}).json()
    assert curve["curve_text"].startswith("Granting ACME Industries 0% to 8% (now 4%)")
    assert "<table class='curve'>" in curve["html"]["curve"] and "curve" in curve["charts"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"numbers": {"you.gross_margin": "lots"}}, "you.gross_margin", "expected a number"),
        ({"numbers": {"you.gross_margin": "150"}}, "you.gross_margin", "between 0 and 100"),
        ({"numbers": {"you.gross_margin": "99"}}, "you.gross_margin", "must be between 0.01 and 0.95"),
        ({"numbers": {"you.strategy": "bribe"}}, "you.strategy", "choose one of"),
        (
            {"numbers": {"customers.procurement.savings_target": "{0: 6%, x: 1}"}},
            "customers.procurement.savings_target",
            "expected a number",
        ),
        ({"numbers": {"nonsense": "1"}}, "nonsense", "not a field"),
        ({"numbers": {"years": "0"}}, "years", "whole number from 1 to 30"),
        ({"question": {**QUESTION, "kind": "guess"}}, "kind", "choose one of"),
        ({"question": {**QUESTION, "to": ""}}, "to", "choose an account"),
        ({"question": {**QUESTION, "to": "Nobody"}}, "Nobody", "no account or segment named 'Nobody'"),
        ({"question": {**QUESTION, "level": "95"}}, "ACME Industries", "between 0% and 90%"),
        (
            {"question": {**QUESTION, "kind": "step", "to": "customers", "step": "2"}},
            "customers",
            "adds to an account's current discount",
        ),
        (
            {"question": {**QUESTION, "kind": "curve", "low": "0", "high": "10", "by": "0.1"}},
            "ACME Industries",
            "at most 21 levels",
        ),
        ({"question": {**QUESTION, "replicates": "500"}}, "replicates", "from 1 to 100"),
        ({"question": {**QUESTION, "start": "99"}}, "ACME Industries", "within the horizon"),
        ({"scenario": "../../etc/passwd"}, "scenario", "no scenario called"),
        ({"upload": 999}, "file", "upload the accounts file again"),
    ],
)
def test_bad_fields_get_a_message_under_their_field(client, upload, body, field, words):
    request = {"scenario": "baseline", "upload": upload, "numbers": dict(SMALL), "question": dict(QUESTION), **body}
    if "numbers" in body:
        request["numbers"] = {**SMALL, **body["numbers"]}
    response = client.post("/api/ask", json=request)
    assert response.status_code == 400, response.text
    data = response.json()
    assert data["field"] == field and words in data["error"], data


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("accounts.csv", b"name,segment\nX,customers\n", "missing column(s) annual_revenue"),
        ("accounts.csv", b"", "empty"),
        ("accounts.pdf", b"%PDF-1.4", "must be .csv or .xlsx"),
        ("accounts.xlsx", b"not a workbook", "accounts.xlsx"),
        ("accounts.csv", ACCOUNTS.replace("4%,2", "140%,2").encode(), "row 2"),
        ("accounts.csv", b"\xff\xfe\x00garbage", "accounts.csv"),
    ],
)
def test_bad_uploads_are_refused_with_the_file_named(client, name, data, words):
    response = client.post("/api/accounts", content=data, headers={"X-File-Name": name})
    assert response.status_code == 400, response.text
    message = response.json()
    assert message["field"] == "file" and words in message["error"] and name in message["error"], message


def test_a_segment_the_scenario_lacks_is_made_from_its_group_or_named_when_it_has_several(client):
    """A segment of one's own is a copy of the scenario's one customer group; with several, the form says how."""
    text = ACCOUNTS.replace("ACME Industries,customers", "ACME Industries,Automotive")
    upload = client.post("/api/accounts", content=text.encode(), headers={"X-File-Name": "crm.csv"}).json()["id"]
    assert client.get("/api/form", params={"scenario": "baseline", "upload": upload}).status_code == 200
    response = client.get("/api/form", params={"scenario": "bidding_war", "upload": upload})
    assert (
        response.status_code == 400
        and "crm.csv" in response.json()["error"]
        and "Automotive" in response.json()["error"]
    )


def test_uploads_are_bounded_from_the_header_and_while_streaming(client):
    big = b"x" * (MAX_UPLOAD + 1)
    response = client.post("/api/accounts", content=big, headers={"X-File-Name": "big.csv"})
    assert response.status_code == 413 and "larger than" in response.json()["error"]

    def chunks():  # no Content-Length: refused as the body streams past the limit
        for _ in range(MAX_UPLOAD // 65_536 + 2):
            yield b"y" * 65_536

    response = client.post("/api/accounts", content=chunks(), headers={"X-File-Name": "big.csv"})
    assert response.status_code == 413 and "larger than" in response.json()["error"]
    assert client.post("/api/ask", content=b"{" * 70_000).status_code == 413
    assert client.post("/api/ask", content=b"not json").json()["error"] == "the request is not valid JSON"


def test_unknown_answers_and_files_are_not_found(client):
    assert client.get("/api/answers/12345/report.html").status_code == 404
    assert client.get("/api/answers/1/passwd").status_code == 404
