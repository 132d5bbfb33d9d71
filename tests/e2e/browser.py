"""Runs one browser test in a process of its own, without eventlet:

    python -m tests.e2e.browser <test module> <test function> <system as JSON>

tests/e2e/conftest.py starts it for every test that asks for
``new_context`` (see ``pytest_pyfunc_call`` there) while the system runs in
the pytest process. The test function gets ``new_context`` (a fresh
Chromium profile per call, closed at the end) and ``system`` (base_url,
password, staff). Exit 0 when the test passed; a failure prints its
traceback and exits 1."""
from __future__ import annotations

import importlib
import inspect
import json
import sys
import traceback
from types import SimpleNamespace

from tests.e2e.pages import CHROMIUM, CHROMIUM_ARGS, PHONE, VIEWPORT


def run(module_name: str, function_name: str, system: dict) -> None:
    from playwright.sync_api import sync_playwright
    test = getattr(importlib.import_module(module_name), function_name)
    system = SimpleNamespace(**system)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts = []

        def new_context(lang="zh", phone=False):
            context = browser.new_context(viewport=PHONE if phone else VIEWPORT, base_url=system.base_url,
                                          locale="zh-CN" if lang == "zh" else "en-GB", timezone_id="Asia/Shanghai")
            context.set_default_timeout(15000)
            contexts.append(context)
            return context

        given = {"new_context": new_context, "system": system, "browser": browser}
        try:
            test(**{name: given[name] for name in inspect.signature(test).parameters})
        except BaseException:
            from tests.e2e.pages import shot
            for n, context in enumerate(contexts):
                for m, page in enumerate(context.pages):
                    try:
                        shot(page, f"failed-{function_name}-{n}-{m}")
                        print(f"page {n}-{m} at {page.url}:\n{page.inner_text('main', timeout=2000)[:1500]}",
                              file=sys.stderr)
                    except Exception:
                        pass
            raise
        finally:
            for context in contexts:
                context.close()
            browser.close()


def main(argv=None) -> int:
    module_name, function_name, system = (argv or sys.argv[1:])[:3]
    try:
        run(module_name, function_name, json.loads(system))
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
