"""Password complexity (FAB_PASSWORD_COMPLEXITY_VALIDATOR): at least 8 characters
with letters and digits. FAB's default demands 2 upper, 2 special, 2 digits and
answers in English."""
import re

from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import gettext

MIN_LENGTH = 8


def validate_password(password: str) -> None:
    """:raises PasswordComplexityValidationError: with a Chinese message."""
    if (len(password or "") < MIN_LENGTH or not re.search(r"[A-Za-z]", password)
            or not re.search(r"\d", password)):
        raise PasswordComplexityValidationError(gettext(
            "The password needs at least %(n)d characters, with both letters and digits.",
            n=MIN_LENGTH))
