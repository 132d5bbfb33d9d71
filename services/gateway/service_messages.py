"""What the services say in English that the desk reads in its language:
marked here so that ``make messages`` keeps them in the catalogs (the
Chinese catalog translates them; English shows them as they are). Add a
service's field message here when a screen shows it."""
from services.gateway.i18n import _

SERVICE_MESSAGES = (
    _('Missing data for required field.'),
    _('required'),
    _('Unknown field.'),
    _('Not a valid string.'),
    _('Not a valid integer.'),
    _('Not a valid boolean.'),
    _('Not a valid date.'),
    _('Not a valid datetime.'),
    _('Not a valid list.'),
    _('Field may not be null.'),
    _('Shorter than minimum length 1.'),
    _('Length must be between 1 and 40.'),
    _('must not be in the future'),
    _('must be between 2000-01-01 and 2100-01-01'),
    _('must be one line (no tab or line break)'),
    _('not an item short code'),
    _('wrong staff id or password'),
    _('wrong password'),
    _('same as the current one'),
    _('must not contain the staff id'),
    _('too few different characters'),
    _('at least 10 characters'),
    _('wrong role'),
    _('which desk? log in at a desk or name it'),
    _('log in first'),
    _('the principal has expired: log in again'),
    _('too many failed logins: wait before trying again'),
    _("2-40 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"),
    _('Length must be between 1 and 13.'),
)
