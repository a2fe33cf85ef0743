"""Which notices have templates, read from the template folders alone (no Jinja2): what the
engine asks when it loads a definition, on every command, before any mail is rendered.

``TemplateCatalog.names`` answers the same from Jinja2's loaders; a test checks both agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from notifications.errors import ConfigurationError

PARTS = ("subject", "txt", "html")
TEMPLATES = Path(__file__).resolve().parent / "templates"


def notice_names(override_dirs: Sequence[Path] = ()) -> tuple[str, ...]:
    """The notices that have all three template files in ``override_dirs`` or the package's own.

    Raises:
        ConfigurationError: an override directory does not exist.
    """
    files: set[str] = set()
    for directory in override_dirs:
        if not Path(directory).is_dir():
            raise ConfigurationError("override_dirs", f"{directory} is not a directory")
    for directory in (*override_dirs, TEMPLATES):
        files |= {p.relative_to(directory).as_posix() for p in Path(directory).rglob("*.j2") if p.is_file()}
    names = {
        file.removesuffix(".subject.j2")
        for file in files
        if file.endswith(".subject.j2") and "/" not in file and not file.startswith("_")
    }
    return tuple(sorted(name for name in names if all(f"{name}.{part}.j2" in files for part in PARTS)))
