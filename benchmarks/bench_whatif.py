"""What-ifs and quick commands (issue 20): a studio answer, `procsim whatif`, and the commands that do not simulate.

1. The studio with its engine loaded: `procsim studio` on a free local port, a 12-account
   file uploaded once, then the same 20-seed question on `baseline` asked N times over HTTP
   (what the page's Answer button does); the time of each request.
2. `procsim whatif baseline --accounts <12 accounts> --grant "ACME Industries=5%@0"` as a
   command (a fresh process: start-up, 2 x 20 runs, every output file), N times.
3. Start-up of the commands that do not simulate: `list`, `validate baseline`,
   `accounts check`, `query` (a fresh process each), N times.

Best and median of each, printed as JSON lines; usage: python benchmarks/bench_whatif.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROCSIM = [sys.executable, "-m", "sim"]
ACCOUNTS = """name,segment,annual_revenue,current_discount,months_to_renewal,peers
ACME Industries,customers,12000000,4%,2,Globex; Initech
Globex,customers,8000000,2%,5,ACME Industries
Initech,customers,5000000,0%,9,ACME Industries; Umbrella
Umbrella,customers,3000000,3%,0,
Stark Components,customers,2000000,1%,11,
Wayne Logistics,customers,6500000,3%,4,Globex; Stark Components
Tyrell Systems,customers,4200000,5%,7,Initech
Cyberdyne,customers,3800000,2%,1,Tyrell Systems
Soylent Foods,customers,2600000,0%,3,
Hooli,customers,9000000,6%,8,ACME Industries; Wayne Logistics
Vandelay Imports,customers,1500000,1%,10,
Oscorp,customers,7000000,4%,6,Hooli
"""
QUESTION = {"kind": "level", "to": "ACME Industries", "level": "5", "start": "0", "replicates": "20", "rate": "8"}


def report(name: str, times: list[float], **extra) -> None:
    print(
        json.dumps(
            {"benchmark": name, "best_s": round(min(times), 3), "median_s": round(statistics.median(times), 3),
             "runs": len(times), "times": [round(t, 3) for t in times], **extra}
        ),
        flush=True,
    )  # fmt: skip


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def post(url: str, body: bytes, headers: dict[str, str]) -> dict:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def studio(accounts: Path, repeat: int) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([*PROCSIM, "studio", "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "/api/scenarios", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)  # waiting for the server to listen
        upload = post(base + "/api/accounts", accounts.read_bytes(), {"X-File-Name": "accounts.csv"})
        body = json.dumps(
            {"scenario": "baseline", "upload": upload["id"], "numbers": {}, "question": QUESTION}
        ).encode()
        times, server_times = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            answer = post(base + "/api/ask", body, {"Content-Type": "application/json"})
            times.append(time.perf_counter() - start)
            server_times.append(answer["seconds"])
        report("studio answer (20 seeds, baseline, 12 accounts, engine loaded)", times, server_s=server_times)
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        accounts = tmp / "accounts.csv"
        accounts.write_text(ACCOUNTS, encoding="utf-8")
        studio(accounts, args.repeat)
        whatif = [*PROCSIM, "whatif", "baseline", "--accounts", str(accounts), "--grant", "ACME Industries=5%@0"]
        report(
            "procsim whatif (20 seeds, baseline, 12 accounts, all files)",
            [timed([*whatif, "--out", str(tmp / f"w{i}"), "--quiet"]) for i in range(args.repeat)],
        )
        spec = tmp / "tiny.yaml"
        spec.write_text(
            "base: baseline\nreplicates: 2\ndesign:\n  grid:\n    periods: [4]\n    customers.count: [10]\n"
        )
        subprocess.run(
            [*PROCSIM, "sweep", str(spec), "--out", str(tmp / "sweep"), "--workers", "1", "--quiet"],
            cwd=ROOT,
            check=True,
        )
        for name, command in (
            ("list", ["list"]),
            ("validate", ["validate", "baseline"]),
            ("accounts check", ["accounts", "check", str(accounts)]),
            ("query", ["query", str(tmp / "sweep"), "SELECT outcome, count(*) AS n FROM runs GROUP BY outcome"]),
        ):
            report(f"procsim {name} (start-up)", [timed([*PROCSIM, *command]) for _ in range(args.repeat)])


if __name__ == "__main__":
    main()
