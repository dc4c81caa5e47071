"""Groups: pure rules about units and officers (no I/O)."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service_runtime.text import slugify  # noqa: F401  (unit and officer ids)

UNIT_KINDS = ("city_police", "team", "ward_police", "partner")

_hasher = PasswordHasher()

# A real hash of an unguessable string: verifying against it costs the same time as a
# real check, so a login for an unknown username is not faster than a wrong password.
_DUMMY_HASH = _hasher.hash("binhyen-no-such-officer")


class DomainError(ValueError):
    """A request that breaks a rule; `field` names the input at fault."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def hash_password(password):
    return _hasher.hash(password)


def verify_password(password_hash, password):
    """True when the password matches; constant work whether or not the officer exists."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def public_officer(doc):
    """An officer as other services see them: never the password hash."""
    return {
        "id": doc["_id"],
        "username": doc["username"],
        "full_name": doc.get("full_name"),
        "roles": list(doc.get("roles", [])),
        "unit_id": doc.get("unit_id"),
    }
