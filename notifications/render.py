"""Rendering notices from Jinja2 templates into a subject, a plain text and an HTML body.

:class:`TemplateCatalog` looks a notice's three files (``<name>.subject.j2``, ``<name>.txt.j2``,
``<name>.html.j2``) up in a jurisdiction's override directories first and in the package's own
``templates/`` last, checks the context against the notice's contract (:mod:`notifications.catalog`),
renders with ``StrictUndefined`` (a missing variable is an error, never an empty string) and refuses output
that contains a resident ID number. It takes plain data and returns plain data: it must not send mail,
read the clock, or import the engine, storage or definitions. Templates run in Jinja's immutable sandbox
because override directories are written by jurisdiction staff, not by the developers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from stdnum.cn import uscc

from notifications.catalog import NOTICES, OPTIONAL_KEYS, check_context, plain
from notifications.errors import ConfigurationError, TemplateNotFound, TemplateRenderError
from notifications.filters import cn_date, cn_datetime
from notifications.privacy import ensure_no_id_numbers, mask_id_number

PARTS = ("subject", "txt", "html")
"""The file kinds of a notice: ``<name>.<part>.j2``."""

_UNDEFINED = re.compile(
    r"^'(?P<name>[^']+)' is undefined|has no attribute '(?P<attr>[^']+)'|has no element (?P<el>.+)$"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderedMail:
    """A notice rendered for one recipient.

    Attributes:
        template: the notice name (``record_notice``).
        subject: the subject, one line.
        text: the plain-text body.
        html: the HTML body.
    """

    template: str
    subject: str
    text: str
    html: str


def _declared_codes(context: Mapping[str, Any]) -> frozenset[str]:
    """Credit codes the context declares, which the ID number guard must not mistake for ID numbers."""
    candidates = []
    for section, key in (("recipient", "code"), ("subordinate", "code"), ("record", "subject_code")):
        value = context.get(section)
        if isinstance(value, Mapping):
            candidates.append(value.get(key))
    return frozenset(code.upper() for code in candidates if isinstance(code, str) and uscc.is_valid(code))


def _innermost_template_frame(tb: TracebackType | None) -> tuple[str, int] | None:
    """The template file and line where rendering failed, from Jinja's rewritten traceback."""
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = (Path(filename).name, tb.tb_lineno)
        tb = tb.tb_next
    return found


class TemplateCatalog:
    """The notice templates of one deployment: the package's own, overridden file by file.

    Args:
        override_dirs: directories searched before the package templates, first match wins. An override
            directory holds only the files it changes, including the shared ``_layout.html.j2`` and the
            ``_*.j2`` parts.

    Raises:
        ConfigurationError: an override directory does not exist.
    """

    def __init__(self, override_dirs: Sequence[Path] = ()) -> None:
        for directory in override_dirs:
            if not Path(directory).is_dir():
                raise ConfigurationError("override_dirs", f"{directory} is not a directory")
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(Path(d)) for d in override_dirs]
        loaders.append(jinja2.PackageLoader("notifications", "templates"))
        self._env = ImmutableSandboxedEnvironment(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            auto_reload=False,  # templates are read once per catalogue, not checked on every mail
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html.j2",), default_for_string=False, default=False
            ),
        )
        self._env.filters.update(cn_date=cn_date, cn_datetime=cn_datetime, mask_id=mask_id_number)

    def names(self) -> tuple[str, ...]:
        """The notices that have all three template files, sorted."""
        files = set(self._env.list_templates(extensions=["j2"]))
        names = {
            file.removesuffix(".subject.j2")
            for file in files
            if file.endswith(".subject.j2") and "/" not in file and not file.startswith("_")
        }
        return tuple(sorted(name for name in names if all(f"{name}.{part}.j2" in files for part in PARTS)))

    def has(self, name: str) -> bool:
        """Whether the notice ``name`` has all three template files."""
        return name in self.names()

    def render(self, name: str, context: Mapping[str, Any]) -> RenderedMail:
        """Render the notice ``name`` with ``context``.

        The context is turned into plain data (dataclasses into dicts; an optional key such as ``event``
        given as None is left out), checked against the notice's contract when the notice is in
        :data:`~notifications.catalog.NOTICES`, and given one more key, ``notice`` = {name, label_zh,
        label_en}, which templates use for titles.

        Args:
            name: the notice (``record_notice``).
            context: the values the templates show; see :mod:`notifications.catalog`.

        Returns:
            The subject (whitespace collapsed to one line), the text and the HTML.

        Raises:
            TemplateNotFound: a template file of the notice is missing.
            TemplateRenderError: the context does not satisfy the contract, or a template failed (a
                missing variable, a syntax error, a filter given the wrong type).
            PrivacyViolation: a rendered part contains a resident ID number.
        """
        data: dict[str, Any] = plain(context)
        for key in OPTIONAL_KEYS:
            if key in data and data[key] is None:
                del data[key]  # templates test "is defined"; None is how callers say "none"
        spec = NOTICES.get(name)
        if spec is not None:
            check_context(name, data)
        data["notice"] = {
            "name": name,
            "label_zh": spec.label_zh if spec else name,
            "label_en": spec.label_en if spec else name,
        }
        templates = self._load(name)
        subject, text, html = (self._render_one(template, data) for template in templates)
        subject = " ".join(subject.split())
        if not subject:
            raise TemplateRenderError(templates[0].name or name, "the subject renders empty")
        ensure_no_id_numbers(
            name, {"subject": subject, "text": text, "html": html}, allow=_declared_codes(data)
        )
        return RenderedMail(template=name, subject=subject, text=text, html=html)

    def _load(self, name: str) -> list[jinja2.Template]:
        templates, missing = [], []
        for part in PARTS:
            file = f"{name}.{part}.j2"
            try:
                templates.append(self._env.get_template(file))
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateRenderError(file, exc.message or "syntax error", line=exc.lineno) from exc
            except jinja2.TemplateNotFound:
                missing.append(file)
        if missing:
            raise TemplateNotFound(name, missing, self.names())
        return templates

    @staticmethod
    def _render_one(template: jinja2.Template, data: Mapping[str, Any]) -> str:
        file = template.name or "<template>"
        try:
            return template.render(data)
        except Exception as exc:  # a failing template of any kind must name itself, never escape bare
            where = _innermost_template_frame(exc.__traceback__)
            line = where[1] if where else getattr(exc, "lineno", None)
            if where and where[0] != file:
                file = f"{file} (in {where[0]})"
            if isinstance(exc, jinja2.UndefinedError):
                match = _UNDEFINED.search(exc.message or "")
                variable = next((group for group in match.groups() if group), None) if match else None
                raise TemplateRenderError(
                    file, exc.message or "undefined", variable=variable, line=line
                ) from exc
            detail = exc.message if isinstance(exc, jinja2.TemplateError) else f"{type(exc).__name__}: {exc}"
            raise TemplateRenderError(file, detail or type(exc).__name__, line=line) from exc
