"""The console's languages: gettext catalogs (Babel) under
``services/gateway/translations/<lang>/LC_MESSAGES/messages.po``, compiled in
memory with Babel's API when the gateway starts (no .mo file is kept in the
repository). Chinese is the default; a user's choice is remembered in a
cookie. Times are shown in the site's time zone.

In Python code, ``_("...")`` (this module's :func:`_`) only marks a message
for the catalog and returns it unchanged: it is translated when it is shown,
in the language of whoever looks at it (``Translator.gettext``).
"""
from __future__ import annotations

import datetime as dt
import gettext as gettext_module
import io
import os

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LOCALES = {"zh": "zh_Hans_CN", "en": "en_GB"}
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
TRANSLATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "translations")


def _(message: str) -> str:
    """Marks ``message`` for the catalogs; translated when shown."""
    return message


def compile_catalog(po_path: str) -> gettext_module.GNUTranslations:
    """A .po file compiled in memory (Babel) into gettext translations."""
    with open(po_path, "rb") as handle:
        catalog = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def load_translations(folder: str = TRANSLATIONS_DIR) -> dict[str, gettext_module.NullTranslations]:
    found: dict[str, gettext_module.NullTranslations] = {}
    for language in LANGUAGES:
        path = os.path.join(folder, language, "LC_MESSAGES", "messages.po")
        found[language] = compile_catalog(path) if os.path.exists(path) else gettext_module.NullTranslations()
    return found


def choose_language(cookie: str | None, accept_language: str | None = None) -> str:
    """The remembered choice, else Chinese (the site's language)."""
    if cookie in LANGUAGES:
        return cookie
    return DEFAULT_LANGUAGE


class Translator:
    """One request's language: messages, dates and times (in ``zone``)."""

    def __init__(self, translations: dict, language: str, zone: dt.tzinfo):
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._t = translations.get(self.language) or gettext_module.NullTranslations()
        self.locale = Locale.parse(LOCALES[self.language])
        self.zone = zone

    def gettext(self, message: str, **values) -> str:
        text = self._t.gettext(message) if message else message
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values) -> str:
        text = self._t.ngettext(singular, plural, n)
        return text % dict(values, num=n) if "%(" in text else text

    def moment(self, value, format: str = "medium") -> str:
        """A time (aware datetime or ISO text) as a person at the site reads it."""
        moment = _parse_moment(value)
        if moment is None:
            return "" if value is None else str(value)
        local = moment.astimezone(self.zone)
        pattern = {"short": "yyyy-MM-dd HH:mm", "medium": "yyyy-MM-dd HH:mm:ss", "time": "HH:mm"}.get(format)
        return format_datetime(local, pattern or format, tzinfo=self.zone, locale=self.locale)

    def day(self, value, format: str = "long") -> str:
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                return value
        if not isinstance(value, dt.date):
            return "" if value is None else str(value)
        return format_date(value, format, locale=self.locale)

    def today(self) -> dt.date:
        return dt.datetime.now(self.zone).date()


def _parse_moment(value) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    return None


def field_messages(translator: Translator, fields: dict | None) -> dict[str, list[str]]:
    """A service's structured error's ``fields`` (name -> English messages)
    in the user's language (an unknown message stays as the service said it)."""
    shown: dict[str, list[str]] = {}
    for name, messages in (fields or {}).items():
        messages = messages if isinstance(messages, list) else [messages]
        shown[name] = [translator.gettext(str(message)) for message in messages]
    return shown
