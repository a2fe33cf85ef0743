"""Size limits as definition data, and definition files the loader must report rather than crash on.

Every text and list field of a loaded definition is bounded (``limits:`` with defaults, a field's
own ``max_length``/``max_items`` overriding), and adding the defaults changed no bundled
version's sha256. A YAML value the safe loader cannot build is a ``file:line`` problem, and a
file with schema problems has its structural problems reported with them (issue 10, items 8, 9, 12).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from definitions.loader import DefinitionError, LoadedDefinition, load_bundled, load_paths
from definitions.model import Definition

# The sha256 of every bundled version before size limits existed: records store these, and a
# changed hash would make the engine refuse to run (definitions in use are immutable).
BUNDLED_SHA256 = {
    "commitment@1": "0eb3770ad5016992f0601ef13819766b92fc8776644805dc79f0a87b87d605cb",
    "commitment@2": "84612c6f9894f928b460bac25cf3865e82bc1999af003fdd9c67633f4d132244",
    "complaint@1": "897d609897b84e39dbc550f09bb8f857a10371905d6d9b16456d26f475701576",
    "complaint@2": "884cad94cdc4225f4f4046c8f07a22a50496a8d304c8f6813d4898378fc8b403",
    "guangyuan@1": "8b4da322f08cf27c74a467284419268afc72a0c46dd100fc4d8a8ff2a8e7084d",
    "guangyuan@2": "281cf7e12761d3254ac30ee532f79eb3a16dce2e3c438c742fb1079d32ef5ec8",
    "guangyuan_commitment@1": "504b34df4802c3d95443184303613d016d530d0fa57496eb8eda13aa9d0b611d",
    "guangyuan_commitment@2": "353fc62629cea656307a0fc89a20fc2789fa270ca2869a4f01f040c65d33b501",
    "guangyuan_complaint@1": "a90663acf868056991ed32065a1ac5e53538542bf8b9a3355185b1e2b44e02cb",
    "guangyuan_complaint@2": "9cbe87e3ef7069204381c1ab00e0f1ef8564b0dab93d7715d5d05e0c1359d758",
    "guangyuan_ledger@1": "b7fb8aad52d29b5730a6554d039a1eb1578a000f4beaf265d8ac4aa31cfb9107",
    "guangyuan_ledger@2": "0565d75ad6815811d82801eb9099a45778f8f70f25019c627932ae8315a02f0d",
    "ledger_task@1": "f33757fba91efff9cf7f97cd68a783cd5817d207592af7569aa75f14dc686502",
    "national@1": "acc329bd6a295b14a5783d412f335c56c6d11547be54c68c5a4b61d1279bbc10",
    "national@2": "54f2c0ea978aa3f154e4e69dc2788357e5a7443fd3fc29531b196c99bb1bd338",
    "supervision@1": "482679ec92afc9e04d1925ac5b537fa2d4bc098396a5607a2509aa87d99d8b3a",
    "supervision@2": "a51fef1c770917b65d4f33dd4aa13381e333e4c09b1185b7ddd0ec8744858c0c",
    "taian@1": "69661f1aef82a24b7bf706d10ea0a11e485d964bb405de2f08649258aa810a7c",
    "taian@2": "de3eedba49d74ee0b6078e060c102cc251aad1b5f344f105b748a5e03eb3c655",
    "taian_commitment@1": "6cd8b8b8d494390b2af1b61746fb862f906f45d3b49a4d4f296efebf2adf470a",
    "taian_commitment@2": "980035faab0bd682ea896ad327b8fd0ee2803ef4b0d27143005b5bf2e3747a9f",
    "taian_complaint@1": "104713e74a0f6e28f7562114547faa8e26b4814997b58260169cb6972c5c8b63",
    "taian_complaint@2": "aef4ffe0fe15f8e8c3ef778f5fd1a06d8fe33b321a2177219ba68bf3dadd9663",
    "taian@3": "2ce7ae029528755e0c65728d7162a0d61f51848da5cd63a1d780c8a4f26b4f50",
    "tianjin@1": "4ae4ed02b7a88ff36806816e0651be0436f346791ee496a3be36829c7c93ba13",
    "tianjin@2": "bbd78e8a9e2f1ef532bd8e246d7981bbcc0ea3e9c800e005fd06e9d66c1a91ec",
    "tianjin_commitment@1": "903f6bbdd030ee9e7b9447fb3f0b11554b954aa26af8904c8db989860922afee",
    "tianjin_commitment@2": "3844904028296dd1d5e1233e55f278639ba2bef67d3e3f7d5ce247ccdb4af7f5",
    "tianjin_complaint@1": "ccd236df14417d728f67d07f1ff301e6f9098c7ff22d437d2df0d6464020c66e",
    "tianjin_complaint@2": "113af33f34b9d0135886d0cb8dc54d9a316bd7792615c7deabe04aea5d8d3ed1",
    "tianjin_ledger@1": "68b4fa979308dc82d3ff6396b4d1cf3e6f941dac21ef2b02844b537fd728b70b",
    "tianjin_ledger@2": "907f9fa1d64a23bc3615f99640c37651dd131bc9cdcc5a7d485bb0204d0a51b2",
    "tongxin@1": "794eaf9dfbbdc959b0aa217575e04183a4eb4f5f522cae57bca016731fdafdb5",
    "tongxin@2": "60dc04591eac8c76ae1b7757c50d5d7b7f8dc63fcc5b960d3bd4c12290fce9c7",
    "tongxin_commitment@1": "3c9c542836f404b5d3592d3adbf7893c7847ef21b76ee60fb379a241239aa441",
    "tongxin_commitment@2": "3c86b62164e03009c1841709aa2a615ca52065e6549d81949d15e823e2af6787",
    "tongxin_complaint@1": "8d6d6f0e80cd469dfffdce7bf506c8847d673a3e9291f1eeb3db62e7bbd5a81c",
    "tongxin_complaint@2": "18b3f85d8b006c495db6aacc60ff9de06aa9686cf8684fc753365f1c311c8e83",
    "tongxin_ledger@1": "2162d3f26fe0c80b1e5aa4456a52df64067d0a0098b9e1b6c1adb92a1633517b",
    "tongxin_ledger@2": "9d25d06a5af9d89cb670309ec96447f2bda9825811470d2c2dd9f714a986359a",
}
HEAD = """\
extends: national@1
name: child
version: 1
title: 测试定义
jurisdiction: 测试
legal_basis: 测试依据
"""
LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<message>.+)$")


@pytest.fixture(scope="module")
def base() -> list[LoadedDefinition]:
    return load_bundled()


def _load(tmp_path: Path, body: str, base: list[LoadedDefinition]) -> Definition:
    path = tmp_path / "child.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    (loaded,) = load_paths([path], base=base)
    return loaded.definition


def _problems(tmp_path: Path, text: str, base: list[LoadedDefinition]) -> list[tuple[int, str]]:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_paths([path], base=base)
    located = []
    for problem in caught.value.problems:
        match = LOCATED.match(problem)
        assert match, f"not file:line: message — {problem}"
        located.append((int(match["line"]), match["message"]))
    return located


def test_the_bundled_versions_keep_their_names_versions_and_sha256(base: list[LoadedDefinition]) -> None:
    assert {item.definition.key: item.definition.sha256 for item in base} == BUNDLED_SHA256


def test_every_text_and_list_field_of_a_bundled_definition_is_bounded(base: list[LoadedDefinition]) -> None:
    """Defect 9: a string is 200 characters, a text 20,000, a documents field 50 entries of at most
    1,000 characters each, a payload 256 KiB and a comment 20,000 unless the definition says otherwise."""
    for item in base:
        definition = item.definition
        specs = [
            *definition.fields.values(),
            *(f for e in definition.events.values() for f in e.payload.values()),
        ]
        for spec in specs:
            if spec.type in {"string", "text", "string_list", "documents"}:
                assert spec.max_length is not None, (definition.key, spec.name)
            if spec.type in {"string_list", "enum_list", "documents"}:
                assert spec.max_items is not None, (definition.key, spec.name)
        assert (definition.limits.payload_bytes, definition.limits.comment) == (256 * 1024, 20_000)
    national = next(i.definition for i in base if i.definition.key == "national@1")
    documents = national.fields["documents"]
    assert (documents.max_items, documents.max_length) == (50, 1_000)
    assert national.fields["employer"].max_length == 200  # as its file says
    assert national.events["exempt"].payload["evidence"].max_items == 50  # the default


def test_a_definition_sets_its_own_limits_and_a_field_overrides_them(
    tmp_path: Path, base: list[LoadedDefinition]
) -> None:
    child = _load(
        tmp_path,
        "limits: {string: 80, documents: 5, document_value: 300, payload_bytes: 65536, comment: 2000}\n"
        "fields:\n"
        "  documents: {type: documents, label: 依据文书, max_items: 3}\n"
        "  note: {type: string, label: 备注}\n",
        base,
    )
    assert (child.fields["documents"].max_items, child.fields["documents"].max_length) == (3, 300)
    assert child.fields["note"].max_length == 80
    assert child.events["exempt"].payload["evidence"].max_items == 5
    assert child.fields["subject_name"].max_length == 200  # its own max_length, inherited, wins
    assert (child.limits.payload_bytes, child.limits.comment) == (65536, 2000)


def test_a_field_that_fills_an_indexed_column_must_fit_it(
    tmp_path: Path, base: list[LoadedDefinition]
) -> None:
    """A text field indexed as the subject's name could hold 20,000 characters in a 200-character
    column: PostgreSQL refused the row (an internal error)."""
    problems = _problems(
        tmp_path,
        HEAD + "fields:\n  subject_name: {type: text, label: 主体名称, required: true, max_length: null}\n",
        base,
    )
    assert [(line, "the indexed column subject_name holds 200" in m) for line, m in problems] == [(1, True)]


def test_the_widths_the_loader_checks_are_those_of_the_record_table() -> None:
    from definitions.loader import _Checker
    from storage.tables import Record

    widths = {column: Record.__table__.c[column].type.length for column in _Checker.INDEX_WIDTHS}
    assert widths == dict(_Checker.INDEX_WIDTHS)


def test_limits_beyond_the_ceiling_or_on_the_wrong_field_are_problems(
    tmp_path: Path, base: list[LoadedDefinition]
) -> None:
    problems = _problems(
        tmp_path,
        HEAD
        + "limits: {payload_bytes: 1000000000}\nfields:\n  facts: {type: text, label: 事实, max_items: 3}\n",
        base,
    )
    found = dict(problems)
    assert sorted(found) == [7, 9]
    assert "limits.payload_bytes: Input should be less than or equal to 4194304" in found[7]
    assert "'max_items' is only for list fields" in found[9]


BAD_VALUES = {
    "impossible date": ("effective_from: 2026-13-45\n", 7, "YAML value '2026-13-45' cannot be read"),
    "python object tag": (
        "templates_dir: !!python/object:os.system x\n",
        7,
        "could not determine a constructor for the tag 'tag:yaml.org,2002:python/object:os.system'",
    ),
    "impossible date as a key": ("local_days_off:\n  2026-02-30: 假日\n", 8, "'2026-02-30' cannot be read"),
    "a number as a key": ("enums:\n  severity:\n    values: {1: 一般}\n", 9, "key 1 must be text"),
    "a list as a key": ("? [a, b]\n: c\n", 7, "a key must be a plain value"),
}


@pytest.mark.parametrize(("body", "line", "message"), BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_a_yaml_value_the_safe_loader_cannot_build_is_a_problem_at_its_line(
    body: str, line: int, message: str, tmp_path: Path, base: list[LoadedDefinition]
) -> None:
    """Defect 8: ``effective_from: 2026-13-45`` and an unknown ``!!python/object`` tag raised from the
    YAML scalar construction, so ``definitions validate`` ended in an internal error."""
    problems = _problems(tmp_path, HEAD + body, base)
    assert [(found, message in text) for found, text in problems] == [(line, True)], problems


def test_validate_reports_the_structural_problems_of_a_file_with_its_schema_problems(
    tmp_path: Path, base: list[LoadedDefinition]
) -> None:
    """Item 12: a file with schema problems showed only those, hiding its unknown role and ladder."""
    problems = _problems(
        tmp_path,
        HEAD
        + "events:\n"
        + "  submit:\n"
        + "    lable: 提交\n"  # line 9: schema
        + "    roles: [recorder, clerk]\n"  # line 10: structure
        + "deadlines:\n"
        + "  verification:\n"
        + "    ladder: nosuch\n"  # line 13: structure
        + "  decision:\n"
        + "    label: 决定\n"
        + "    while: {main: [verifying]}\n"
        + "    period: {days: -1}\n"  # line 17: schema (and the deadline is left out of the rest)
        + "    legal_basis: 测试\n"
        + "    ladder: nosuch_either\n",
        base,
    )
    assert [(line, message.split(";")[0]) for line, message in problems] == [
        (9, "events.submit.lable: Extra inputs are not permitted"),
        (17, "deadlines.decision.period.days: Input should be greater than or equal to 0"),
        (10, "unknown role 'clerk'"),
        (13, "unknown ladder 'nosuch'"),
    ]


def test_a_schema_problem_does_not_also_report_what_only_follows_from_it(
    tmp_path: Path, base: list[LoadedDefinition]
) -> None:
    """An event whose schema is wrong is left out of the structural checks, so a guard naming it
    is not also reported as naming an unknown event."""
    problems = _problems(
        tmp_path,
        HEAD
        + "events:\n"
        + "  double_check:\n"
        + "    label: 复核\n"
        + "    roles: verifier\n"  # line 10: a list is needed
        + "    transitions: [{from: verifying, to: verifying}]\n"
        + "    legal_basis: 测试\n"
        + "  accept:\n"
        + "    guards:\n"
        + "      - {guard: four_eyes, events: [double_check]}\n",
        base,
    )
    assert [line for line, _message in problems] == [10], problems
