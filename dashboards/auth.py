"""Optional sign-in: when ``[auth]`` is configured in Streamlit secrets, require an OIDC login.

See docs/dashboard.md for the ``.streamlit/secrets.toml`` entries (``redirect_uri``,
``cookie_secret``, ``client_id``, ``client_secret``, ``server_metadata_url``).
"""

from __future__ import annotations

import getpass

import streamlit as st


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def require_login() -> None:
    """Stop the page with a sign-in button unless the user is logged in (when auth is configured)."""
    if not auth_configured():
        return
    if not st.user.is_logged_in:
        st.title("rai audit dashboard")
        st.button("Sign in", on_click=st.login)
        st.stop()
    with st.sidebar:
        st.caption(f"Signed in as {st.user.get('email') or st.user.get('name')}")
        st.button("Sign out", on_click=st.logout)


def current_actor() -> str:
    """Who is acting: the signed-in user's e-mail or name, else the OS user running the dashboard."""
    if auth_configured() and st.user.is_logged_in:
        return str(st.user.get("email") or st.user.get("name"))
    return getpass.getuser()
