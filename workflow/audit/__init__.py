"""The auditor's work: verify every chain, every table that drives behaviour and the stored
definitions, replay histories through the rules, and keep checkpoints outside the database. Reads
through ``Engine`` (opened with ``audit=True``); changes nothing in the database."""

from workflow.audit.checkpoint import (
    checkpoints,
    latest,
    prune,
    read_checkpoint,
    take_checkpoint,
    verify_checkpoint,
    write_checkpoint,
)
from workflow.audit.replay import replay
from workflow.audit.verify import (
    EventRow,
    Report,
    database_problems,
    verify,
    verify_case,
    verify_chain,
    verify_parallel,
    verify_record,
)
from workflow.core.fold import Problem, Projection, fold

__all__ = [
    "EventRow",
    "Problem",
    "Projection",
    "Report",
    "checkpoints",
    "database_problems",
    "fold",
    "latest",
    "prune",
    "read_checkpoint",
    "replay",
    "take_checkpoint",
    "verify",
    "verify_case",
    "verify_chain",
    "verify_checkpoint",
    "verify_parallel",
    "verify_record",
    "write_checkpoint",
]
