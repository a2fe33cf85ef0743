"""``chengxin audit export`` and ``audit verify --export`` from the command line, on both backends;
with a history key, the MACs are checked offline too."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import Cli, one_line_error, recorded, submit
from support.harness import T0, Harness

from workflow import Engine, ManualClock
from workflow.audit import export as exporting
from workflow.audit.dossier import GENESIS, digest_of, facts_versions, rehash

START = "2026-05-11T09:00"


def _drill(database_url: str, tmp_path: Path) -> Cli:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url, "CHENGXIN_MAIL_DIR": str(tmp_path / "mail")})
    cli("init", "--simulated-clock", "--start", START).ok()
    return cli


def test_a_case_exports_as_json_and_html_and_both_verify(database_url: str, tmp_path: Path) -> None:
    cli = _drill(database_url, tmp_path)
    record_id = recorded(cli)
    submit(cli)
    cli("outbox", "send").ok()
    out = cli("audit", "export", record_id, "--out", str(tmp_path / "d.json")).ok().stdout
    assert record_id in out and "digest" in out
    cli("audit", "export", record_id, "--format", "html", "--out", str(tmp_path / "d.html")).ok()
    dossier = json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))
    assert dossier["record"]["id"] == record_id and dossier["mails"]
    for file in ("d.json", "d.html"):
        verified = Cli({})("audit", "verify", "--export", str(tmp_path / file)).ok().stdout
        assert "完好 intact" in verified
    cli("audit", "export", "--all", "--out", str(tmp_path / "all")).ok()
    verified = Cli({})("audit", "verify", "--export", str(tmp_path / "all"), "--json").json()
    assert verified["records"] == 2 and verified["problems"] == []
    assert (
        Cli({})(
            "audit", "verify", "--export", str(tmp_path / "all"), "--against", str(tmp_path / "d.json")
        ).code
        == 0
    )


def test_bad_export_requests_are_refused_in_one_line(database_url: str, tmp_path: Path) -> None:
    cli = _drill(database_url, tmp_path)
    record_id = recorded(cli)
    one_line_error(cli("audit", "export", record_id, "--format", "pdf", "--out", str(tmp_path / "x")), "pdf")
    one_line_error(cli("audit", "export", "--out", str(tmp_path / "x")), "--all")
    one_line_error(cli("audit", "export", record_id), "--out")
    missing = cli("audit", "export", "SX20990101-AAAAAA", "--out", str(tmp_path / "x.json"))
    assert missing.code == 3
    one_line_error(missing, "SX20990101-AAAAAA")
    assert not (tmp_path / "x.json").exists()
    cli("audit", "export", "--all", "--out", str(tmp_path / "all")).ok()
    one_line_error(cli("audit", "export", "--all", "--out", str(tmp_path / "all")), "already")
    nothing = Cli({})("audit", "verify", "--export", str(tmp_path / "nothing.json"))
    assert nothing.code == 7
    one_line_error(nothing, "nothing.json")
    (tmp_path / "not.json").write_text('{"format": "something else"}', encoding="utf-8")
    one_line_error(
        Cli({})("audit", "verify", "--export", str(tmp_path / "not.json")), "not a chengxin export"
    )


def test_with_the_history_key_a_rewrite_with_recomputed_hashes_is_caught_offline(
    database_url: str, tmp_path: Path
) -> None:
    key = tmp_path / "history.key"
    key.write_text("8c" * 32 + "\n", encoding="utf-8")
    Engine.init(database_url, simulated_start=T0)[0].close()
    clock = ManualClock(T0)
    h = Harness(Engine.open(database_url, clock=clock, key_file=key), clock)
    h.later(seconds=1)
    record_id = h.recorded()
    document = exporting.dossier(h.engine, record_id, mail_domain="x")
    h.engine.close()
    file = tmp_path / "d.json"
    exporting.write_dossier(document, file, fmt="json")
    unkeyed = Cli({})("audit", "verify", "--export", str(file)).ok().stdout
    assert "cannot be checked without the history key" in unkeyed
    keyed = Cli({})("audit", "verify", "--export", str(file), "--key-file", str(key)).ok().stdout
    assert f"MACs checked on {len(document['history'])} rows" in keyed
    rows = document["history"]
    rows[1]["comment"] = "改写"
    prev = GENESIS
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = prev = rehash(row)
    document["head"]["hash"] = rows[-1]["hash"]
    document["facts"] = facts_versions(rows)
    document["digest"] = digest_of(document)
    file.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    assert Cli({})("audit", "verify", "--export", str(file)).code == 0  # without the key it cannot show
    caught = Cli({})("audit", "verify", "--export", str(file), "--key-file", str(key))
    assert caught.code == 1 and "MAC" in caught.stderr
