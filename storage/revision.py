"""The newest schema revision, read from the migration files without Alembic or SQLAlchemy (a
read opens the database on the driver alone and still refuses an outdated schema)."""

from __future__ import annotations

import re
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:\"([^\"]*)\"|None)", re.MULTILINE)


def head_revision() -> str:
    """The newest schema revision this version of chengxin knows: the one no migration follows.

    Read from the migration files' ``revision``/``down_revision`` lines rather than through
    Alembic's script directory, which costs every command a quarter of a second of imports
    (a test checks that both agree).
    """
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for key, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            if value:
                (revisions if key == "revision" else followed).add(value)
    heads = sorted(revisions - followed)
    if len(heads) != 1:
        raise RuntimeError(f"the migrations folder has {len(heads)} heads: {heads}")
    return heads[0]
