"""Long-running work: the scheduler loop (``service``), supervision rounds opened by schedule
(``rounds``) and mail dispatch from the outbox (``dispatch``). Uses ``Engine``'s public methods."""
