"""Optional sign-in: when ``[auth]`` is configured in Streamlit secrets, require an OIDC login.

See docs/dashboard.md for the ``.streamlit/secrets.toml`` entries (``redirect_uri``,
``cookie_secret``, ``client_id``, ``client_secret``, ``server_metadata_url``).
"""

from __future__ import annotations

import streamlit as st

from dashboards.state import md


def auth_configured() -> bool:
    """Whether the secrets configure an identity provider."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all (st.secrets raises on first access)
        return False


def require_login() -> None:
    """Stop the page with a sign-in button unless the user is logged in (when auth is configured)."""
    if not auth_configured():
        return
    if not _logged_in():
        st.title("rai audit dashboard")
        st.write("Sign in to see the audit trail.")
        st.button("Sign in", on_click=st.login)
        st.stop()
    with st.sidebar:
        st.caption(f"Signed in as {md(signed_in_identity())}")
        st.button("Sign out", on_click=st.logout)


def signed_in_identity() -> str | None:
    """The signed-in user's e-mail (else name), or ``None`` without sign-in."""
    if not auth_configured() or not _logged_in():
        return None
    return str(st.user.get("email") or st.user.get("name") or st.user.get("sub"))


def signed_in_actor() -> str | None:
    """The actor name the signed-in user decides as, or ``None`` without sign-in.

    The identity provider's e-mail (else name) maps through the ``[actors]`` table of the
    secrets (``"alice@example.org" = "alice"``), so a sign-in decides as the same actor name
    that ``rai approve --actor`` and the policy's ``roles`` use; an identity the table does not
    list is its own actor name (policies may list members by e-mail).
    """
    identity = signed_in_identity()
    if identity is None:
        return None
    try:
        mapped = st.secrets.get("actors", {}).get(identity)
    except Exception:  # no secrets file or no table: the identity is the name
        mapped = None
    return str(mapped) if mapped else identity


def _logged_in() -> bool:
    # A missing flag means nobody has signed in: never let an absent key read as a login.
    return st.user.get("is_logged_in") is True
