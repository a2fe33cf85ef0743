"""The engine: the one place that loads a case, decides, writes the outcome in one transaction
and queues its mail (``Engine`` in ``facade``; the write path in ``commands``; the pure
decision-to-rows translation in ``writeset``; the sweep of due deadlines in ``sweep``).

Above ``workflow.core``; below the auditor, the runtime and the faces, which use ``Engine``'s
public methods and never its store.
"""
