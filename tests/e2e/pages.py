"""What the browser tests share, without eventlet (they run in
tests/e2e/browser.py's process): Chromium's settings, the staff of the day,
logging in, screenshots and reading the QR code a page shows."""
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "desk-Passw0rd-2026"

#: staff_id -> (display name, roles, desks)
STAFF = {
    "c-017": ("王芳", ["clerk"], ["main-gate"]),
    "c-023": ("李娜", ["clerk"], ["north-gate"]),
    "k-001": ("赵敏", ["custodian"], []),
    "f-001": ("钱会计", ["finance"], []),
    "l-001": ("孙主任", ["lead"], []),
    "a-001": ("周审计", ["auditor"], []),
    "s-101": ("刘强", ["team_lead"], []),
}


def login(page, staff_id: str, desk: str | None = None, password: str = PASSWORD):
    """The login screen, as a clerk uses it (desk remembered per terminal)."""
    page.goto("/login")
    page.fill("#f-staff_id", staff_id)
    page.fill("#f-password", password)
    page.fill("#f-desk", desk or "")
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.inner_text("main")
    return page


def qr_texts_of(page, selector: str = "#item-qr") -> list[str]:
    """Decode the QR code image the page shows (its data: URI PNG)."""
    import base64
    import io

    import zxingcpp
    from PIL import Image
    source = page.get_attribute(selector, "src")
    assert source.startswith("data:image/png;base64,"), source[:40]
    image = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))).convert("L")
    return [result.text for result in zxingcpp.read_barcodes(image)]


def shot(page, name: str) -> Path:
    """A full-page PNG of what the page shows now, under tests/e2e/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
