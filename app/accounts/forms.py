from zoneinfo import available_timezones

from pydantic import Field, field_validator

from app.accounts import passwords
from app.forms import Form, email_address

LOCALES = {"en": "English", "es": "Español", "fr": "Français", "de": "Deutsch", "pt": "Português"}
TIME_ZONES = sorted(available_timezones())
_ZONES = frozenset(TIME_ZONES)


def _new_password(value: str) -> str:
    problem = passwords.problem(value)
    if problem:
        raise ValueError(problem)
    return value


class SignupForm(Form):
    display_name: str = Field(min_length=1, max_length=80)
    email: str
    password: str = Field(min_length=1)

    _email = field_validator("email")(email_address)
    _password = field_validator("password")(_new_password)


class LoginForm(Form):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=passwords.MAX_LENGTH)


class PasswordChangeForm(Form):
    current_password: str = Field(min_length=1, max_length=passwords.MAX_LENGTH)
    new_password: str = Field(min_length=1)

    _new = field_validator("new_password")(_new_password)


class ResetRequestForm(Form):
    email: str

    _email = field_validator("email")(email_address)


class ResetForm(Form):
    password: str = Field(min_length=1)

    _password = field_validator("password")(_new_password)


class ProfileForm(Form):
    display_name: str = Field(min_length=1, max_length=80)
    email: str
    locale: str
    time_zone: str
    version: int
    reminders: bool = False  # an unticked checkbox sends nothing

    _email = field_validator("email")(email_address)

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in LOCALES:
            raise ValueError("Choose one of the languages in the list.")
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in _ZONES:
            raise ValueError("Choose a time zone from the list, such as Europe/Madrid.")
        return value


class InviteForm(Form):
    email: str

    _email = field_validator("email")(email_address)
