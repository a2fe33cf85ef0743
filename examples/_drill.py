"""What the jurisdiction examples share: a drill database on the embedded default, a simulated
clock, mail written to a folder, and a timeline printed as the case goes.

Not an example itself (its name starts with an underscore). ``Drill`` opens an engine on a SQLite
file in a folder, with a ``ManualClock``; ``at`` moves the clock and does what falls due (the
deadline sweep), ``note`` adds a line to the timeline, ``mail`` delivers the queued notices to the
folder and puts each on the timeline (recipient and subject). The lines are kept in ``lines`` so a
test can check the key facts the example printed.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from workflow import Dispatcher, Engine, MailSettings, ManualClock, RecordView, audit

SH = ZoneInfo("Asia/Shanghai")
WEEKDAYS = "一二三四五六日"


def when(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SH)


class Drill:
    """One jurisdiction's drill: its engine, clock, mail folder and printed timeline."""

    def __init__(
        self, folder: Path, start: dt.datetime, units: Sequence[Mapping[str, Any]], *, url: str | None = None
    ) -> None:
        self.folder = folder
        self.url = url or f"sqlite:///{folder / 'drill.db'}"
        Engine.init(self.url, simulated_start=start)[0].close()
        self.clock = ManualClock(start)
        self.engine = Engine.open(self.url, clock=self.clock)
        self.engine.units.save(list(units))
        self.mail_dir = folder / "mail"
        self.lines: list[str] = []
        self._delivered: set[str] = set()

    def note(self, text: str) -> None:
        now = self.clock.now().astimezone(SH)
        line = f"{now:%Y-%m-%d}（周{WEEKDAYS[now.weekday()]}）{now:%H:%M}  {text}"
        self.lines.append(line)
        print(line)

    def step(self, view: RecordView, what: str) -> RecordView:
        """Note what happened to a case and the state it is in now."""
        tracks = "，".join(f"{t.track_label}：{t.label}" for t in view.tracks if t.track != "main")
        self.note(f"{what} → {view.id} {view.state_label}{'（' + tracks + '）' if tracks else ''}")
        return view

    def at(self, moment: dt.datetime) -> None:
        """Move the simulated clock to ``moment`` and do what falls due: expiries and reminders."""
        self.engine.advance_clock(moment)
        done = self.engine.sweep()
        if done.fired:
            self.note(f"期限处理 deadline sweep: {done.fired} 项到期或提醒 (expiries and reminders)")

    def mail(self) -> list[tuple[str, str]]:
        """Deliver the queued notices to the folder; each goes on the timeline."""
        Dispatcher(self.engine, MailSettings.from_env({}, folder=self.mail_dir)).run()
        names = {unit.code: unit.name for unit in self.engine.units.list()}
        emails = {address: names[unit.code] for unit in self.engine.units.list() for address in unit.emails}
        found = []
        for path in sorted(self.mail_dir.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
            if path.name in self._delivered:
                continue
            self._delivered.add(path.name)
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            to = emails.get(str(message["To"]).split("<")[-1].rstrip(">").strip(), str(message["To"]))
            subject = str(message["Subject"])
            body = message.get_body(preferencelist=("plain",))
            found.append((to, subject + "\n" + (body.get_content() if body is not None else "")))
            self.note(f"邮件 mail → {to}：{subject}")
        return found

    def verify(self) -> bool:
        report = audit.verify(
            self.engine.registry, self.engine.cases(), real_time=False, subject_key=self.engine.subject_key
        )
        self.note(
            "审计 audit: "
            + ("历史完好 every history intact" if report.intact else f"问题 problems: {report.problems}")
        )
        return report.intact

    def close(self) -> None:
        self.engine.close()
