"""The home page and the header's short-code box."""
from __future__ import annotations

from services.gateway.i18n import _
from services.gateway.screens import nav_for, page, redirect, resolve_short_code, screen


@screen("/", order=0)
def home(request, session):
    cards = [s for s in nav_for(session.principal) if s.path != "/"]
    return page("gateway/home.html", cards=cards, today=request.t.today())


@screen("/go", methods=("GET",))
def go(request, session):
    """A short code typed or scanned into the header's box (``lf-…``, any case)."""
    code = (request.args.get("code") or "").strip()
    target = resolve_short_code(request, code) if code else None
    if target:
        return redirect(target)
    return page("gateway/error.html", status=404, code="not_found",
                message=request._("没有找到编号 %(code)s。", code=code[:40]) if code else request._("请输入编号。"))


_("首页")
