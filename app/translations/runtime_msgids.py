"""Messages the code translates at run time with ``gettext(variable)`` but does not
mark for extraction. Listing them here (``N_`` is one of the extraction keywords in
babel/i18n.py) keeps them in the catalogue, so `python babel/i18n.py update` does
not drop their Chinese.

Never imported. Delete an entry once the code marks the string where it is defined
(e.g. ``N_(...)`` in ``app.validators.CODE_MESSAGES``); the text must stay identical
to the code's, character for character.
"""


def N_(text: str) -> str:
    return text


# app/validators.py, CODE_MESSAGES
N_("A unified social credit code has exactly 18 characters.")
N_("The code contains characters a unified social credit code cannot have "
   "(I, O, S, V, Z or punctuation), or its region part is not six digits.")
N_("The check digit (18th character) is wrong: please check the code for a typo.")
N_("The organization code part (characters 9–17) has a wrong check digit: "
   "please check the code for a typo.")
N_("Enter a mobile number (11 digits) or a landline with area code, "
   "e.g. 010-12345678.")
