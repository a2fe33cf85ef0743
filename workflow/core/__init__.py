"""The pure decision: definitions' machines, guards, payload fields, periods, the working-day
calendar, reminder ladders, mail contexts, the hash chain and structural replay.

No I/O and no clock: every input (the definition, the case, the command, the time, the
calendar) is handed in, so the same code serves live commands and the replay of histories.
Imports nothing from the layers above (``engine``, ``audit``, ``runtime``, the faces).
"""
