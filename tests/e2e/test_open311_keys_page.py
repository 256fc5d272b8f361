"""The district admin's Open311 keys (开放接口密钥) on the workbench, in headless Chromium at 1280×900,
counting what a person does: a key issued for a rider picked by name, shown once with a button that
copies it; a read-only key for a service; the list naming whose, what for, when and by whom; a key
revoked with a reason. After a reload the secret is gone from the page; nowhere an id, code or UTC."""

from __future__ import annotations

from typing import Any

from domain.open311_keys import Open311Key, key_sha256
from tests.fixtures.browser import screenshot
from tests.fixtures.pages import Person, bearer, clean, named_district, no_codes, open_page, text, until

DESK, PHONE = (1280, 900), (390, 844)
CODES = ("fire-lane", "grid-patrol", "open311_keys", "Open311KeyIssued", "Open311KeyRevoked")


def row_of(api: Any, admin: dict[str, str], label: str) -> dict[str, Any]:
    return next(k for k in api.query("/v1/districts/温江/open311-keys", admin)["keys"] if k["label"] == label)


def secret_shown(driver: Any) -> str:
    return until(driver, lambda d: d.find_element("id", "key-made").is_displayed()
                 and d.find_element("id", "key-secret").text, "the key, shown once")


def test_the_admin_issues_a_riders_key_and_a_read_only_one_and_revokes_one(server, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api = server
    s = named_district(api, "officer-1", ("grid-patrol", "Walking the grid"))
    open_page(browser, base, "workbench", bearer(s["admin"]), DESK)
    browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": base, "permissions": [
        "clipboardReadWrite", "clipboardSanitizedWrite"]})
    until(browser, lambda d: "张三" in [o.text for o in d.find_elements("css selector", "#key-rider option")],
          "the district's riders by name")

    # A rider's key: the rider by name, a label, one press; the secret shown once and copied in one more.
    admin = Person(browser)
    admin.choose("#key-rider", "张三")
    admin.fill("#key-label", "张三的随手拍")
    admin.click("#key-form button.primary")
    secret = secret_shown(browser)
    admin.click("#key-copy")
    until(browser, lambda d: "密钥已复制" in text(d, "#key-made"), "copied, said beside the button")
    copied = browser.execute_async_script("navigator.clipboard.readText().then(arguments[0], () => arguments[0](''))")
    assert admin.actions <= 4, admin.actions
    print(f"a rider's key issued and copied in {admin.actions} actions")
    assert copied == secret and secret.startswith("g311_"), (copied, secret)
    ridden = row_of(api, s["admin"], "张三的随手拍")
    assert ridden["key_id"] == str(Open311Key.id_for(key_sha256(secret))) and ridden["rider_id"] == s["rider_id"]
    assert "签发密钥：已完成" in text(browser, "#key-form + .outcome")
    assert browser.find_element("id", "key-label").get_attribute("value") == ""  # the form empty after success
    screenshot(browser, "day-admin-keys-issued-1280")

    # A service's key: read only, no rider.
    service = Person(browser)
    service.choose("#key-rider", "只读（服务，不代表骑手）")
    service.fill("#key-label", "城管热线")
    service.click("#key-form button.primary")
    until(browser, lambda d: d.find_element("id", "key-secret").text not in ("", secret), "a second key, shown once")
    assert service.actions <= 3, service.actions
    assert "密钥已复制" not in text(browser, "#key-made"), "copied was said of the first key"
    hotline = row_of(api, s["admin"], "城管热线")
    assert hotline["rider_id"] is None
    listed = until(browser, lambda d: len(d.find_elements("css selector", "#key-list tr[data-key]")) == 2
                   and text(d, "#key-list"), "both keys listed")
    for words in ("张三的随手拍", "张三", "城管热线", "只读", "王主任", "年", "有效"):
        assert words in listed, (words, listed)

    # Revoked with a reason, in the row: refused from now on.
    revoker = Person(browser)
    revoker.fill(f"#key-list tr[data-key='{hotline['key_id']}'] input", "热线换了系统")
    revoker.click_in_row("key-list", "key", hotline["key_id"], "吊销")
    row = f"#key-list tr[data-key='{hotline['key_id']}']"
    until(browser, lambda d: "已吊销" in text(d, row) and "热线换了系统" in text(d, row), "the row says revoked, and why")
    assert "吊销：已完成" in text(browser, row)
    assert revoker.actions <= 2, revoker.actions
    print(f"a key revoked with its reason in {revoker.actions} actions")
    assert row_of(api, s["admin"], "城管热线")["revoke_reason"] == "热线换了系统"
    screenshot(browser, "day-admin-keys-1280")
    browser.set_window_size(*PHONE)
    screenshot(browser, "day-admin-keys-390")
    browser.set_window_size(*DESK)

    # The secret went with the page: after a reload, the list alone, in words.
    browser.refresh()
    until(browser, lambda d: len(d.find_elements("css selector", "#key-list tr[data-key]")) == 2, "the list again")
    assert not browser.find_element("id", "key-made").is_displayed()
    page = browser.execute_script("return document.documentElement.outerHTML")
    assert secret not in page and secret.removeprefix("g311_") not in page
    no_codes(browser, CODES)
    browser.find_element("id", "lang").click()
    until(browser, lambda d: "Open311 keys" in text(d, "#open311-keys h2") and "Revoked" in text(d, "#key-list"),
          "the keys in English")
    assert "Read only" in text(browser, "#key-list")
    no_codes(browser, CODES)
    screenshot(browser, "day-admin-keys-english")
    clean(browser)
