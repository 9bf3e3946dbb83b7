"""Domain errors raised by the engine.

The engine raises these (all are ``ValueError`` or ``LookupError``); the CLI turns them into a
one-line message and exit code 2, the service into a 4xx problem response. Every message says
which field is wrong and how to fix it.
"""

from __future__ import annotations


class PasserelleError(ValueError):
    """Base class: bad input that the caller can fix.

    Attributes:
        field: the input field at fault (``"commune_insee"``, ``"mobility_km"``...), or None.
        message_fr: the same message in French, shown to users.
    """

    def __init__(self, message: str, *, field: str | None = None, message_fr: str | None = None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.message_fr = message_fr or message


class InvalidProfile(PasserelleError):
    """A youth profile (or vacancy, employer) that breaks the schema or a rule."""


class EmptyProfile(InvalidProfile):
    """A profile with no experiences, interests nor wished trades."""


class UnknownRomeCode(PasserelleError, LookupError):
    """A ROME code that is not a ROME 4.0 job card."""


class UnknownCommune(PasserelleError, LookupError):
    """An INSEE commune code or postcode that the referential does not know."""


class LocationMismatch(PasserelleError):
    """A commune code and a postcode that do not designate the same place."""


class OutOfRange(PasserelleError):
    """A number outside its allowed range (radius, mobility, top_k...)."""


class UnknownId(PasserelleError, LookupError):
    """An id (vacancy, youth, employer) that is not loaded."""
