"""The sign-in's own two small pages, server-made: the demo's chooser (no provider:
someone of the demo for each role, each a button) and a failure of sign-in in words
(Chinese first, English after), with the way back to 登录."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from fastapi.responses import HTMLResponse

ROLE_WORDS = {"grid_officer": ("网格员", "Grid officer"), "district_admin": ("区管理员", "District admin"),
              "auditor": ("审计员（区政法委）", "Auditor"), "service": ("数据服务", "Data service"),
              "partner": ("合作商户", "Partner"), "rider": ("骑手", "Rider")}
STYLE = ("body{font-family:system-ui,'PingFang SC','Microsoft YaHei',sans-serif;max-width:34rem;margin:2rem auto;"
         "padding:0 1rem;line-height:1.5}button,a.button{display:block;width:100%;margin:.5rem 0;padding:.8rem;"
         "font-size:1.05rem;text-align:left;border:1px solid #888;border-radius:.4rem;background:#f6f6f6;"
         "color:inherit;text-decoration:none;cursor:pointer}small{color:#555}")


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
                        f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
                        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>",
                        status_code=status, headers={"Cache-Control": "no-store"})


def chooser(people: list[tuple[str, str]], csrf: str, next_path: str) -> HTMLResponse:
    """`people`: (role, district words) of each of the demo's people, in order."""
    buttons = "".join(
        f"<button type='submit' name='person' value='{escape(role)}' data-role='{escape(role)}'>"
        f"{escape(ROLE_WORDS[role][0])}{escape(' · ' + where if where else '')}"
        f" <small lang='en'>{escape(ROLE_WORDS[role][1])}</small></button>" for role, where in people)
    return _page("登录 · Sign in", (
        "<h1>登录 <small lang='en'>Sign in</small></h1>"
        "<p>演示环境：选择一个身份登录。<small lang='en'>The demo: choose who to sign in as.</small></p>"
        f"<form method='post' action='/auth/demo-session'><input type='hidden' name='csrf' value='{escape(csrf)}'>"
        f"<input type='hidden' name='next' value='{escape(next_path)}'>{buttons}</form>"))


def failure(status: int, zh_title: str, zh_detail: str, en_title: str, en_detail: str,
            next_path: str = "/") -> HTMLResponse:
    again = f"/auth/login?next={quote(next_path, safe='')}"
    return _page(f"{zh_title} · {en_title}", (
        f"<h1>{escape(zh_title)}</h1><p>{escape(zh_detail)}</p>"
        f"<p lang='en'><b>{escape(en_title)}</b>: {escape(en_detail)}</p>"
        f"<a class='button' id='signin' href='{escape(again)}'>重新登录 <small lang='en'>Sign in again</small></a>"),
        status)
