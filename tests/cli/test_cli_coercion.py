"""``workflow.cli.coercion``: a value taken without pydantic is the value Typer's own coercion
gives, and every other value still goes through Typer's adapter, with its errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer._coercion import resolve_type_descriptor
from typer.models import OptionInfo

from workflow.cli.coercion import light

VALUES: list[Any] = [
    "", "0", "5", "007", "+5", "-5", " 5", "5 ", "1_000", "10000", "10001", "99999999999999999999",
    "5.0", "many", "true", "no", "١٢", "²", 0, 5, 10_000, 10_001, -1, True, False, 1.5, None, b"5",
]  # fmt: skip

PARAMETERS = [
    (str, OptionInfo()),
    (int, OptionInfo()),
    (int, OptionInfo(min=1, max=10_000)),
    (int, OptionInfo(min=0)),
    (bool, OptionInfo()),
    (Path, OptionInfo()),
    (list[str], OptionInfo()),
]


def typer_coerces(annotation: Any, info: OptionInfo, value: Any) -> tuple[bool, Any]:
    from pydantic import ValidationError
    from typer._adapters import try_build_adapter

    adapter = try_build_adapter(annotation, info)
    assert adapter is not None
    try:
        return True, adapter.validate_python(value)
    except ValidationError:
        return False, None


@pytest.mark.parametrize(("annotation", "info"), PARAMETERS)
def test_a_value_taken_as_it_is_is_what_typer_gives(annotation: Any, info: OptionInfo) -> None:
    descriptor = resolve_type_descriptor(annotation, info)
    taken = 0
    for value in VALUES:
        same, coerced = light(descriptor, value)
        if not same:
            continue
        taken += 1
        ok, expected = typer_coerces(annotation, info, value)
        assert ok, (annotation, value)
        assert coerced == expected and type(coerced) is type(expected), (annotation, value)
    if annotation in (str, int, bool):
        assert taken  # the light path is used at all


def test_a_parser_or_a_path_always_goes_through_typer() -> None:
    assert light(resolve_type_descriptor(str, OptionInfo(parser=str.upper)), "a") == (False, None)
    assert light(resolve_type_descriptor(Path, OptionInfo()), "a") == (False, None)


def test_values_typer_rejects_keep_typer_errors() -> None:
    import typer.core

    import workflow.cli.lazy  # installs the light coercion, as ``chengxin`` does

    assert workflow.cli.lazy.coercion is not None
    assert getattr(typer.core.build_runtime_param, "light", False)
    app = typer.Typer()

    @app.command()
    def run(limit: int = typer.Option(100, "--limit", min=1, max=1000), name: str = "x") -> None:
        typer.echo(f"{limit!r} {name!r}")

    from typer.testing import CliRunner

    runner = CliRunner()
    assert runner.invoke(app, ["--limit", "7", "--name", "李"]).output == "7 '李'\n"
    assert runner.invoke(app, []).output == "100 'x'\n"
    for bad in ("many", "0", "1001", "+x", "5.5"):
        done = runner.invoke(app, ["--limit", bad])
        assert done.exit_code == 2
        assert "Invalid value for '--limit'" in done.output
