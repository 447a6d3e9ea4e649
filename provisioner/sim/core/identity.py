"""Users and OAuth clients of the CF UAA, shared by the CF API (roles), UAA and XSUAA (sign-in)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class User:
    guid: str
    username: str
    origin: str  # "uaa" unless the landscape says otherwise
    password: str | None
    global_account_admin: bool = False
    cf_admin: bool = False


@dataclass
class CFClient:
    """A UAA client for the client_credentials grant."""

    client_id: str
    client_secret: str
    cf_admin: bool = False

    @property
    def guid(self) -> str:  # the CC uses the client id as the "user" guid of client tokens
        return self.client_id


@dataclass
class Identity:
    """The landscape's users and clients; `default_user` is the username `Simulator.info()` shows."""

    users: list[User] = field(default_factory=list)
    cf_clients: list[CFClient] = field(default_factory=list)
    default_user: str = ""

    def user_by_guid(self, guid: str) -> User | None:
        return next((u for u in self.users if u.guid == guid), None)

    def users_by_name(self, username: str, origin: str | None = None) -> list[User]:
        return [u for u in self.users if u.username == username and (origin is None or u.origin == origin)]

    def cf_client(self, client_id: str) -> CFClient | None:
        return next((c for c in self.cf_clients if c.client_id == client_id), None)

    def member(self, name_or_guid: str) -> str | None:
        """The guid of a user (by username or guid) or client (by id), or None."""
        user = next((u for u in self.users if name_or_guid in (u.username, u.guid)), None)
        if user is not None:
            return user.guid
        client = self.cf_client(name_or_guid)
        return client.guid if client else None
