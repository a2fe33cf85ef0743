"""Helpers shared by test modules: scenario harness, CLI runner, notice samples, SMTP server, holiday table."""
