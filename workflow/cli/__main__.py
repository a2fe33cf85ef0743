"""``python -m workflow.cli``: the ``chengxin`` command run from a checkout."""

from workflow.cli.app import main

main()
