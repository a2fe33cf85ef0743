"""Errors from below reach a caller of the engine as ``WorkflowError``s, their cause chained.

The store, the definition loader, the holiday tables and the mail settings each have errors of
their own; a caller of the public API catches one root. ``public`` wraps a method (or a
generator) of the engine's facade so that those errors leave it translated, with the same
message and the original as ``__cause__``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, ParamSpec, TypeVar

from definitions.holidays import HolidayTableError
from definitions.loaded import DefinitionError
from notifications import ConfigurationError
from storage import errors as storage
from workflow import errors

P = ParamSpec("P")
R = TypeVar("R")

UNDERNEATH: tuple[type[Exception], ...] = (
    storage.StorageError,
    DefinitionError,
    HolidayTableError,
    ConfigurationError,
)


def translate(exc: Exception) -> errors.WorkflowError:
    """The ``WorkflowError`` an error from below stands for (same message)."""
    if isinstance(exc, DefinitionError):
        return errors.DefinitionInvalid(exc.problems)
    if isinstance(exc, HolidayTableError):
        return errors.HolidayTableInvalid(str(exc))
    if isinstance(exc, ConfigurationError):
        return errors.MailSettingsInvalid(str(exc))
    if isinstance(exc, storage.DuplicateSubscription):
        return errors.ArgumentInvalid("name", str(exc))
    if isinstance(exc, storage.VersionConflict):
        return errors.Conflict(exc.record_id, exc.expected, exc.found)
    kinds: dict[type[Exception], type[errors.StorageFailure]] = {
        storage.DatabaseUnavailable: errors.DatabaseUnavailable,
        storage.StorageBusy: errors.DatabaseBusy,
        storage.SchemaOutdated: errors.SchemaOutdated,
        storage.InvalidDatabaseUrl: errors.InvalidDatabaseUrl,
    }
    return kinds.get(type(exc), errors.StorageFailure)(str(exc))


def public(method: Callable[P, R]) -> Callable[P, R]:
    """Let ``method`` raise only ``WorkflowError`` for what goes wrong underneath."""
    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def generator(*args: P.args, **kwargs: P.kwargs) -> Any:
            try:
                yield from method(*args, **kwargs)
            except UNDERNEATH as exc:
                raise translate(exc) from exc

        return generator

    @functools.wraps(method)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except UNDERNEATH as exc:
            raise translate(exc) from exc

    return wrapped


def translated(future: Future[R]) -> Future[R]:
    """A future with ``future``'s outcome, its errors from below translated (for futures handed
    out by the engine)."""
    out: Future[R] = Future()

    def settle(done: Future[R]) -> None:
        error = done.exception()
        if error is None:
            out.set_result(done.result())
        elif isinstance(error, UNDERNEATH):
            out.set_exception(translate(error))
        else:
            out.set_exception(error)

    future.add_done_callback(settle)
    return out


def stream(rows: Iterator[R]) -> Iterator[R]:
    """An iterator whose errors from below arrive translated (for streams handed out by the engine)."""
    try:
        yield from rows
    except UNDERNEATH as exc:
        raise translate(exc) from exc
