"""The top-level command group: loads a command group's module only when that group runs, and
prints every usage error as the one line every other error is.

A command group is registered by name with the dotted path of its Typer app (or of a single
command's function) and its one-line help, so ``chengxin --help`` and shell completion list every
group without importing the engine, the store or the templates behind it. Groups added eagerly
with ``app.add_typer`` keep working; they only cost their import on every run.

This module must stay light: it imports Typer and nothing of the engine.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import Any, NoReturn

import typer
import typer.core
import typer.main
from typer import _click

from workflow.cli import coercion

coercion.install()  # option values without pydantic where Typer's coercion is the identity


@dataclass(frozen=True, slots=True)
class Lazy:
    """A command (group) loaded on first use: ``target`` is ``module:attribute``, the attribute a
    ``typer.Typer`` or a command function; ``help`` is what the listing shows before loading."""

    target: str
    help: str


LAZY: dict[str, Lazy] = {}
"""Every lazily loaded command of ``chengxin``, by name, in the order ``--help`` lists them."""


def register(name: str, target: str, help: str) -> None:
    """Add the command ``name``, loaded from ``target`` (``module:attribute``) when it runs."""
    LAZY[name] = Lazy(target, help)


def load(name: str) -> _click.Command:
    """The Click command of the lazily registered ``name``, importing its module now."""
    module_name, _, attribute = LAZY[name].target.partition(":")
    found: Any = getattr(importlib.import_module(module_name), attribute)
    command: _click.Command
    if isinstance(found, typer.Typer):
        if found.info.name is None:
            found.info.name = name
        command = typer.main.get_group(found)  # a group even with one command (``config show``)
    else:  # a single command's function, as ``@app.command()`` would take it
        holder = typer.Typer()
        holder.command(name)(found)
        command = typer.main.get_command(holder)
    command.name = name
    return command


def one_line(message: str) -> str:
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


class LazyGroup(typer.core.TyperGroup):
    """``chengxin`` itself: lazy subcommands, and Click's usage errors as one ``错误 error:`` line."""

    _listing = False  # while help or completion lists the commands: show stubs, import nothing

    def list_commands(self, ctx: _click.Context) -> list[str]:
        names = super().list_commands(ctx)
        return names + [name for name in LAZY if name not in self.commands]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        found = self.commands.get(cmd_name)
        if found is not None or cmd_name not in LAZY:
            return found
        if self._listing:
            return typer.core.TyperCommand(cmd_name, help=LAZY[cmd_name].help)
        command = load(cmd_name)
        self.commands[cmd_name] = command
        return command

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except _click.exceptions.UsageError as exc:
            close = difflib.get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if close and "Did you mean" not in exc.message:
                exc.message = f"{exc.message.rstrip('.')}. 是否要 Did you mean {', '.join(map(repr, close))}?"
            raise

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def shell_complete(self, ctx: _click.Context, incomplete: str) -> list[Any]:
        self._listing = True
        try:
            return super().shell_complete(ctx, incomplete)
        finally:
            self._listing = False

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: _click.Context | None = None,
        **extra: Any,
    ) -> _click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except _click.exceptions.ClickException as exc:
            usage_error(exc)

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _click.exceptions.ClickException as exc:
            usage_error(exc)


def usage_error(exc: _click.exceptions.ClickException) -> NoReturn:
    """Print a usage error (a missing option, a bad value, an unknown command) as one line and
    exit with Click's code for it (2)."""
    context = getattr(exc, "ctx", None)
    hint = f" (帮助 help: {context.command_path} -h)" if context is not None else ""
    typer.echo(f"错误 error: 用法 usage: {one_line(exc.format_message())}{hint}", err=True)
    raise typer.Exit(exc.exit_code)
