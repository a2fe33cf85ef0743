"""The ``chengxin`` command line: for caseworkers, auditors and operators.

Human output is Chinese first with the English beside it (rich tables); every read command
takes ``--json`` for scripts. A user error prints one line on stderr and exits non-zero — never
a traceback (``workflow.cli.errors`` gives each error its exit code). The database comes from
``--db`` or ``CHENGXIN_DATABASE_URL`` (default: ``chengxin.db`` here); who acts comes from
``--actor/--role/--unit`` or ``CHENGXIN_ACTOR/ROLE/UNIT``; extra definitions from
``--definitions`` (repeatable) or ``CHENGXIN_DEFINITIONS`` (paths joined with ``os.pathsep``).
One module per command group (``record``, ``audit``, …) over shared options (``common``), input
(``payload``) and output (``output``) helpers; ``app`` registers each group by name
(``workflow.cli.lazy.register``) and its module is imported only when the group runs, so that
``chengxin --help`` starts without the engine. Settings come from ``workflow.settings``
(the environment over ``.env``). The CLI only parses, calls the engine's public
API and prints: it decides nothing and never touches storage. It trusts whoever runs it with
the database's credentials: it is the operator's tool on the server.
"""

from __future__ import annotations

from workflow.cli.app import app, main

__all__ = ["app", "main"]
