"""``chengxin serve --port N``: a real process serving the HTTP API beside the scheduler on a
free loopback port, called over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from support.harness import ORGANISATION

from workflow import Engine

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-c", "from workflow.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHENGXIN_")}
    return env | {
        "CHENGXIN_DATABASE_URL": database_url,
        "CHENGXIN_MAIL_DIR": str(tmp_path / "mail"),
        "PYTHONPATH": str(ROOT),
    }


@contextmanager
def serving(env: dict[str, str], log: Path, *args: str) -> Iterator[subprocess.Popen[str]]:
    with (
        log.open("w") as sink,
        subprocess.Popen(
            [*COMMAND, "serve", *args], env=env, stdout=sink, stderr=sink, text=True, cwd=ROOT
        ) as proc,
    ):
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()  # never leave a hung service behind the test run
                    raise


def wait_ready(client: httpx.Client, proc: subprocess.Popen[str], log: Path) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            answer = client.get("/ready")
            if answer.status_code == 200:
                return answer
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"serve did not become ready: {log.read_text()}")


@pytest.mark.slow
def test_serve_answers_over_http_and_runs_the_scheduler_until_stopped(
    database_url: str, tmp_path: Path
) -> None:
    engine, _before, _after = Engine.init(database_url)
    with engine:
        engine.units.save(
            [
                {"code": "court-3", "name": "第三中级人民法院"},
                {"code": "hexi-zjw", "name": "河西区住房和建设委员会"},
            ]
        )
        _info, token = engine.tokens.create(
            person="li.lei", role="recorder", unit="court-3", valid_for=dt.timedelta(days=1)
        )
    port, log = free_port(), tmp_path / "serve.log"
    env = environment(database_url, tmp_path)
    with (
        serving(env, log, "--port", str(port), "--no-mail", "--sweep-seconds", "1") as proc,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=10) as client,
    ):
        ready = wait_ready(client, proc, log).json()
        assert ready["checks"]["scheduler"]["ok"] is True
        assert "上次巡检" in ready["checks"]["scheduler"]["detail"]
        auth = {"Authorization": f"Bearer {token}"}
        made = client.post("/records", headers=auth, json={"definition": "national", "fields": ORGANISATION})
        assert made.status_code == 201, made.text
        got = client.get(made.headers["Location"], headers=auth)
        assert got.json()["state"] == "draft"
        assert client.get("/records", headers={"Authorization": "Bearer nope"}).status_code == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    text = log.read_text()
    assert "Traceback" not in text
    assert token.split("_", 2)[2] not in text
    assert '"sweep done"' in text or "sweep done" in text
    assert "(httptools, uvloop)" in text  # uvicorn[standard] is a dependency: the C parser and loop


@pytest.mark.slow
def test_serve_on_the_pure_python_parser_and_loop_when_asked(database_url: str, tmp_path: Path) -> None:
    Engine.init(database_url)[0].close()
    port, log = free_port(), tmp_path / "serve.log"
    args = ("--port", str(port), "--no-scheduler", "--http", "h11", "--loop", "asyncio")
    with (
        serving(environment(database_url, tmp_path), log, *args) as proc,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=10) as client,
    ):
        wait_ready(client, proc, log)
        assert client.get("/subjects/x/status").status_code == 401
    assert "(h11, asyncio)" in log.read_text()


@pytest.mark.parametrize(
    ("args", "named"),
    [(("--http", "fast"), "--http 'fast'"), (("--loop", "trio"), "--loop 'trio'")],
)
def test_serve_with_an_unknown_parser_or_loop_is_one_line_error(
    tmp_path: Path, args: tuple[str, str], named: str
) -> None:
    env = environment(f"sqlite:///{tmp_path}/x.db", tmp_path)
    done = subprocess.run(
        [*COMMAND, "serve", "--port", str(free_port()), *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().startswith("错误 error:")
    assert len(done.stderr.strip().splitlines()) == 1
    assert named in done.stderr and "auto" in done.stderr


def test_serve_falls_back_to_the_pure_python_parser_and_loop_when_not_installed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    import typer

    from workflow.cli.service import server_flavour

    assert server_flavour("auto", "auto") == ("httptools", "uvloop")
    assert server_flavour("h11", "asyncio") == ("h11", "asyncio")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in ("httptools", "uvloop") else real(name, *a),
    )
    assert server_flavour("auto", "auto") == ("h11", "asyncio")
    with pytest.raises(typer.Exit) as stopped:
        server_flavour("httptools", "auto")
    assert stopped.value.exit_code == 2
    said = capsys.readouterr().err.strip()
    assert len(said.splitlines()) == 1 and "未安装 (not installed)" in said and "--http h11" in said


@pytest.mark.slow
def test_serve_without_the_scheduler_reports_it_in_readiness(database_url: str, tmp_path: Path) -> None:
    Engine.init(database_url)[0].close()
    port, log = free_port(), tmp_path / "serve.log"
    with (
        serving(environment(database_url, tmp_path), log, "--port", str(port), "--no-scheduler") as proc,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=10) as client,
    ):
        ready = wait_ready(client, proc, log).json()
        assert "no scheduler" in ready["checks"]["scheduler"]["detail"]
    assert "sweep done" not in log.read_text()


def test_serve_with_neither_the_api_nor_the_scheduler_is_one_line_error(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path}/x.db", tmp_path)
    done = subprocess.run(
        [*COMMAND, "serve", "--no-scheduler"], env=env, capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("错误 error:")
    assert len(done.stderr.strip().splitlines()) == 1


def test_serve_on_a_port_in_use_is_one_line_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    Engine.init(url)[0].close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*COMMAND, "serve", "--port", str(port)],
            env=environment(url, tmp_path),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert "无法监听" in done.stderr
    assert "Traceback" not in done.stderr


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads child processes from /proc")
def test_serve_with_two_workers_answers_credit_checks_and_stops_its_worker(
    database_url: str, tmp_path: Path
) -> None:
    engine, _before, _after = Engine.init(database_url)
    with engine:
        _info, token = engine.tokens.create(
            person="hr-appraisal", role="service", unit="city", valid_for=dt.timedelta(days=1)
        )
    port, log = free_port(), tmp_path / "serve.log"
    env = environment(database_url, tmp_path)
    auth = {"Authorization": f"Bearer {token}"}
    code = ORGANISATION["subject_code"]
    with serving(env, log, "--port", str(port), "--no-scheduler", "--workers", "2") as proc:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=10) as client:
            wait_ready(client, proc, log)
        (worker,) = _children(proc.pid)
        # new connections are spread by the kernel; each is one check, all logged
        answers = []
        for n in range(40):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=10) as one:
                answers.append(
                    one.get(f"/subjects/{code}/status", headers=auth, params={"reason": f"核查 {n}"})
                )
        assert [a.status_code for a in answers] == [200] * 40
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=40) == 0
    assert not Path(f"/proc/{worker}").exists() or "zombie" in Path(f"/proc/{worker}/status").read_text()
    with Engine.open(database_url) as again:
        logged = again.query_log(limit=100)
    assert sorted(r["reason"] for r in logged) == sorted(f"核查 {n}" for n in range(40))
    assert "Traceback" not in log.read_text()
