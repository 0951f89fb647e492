"""Who is calling: access tokens signed by identity, verified locally by every service."""

from ezurnals.shared.auth.principal import STAFF_ROLES, Principal, Role
from ezurnals.shared.auth.verifier import TokenRefused, TokenVerifier

__all__ = ["STAFF_ROLES", "Principal", "Role", "TokenRefused", "TokenVerifier"]
