"""Exit codes of the command line, one per kind of error (the HTTP API maps the same errors to
statuses of its own)."""

from __future__ import annotations

from workflow import errors

EXIT_CODES: dict[type[errors.WorkflowError], int] = {
    errors.DefinitionNotFound: 2,
    errors.DefinitionChanged: 2,
    errors.StoredDefinitionAltered: 2,
    errors.HistoryKeyError: 2,
    errors.DefinitionInvalid: 2,
    errors.HolidayTableInvalid: 2,
    errors.MailSettingsInvalid: 2,
    errors.StorageFailure: 2,
    errors.RecordNotFound: 3,
    errors.WebhookNotFound: 3,
    errors.ExportInvalid: 7,
    errors.TokenNotFound: 3,
    errors.UserNotFound: 3,
    errors.TransitionNotAllowed: 4,
    errors.UnknownEvent: 4,
    errors.PermissionDenied: 5,
    errors.Unauthenticated: 5,
    errors.GuardRefused: 6,
    errors.DeadlineExtensionRefused: 6,
    errors.PayloadInvalid: 7,
    errors.ArgumentInvalid: 7,
    errors.CommentRequired: 7,
    errors.Conflict: 8,
    errors.IdempotencyKeyReused: 8,
    errors.UserExists: 8,
    errors.ClockError: 9,
    errors.CheckpointError: 10,
}
USAGE = 2  # a command line that does not parse (Click's own code for it)
INTERNAL = 70  # a bug, never a user's input (EX_SOFTWARE)


def exit_code(error: errors.WorkflowError) -> int:
    """The exit code of ``error``: that of its nearest class in ``EXIT_CODES``, else 1."""
    for kind in type(error).__mro__:
        code = EXIT_CODES.get(kind)
        if code is not None:
            return code
    return 1
