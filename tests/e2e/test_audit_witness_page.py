"""The auditor's page says who outside the operator cosigned the newest checkpoint,
how old it is, and whether the log's witness policy is met — in Chinese, and in
English on the toggle; China's time, no UTC, no hash or key shown. Two real
`gridgov witness serve` processes, a policy of 2 of 3 (the third named, never up)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from domain.events import Role
from tests.fixtures.browser import screenshot
from tests.fixtures.http import story
from tests.fixtures.live import serving
from tests.fixtures.pages import bearer, clean, open_page, press, text, until
from tests.fixtures.witnesses import ORIGIN, Log, WitnessProcess
from transparency.checkpoints import Signer

DESK = (1280, 900)


def test_the_auditor_sees_who_witnessed_the_newest_checkpoint(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    key = Signer.generate(ORIGIN)
    (tmp_path / "audit.key").write_text(key.text())
    a = WitnessProcess(tmp_path / "a", "wenjiang-committee", [Log(signer=key)]).start()
    b = WitnessProcess(tmp_path / "b", "jinjiang-committee", [Log(signer=key)]).start()
    c = WitnessProcess(tmp_path / "c", "city-archive", [Log(signer=key)])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    settings = {"AUDIT_KEY_FILE": str(tmp_path / "audit.key"), "AUDIT_ORIGIN": ORIGIN, "AUDIT_WITNESS_POLICY": "2",
                "AUDIT_WITNESSES": f"{a.url}={a.vkey},{b.url}={b.vkey},http://127.0.0.1:{closed}={c.vkey}"}
    try:
        with serving(tmp_path / "server", provider=settings) as (base, api, _):
            story(api)
            auditor = api.token(Role.AUDITOR, "auditor-温江")
            open_page(browser, base, "audit", bearer(auditor), DESK)
            verdict = until(browser, lambda d: "committee" in text(d, "#wit-verdict") and text(d, "#wit-verdict"),
                            "a witnessed checkpoint", deadline=20)
            assert re.match(r"已见证：|最新检查点正在等待见证方联署", verdict), verdict
            assert "wenjiang-committee、jinjiang-committee" in verdict and "要求 3 个见证方中至少 2 个" in verdict
            newest = text(browser, "#wit-newest")
            assert re.search(r"最新签署的检查点：[\d,]+ 条记录，\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d（\d+ 秒前）", newest), newest
            assert "满足" in text(browser, "#wit-list") and "UTC" not in text(browser, "#witness-card")
            screenshot(browser, "auditor-witnesses")
            press(browser, "#lang")
            english = until(browser, lambda d: "committee" in text(d, "#wit-verdict") and text(d, "#wit-verdict"),
                            "English")
            assert re.match(r"Witnessed: cosigned by|The newest checkpoint awaits its witnesses", english), english
            assert "wenjiang-committee, jinjiang-committee" in english and "at least 2 asked" in english
            assert " ago)" in text(browser, "#wit-newest")
            card = text(browser, "#witness-card")
            assert not re.search(r"[0-9a-f]{16}|\+[0-9a-f]{8}\+", card), card  # no root, no key
            clean(browser)
    finally:
        for witness in (a, b):
            witness.stop()
