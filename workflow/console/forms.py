"""Forms generated from a definition's payload specification, and submitted forms read back.

Each field of an event's payload (or of a new case, for the creating event) becomes one input:
its Chinese label, a required mark, enums as choices, dates as date inputs, documents as file
uploads whose SHA-256 is computed here and recorded with the file's name (the file itself is not
kept: the history proves which file was meant). Reading a submitted form checks every field
with the engine's own field rules (``workflow.core.fields``) so that all problems come back at
once, each beside its field, with what the person typed kept. Nothing here writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData, UploadFile

from definitions.model import Definition, FieldSpec
from workflow.core.fields import normalise
from workflow.errors import WorkflowError

WIDGETS = {
    "text": "textarea",
    "string_list": "textarea",
    "int": "number",
    "bool": "bool",
    "date": "date",
    "enum": "select",
    "enum_list": "checkboxes",
    "documents": "documents",
}
LARGEST_UPLOAD = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Input:
    """One input of a form, as a template draws it."""

    name: str
    label: str
    widget: str  # text | textarea | number | bool | date | select | checkboxes | documents
    required: bool
    choices: Sequence[tuple[str, str]] = ()
    value: Any = ""
    error: str = ""
    hint: str = ""


@dataclass(slots=True, kw_only=True)
class Filled:
    """A submitted form: the payload to send, the problems per field, the values to show again."""

    payload: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    kept: dict[str, Any] = field(default_factory=dict)
    comment: str = ""


def specs(definition: Definition, event: str) -> Mapping[str, FieldSpec]:
    spec = definition.events[event]
    return definition.fields if spec.creates else spec.payload


def inputs(
    definition: Definition,
    event: str,
    *,
    kept: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> list[Input]:
    """The inputs of ``event``'s form, filled with ``kept`` and marked with ``errors``."""
    kept, errors = kept or {}, errors or {}
    found = []
    for name, spec in specs(definition, event).items():
        widget = WIDGETS.get(spec.type, "text")
        choices: list[tuple[str, str]] = []
        if spec.enum and spec.enum in definition.enums:
            choices = [(v.code, f"{v.label} ({v.code})") for v in definition.enums[spec.enum].values]
        hint = ""
        if spec.type == "documents":
            hint = "上传文件，记录其SHA-256；或每行填写“文号:名称” (upload files: their SHA-256 is recorded; or one 'number:name' per line)"
        elif spec.type == "string_list":
            hint = "每行一项 (one item per line)"
        elif spec.required_when:
            hint = "以下情形必填 required when: " + "; ".join(
                f"{f} = {', '.join(v)}" for f, v in spec.required_when.items()
            )
        found.append(
            Input(
                name=name,
                label=spec.label,
                widget=widget,
                required=spec.required,
                choices=choices,
                value=kept.get(name, "" if widget != "checkboxes" else []),
                error=errors.get(name, ""),
                hint=hint,
            )
        )
    return found


async def read(definition: Definition, event: str, form: FormData) -> Filled:
    """The payload of a submitted form, with a problem per field that breaks its rule."""
    filled = Filled(comment=str(form.get("comment") or "").strip())
    for name, spec in specs(definition, event).items():
        try:
            value, shown = await _value(spec, form, name)
        except ValueError:
            filled.errors[name] = "文件超过 20 MiB (a file is larger than 20 MiB)"
            continue
        filled.kept[name] = shown
        if value in (None, "", []):
            if spec.required:
                filled.errors[name] = "必填 (required)"
            continue
        try:
            normalise(definition, spec, event, value)
        except WorkflowError as exc:
            filled.errors[name] = getattr(exc, "problem", str(exc))
            continue
        filled.payload[name] = value
    if definition.events[event].comment_required and not filled.comment:
        filled.errors["comment"] = "这是一项决定，必须填写理由 (a comment giving the reasons is required)"
    return filled


async def _value(spec: FieldSpec, form: FormData, name: str) -> tuple[Any, Any]:
    """(the value for the payload, what to show in the form again)."""
    if spec.type == "enum_list":
        chosen = [str(v) for v in form.getlist(name) if isinstance(v, str) and v]
        return chosen, chosen
    if spec.type == "documents":
        docs: list[dict[str, str]] = []
        for upload in form.getlist(f"{name}__files"):
            if isinstance(upload, UploadFile) and upload.filename:
                digest = hashlib.sha256()
                size = 0
                while chunk := await upload.read(1 << 16):
                    size += len(chunk)
                    if size > LARGEST_UPLOAD:
                        raise ValueError("upload too large")
                    digest.update(chunk)
                docs.append({"name": upload.filename[:200], "sha256": digest.hexdigest()})
        typed = str(form.get(name) or "")
        for line in typed.splitlines():
            if line.strip():
                number, sep, title = line.partition(":")
                docs.append(
                    {"number": number.strip(), "name": title.strip()} if sep else {"name": line.strip()}
                )
        return docs, typed
    raw = form.get(name)
    text = raw.strip() if isinstance(raw, str) else ""
    if spec.type == "string_list":
        return [line.strip() for line in text.splitlines() if line.strip()], text
    if spec.type == "bool":
        return {"true": True, "false": False}.get(text), text
    if spec.type == "int" and text:
        try:
            return int(text), text
        except ValueError:
            return text, text  # the field rule names the problem
    return text, text
