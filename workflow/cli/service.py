"""``chengxin tick`` and ``chengxin serve``: the deadline sweep, supervision rounds and mail,
once or for as long as it runs; ``serve --port N`` runs the HTTP API in the same process."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from workflow.cli.common import (
    DbOption,
    DefsOption,
    fail,
    opened,
    user_errors,
)
from workflow.engine.clock import parse_when, shanghai


def tick(
    now: Annotated[
        str | None, typer.Option("--now", help="仅演练库：先把模拟时间推进到此 (drill databases only)")
    ] = None,
    mail: Annotated[
        bool, typer.Option("--mail/--no-mail", help="同时发送待发邮件 also send queued mail")
    ] = True,
    db: DbOption = None,
    definitions: DefsOption = None,
) -> None:
    """执行一次巡检：开启到期督查、处理到期期限和提醒、发送邮件 (one pass: rounds, deadlines, reminders, mail)."""
    from workflow.runtime.dispatch import Dispatcher, MailSettings
    from workflow.runtime.service import run_once
    from workflow.runtime.webhooks import WebhookDispatcher, WebhookSettings

    with user_errors(), opened(db, definitions) as engine:
        if now is not None:
            engine.advance_clock(parse_when(now))
        dispatcher = Dispatcher(engine, MailSettings.from_env()) if mail else None
        hooks = WebhookDispatcher(engine, WebhookSettings.from_env()) if mail else None
        result = run_once(engine, dispatcher, webhooks=hooks)
        sent = result.get("mail", {})
        posted = result.get("webhooks", {})
        typer.echo(
            f"{shanghai(engine.clock.now())} (Asia/Shanghai): 督查 rounds opened {result['rounds_opened']}，"
            f"台账检查 ledger checks opened {result['checks_opened']}，"
            f"到期处理 fired {result['fired']}，跳过 skipped {result['skipped']}，"
            f"邮件 mail sent {sent.get('sent', 0)}，failed {sent.get('failed', 0)}，dead {sent.get('dead', 0)}，"
            f"暂不发送 held {sent.get('held', 0)}，"
            f"webhook sent {posted.get('sent', 0)}，failed {posted.get('failed', 0)}，dead {posted.get('dead', 0)}，"
            f"错误 errors {len(result['errors'])}"
        )
        for note in result.get("notes", []):
            typer.echo(f"注意 note: {note}", err=True)
        for error in result["errors"]:
            typer.echo(f"错误 error: {error}", err=True)
        if result["errors"]:
            raise typer.Exit(1)


def serve(
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            envvar="CHENGXIN_API_PORT",
            min=1,
            max=65535,
            help="HTTP 接口端口；给出即运行接口 run the HTTP API on this port",
        ),
    ] = None,
    host: Annotated[
        str,
        typer.Option(
            "--host", envvar="CHENGXIN_API_HOST", help="HTTP 接口监听地址 address the API listens on"
        ),
    ] = "127.0.0.1",
    api: Annotated[
        bool, typer.Option("--api/--no-api", help="运行 HTTP 接口 run the HTTP API (needs --port)")
    ] = True,
    scheduler: Annotated[
        bool, typer.Option("--scheduler/--no-scheduler", help="运行调度 run the scheduler")
    ] = True,
    sweep_seconds: Annotated[float, typer.Option(min=1, help="巡检间隔秒数 seconds between sweeps")] = 30.0,
    rounds_seconds: Annotated[
        float, typer.Option(min=10, help="督查排期检查间隔 seconds between schedule checks")
    ] = 300.0,
    mail: Annotated[bool, typer.Option("--mail/--no-mail", help="发送邮件 send queued mail")] = True,
    checkpoint_dir: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint-dir",
            envvar="CHENGXIN_CHECKPOINT_DIR",
            help="定时写入检查点的目录（须已存在） write a checkpoint into this existing folder on a schedule",
        ),
    ] = None,
    checkpoint_minutes: Annotated[
        float, typer.Option(min=1, help="检查点间隔分钟 minutes between checkpoints")
    ] = 60.0,
    checkpoint_keep: Annotated[
        int,
        typer.Option(
            min=1,
            help="保留最新检查点数（另保留近90天每天一份） newest checkpoints kept (and one a day for 90 days)",
        ),
    ] = 48,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=32,
            help="HTTP 接口进程数（调度只在第一个进程中运行） API processes sharing the port "
            "(the scheduler runs in the first only)",
        ),
    ] = 1,
    http: Annotated[
        str,
        typer.Option(
            "--http",
            help="HTTP 解析器 HTTP parser: auto (httptools if installed, else h11), httptools, h11",
        ),
    ] = "auto",
    loop: Annotated[
        str,
        typer.Option(
            "--loop",
            help="事件循环 event loop: auto (uvloop if installed, else asyncio), uvloop, asyncio",
        ),
    ] = "auto",
    db: DbOption = None,
    definitions: DefsOption = None,
) -> None:
    """运行引擎服务：调度（期限、提醒、督查、邮件、检查点）和 HTTP 接口 (run the scheduler and, with --port, the HTTP API)."""
    from workflow import audit
    from workflow.runtime.dispatch import Dispatcher, MailSettings
    from workflow.runtime.service import serve as run_service
    from workflow.runtime.webhooks import WebhookDispatcher, WebhookSettings

    with_api = api and port is not None
    if not with_api and not scheduler:
        fail("没有可运行的内容 (nothing to run): give --port for the API, or drop --no-scheduler", 2)
    if workers > 1 and not with_api:
        fail("--workers 需要 HTTP 接口 (needs the API): give --port", 2)
    if workers > 1 and not hasattr(os, "fork"):
        fail("--workers 需要 fork (needs a POSIX system); use --workers 1", 2)
    flavour = server_flavour(http, loop) if with_api else ("h11", "asyncio")
    with user_errors(), opened(db, definitions) as engine:
        settings_ = MailSettings.from_env()
        dispatcher = Dispatcher(engine, settings_) if mail else None
        hooks = WebhookDispatcher(engine, WebhookSettings.from_env()) if mail else None
        take: Callable[[], Any] | None = None
        if checkpoint_dir is not None:
            folder = checkpoint_dir
            audit.checkpoints(folder)  # the folder must exist: say so now, not in the log an hour later

            def take() -> Any:
                return audit.take_checkpoint(engine, folder, keep=checkpoint_keep)

        described = (
            f", 检查点 checkpoints every {checkpoint_minutes:g} min into {checkpoint_dir}" if take else ""
        )
        jobs: dict[str, Any] = {
            "sweep_seconds": sweep_seconds,
            "rounds_seconds": rounds_seconds,
            "checkpoint": take,
            "checkpoint_seconds": checkpoint_minutes * 60,
            "webhooks": hooks,
        }
        said = (
            f"巡检 sweep every {sweep_seconds:g}s, 督查 rounds every {rounds_seconds:g}s, "
            f"{settings_.describe() if mail else '不发送邮件 mail off'}{described}"
            if scheduler
            else "不运行调度 scheduler off"
        )
        if not with_api:
            typer.echo(f"chengxin serve: {said}; Ctrl-C 停止 to stop", err=True)
            run_service(engine, dispatcher, **jobs)
            return
        assert port is not None
        listening = listen(host, port)
        typer.echo(
            f"chengxin serve: HTTP 接口 API on http://{host}:{port} (docs /docs), "
            f"网页控制台 console http://{host}:{port}/console/ ({flavour[0]}, {flavour[1]}); "
            f"{said}; Ctrl-C 停止 to stop",
            err=True,
        )
        run_with_api(
            engine, dispatcher, listening, jobs if scheduler else None, workers=workers, flavour=flavour
        )


_FLAVOURS = {"http": ("httptools", "h11"), "loop": ("uvloop", "asyncio")}


def server_flavour(http: str, loop: str) -> tuple[str, str]:
    """The HTTP parser and event loop uvicorn runs on: ``auto`` takes the C ones (httptools,
    uvloop: about 0.1 ms less server CPU per request than h11 on asyncio, ``bench.http_layer``)
    when they are installed and the pure-Python ones otherwise; asking for one that is not
    installed is one line."""
    import importlib.util

    chosen = []
    for option, asked in (("http", http), ("loop", loop)):
        fast, pure = _FLAVOURS[option]
        if asked not in ("auto", fast, pure):
            fail(f"--{option} {asked!r} 无效 (invalid): auto, {fast} 或 or {pure}", 2)
        installed = importlib.util.find_spec(fast) is not None
        if asked == fast and not installed:
            fail(
                f"--{option} {fast}: 未安装 (not installed): pip install 'uvicorn[standard]', or --{option} {pure}",
                2,
            )
        chosen.append((fast if installed else pure) if asked == "auto" else asked)
    return chosen[0], chosen[1]


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, or one line saying why not."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on accepted sockets whose proto
        # says TCP. Without it uvicorn's two writes of a response (head, then body) meet Nagle's
        # algorithm and the client's delayed ACK: ~40 ms added to every answer on a kept-alive
        # connection. TCP_NODELAY on the listener too (Linux hands it to accepted sockets).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError as exc:
        fail(f"无法监听 {host}:{port} (cannot listen): {exc.strerror or exc}", 2)
    sock.set_inheritable(True)
    return sock


def run_with_api(
    engine: Any,
    dispatcher: Any,
    sock: socket.socket,
    jobs: dict[str, Any] | None,
    *,
    workers: int = 1,
    flavour: tuple[str, str] = ("h11", "asyncio"),
) -> None:
    """The HTTP API on ``sock`` (uvicorn, in this thread, stopped by SIGINT/SIGTERM), with the
    scheduler's jobs in a background thread when ``jobs`` are given.

    ``workers`` > 1: that many processes answer on the one listening socket (the kernel hands
    each connection to one of them). The others are forked before any thread or connection is
    started, serve the API only and open connections of their own; the scheduler runs in this
    process alone. When this process stops it stops them (SIGTERM, then SIGKILL after 30 s).
    A worker that dies is not restarted: run ``chengxin serve`` under a supervisor.
    ``flavour`` is uvicorn's HTTP parser and event loop (``server_flavour``).
    """
    import uvicorn

    from workflow.api import create_app
    from workflow.console import mount
    from workflow.runtime.service import Heartbeat, start

    stopping: list[int] = []

    def stop(signum: int, _frame: Any) -> None:
        # before uvicorn runs: remember the stop; after it: uvicorn re-raises the signal it
        # handled, which then only lands here, so the process ends normally (exit 0)
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def api(scheduler: Any) -> None:
        if not stopping:
            app = mount(create_app(engine, scheduler=scheduler))
            http, loop = flavour
            config = uvicorn.Config(
                app, log_config=None, lifespan="off", server_header=False, http=http, loop=loop
            )
            uvicorn.Server(config).run(sockets=[sock])

    children = [_fork_worker(engine, api) for _ in range(workers - 1)]
    heartbeat = None
    running = None
    if jobs is not None:
        heartbeat = Heartbeat(jobs["sweep_seconds"])
        running = start(engine, dispatcher, heartbeat=heartbeat, **jobs)
    try:
        api(heartbeat.alive if heartbeat else None)
    finally:
        if running is not None:
            running.shutdown(wait=True)
        _stop_workers(children)


def _fork_worker(engine: Any, api: Callable[[Any], None]) -> int:
    """A child process serving ``api`` (no scheduler) on connections of its own; its pid."""
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        engine.store.db.engine.dispose(close=False)  # the parent's pooled connections stay its own
        api(None)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _stop_workers(children: list[int], seconds: float = 30.0) -> None:
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + seconds
    for pid in children:
        while time.monotonic() < deadline:
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
