"""The auditor's work: verify every chain and projection, replay histories through the rules,
and keep checkpoints outside the database. Reads through ``Engine``; changes nothing."""

from workflow.audit.checkpoint import read_checkpoint, verify_checkpoint, write_checkpoint
from workflow.audit.replay import replay
from workflow.audit.verify import EventRow, Report, verify, verify_chain, verify_parallel, verify_record
from workflow.core.fold import Problem, Projection, fold

__all__ = [
    "EventRow",
    "Problem",
    "Projection",
    "Report",
    "fold",
    "read_checkpoint",
    "replay",
    "verify",
    "verify_chain",
    "verify_checkpoint",
    "verify_parallel",
    "verify_record",
    "write_checkpoint",
]
