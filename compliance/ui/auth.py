"""Sign-in: OIDC through Streamlit (st.login / st.user) when configured, otherwise local mode.

Configured means `.streamlit/secrets.toml` has an `[auth]` section. Signed-in users get their role
from the role mapping (roles.yaml, by email or domain); unknown users are viewers. Without sign-in
configured the dashboard runs as a single local administrator, and says so on every page.
"""

from __future__ import annotations

import streamlit as st

from compliance.access import LOCAL_ADMIN, Actor, Role, load_role_map
from compliance.problems import InvalidInput


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: streamlit raises its own not-found error
        return False


def signed_in_actor() -> Actor:
    """The actor for this session; stops the page with a sign-in screen when nobody is signed in."""
    if not auth_configured():
        st.info("**Local mode**: sign-in is not configured, so you act as the single local administrator. "
                "See the README to configure sign-in for a team.", icon=":material/info:")
        return LOCAL_ADMIN
    if not st.user.get("is_logged_in"):
        st.title("LLM compliance")
        st.write("Sign in to continue.")
        st.button("Sign in", on_click=st.login, type="primary", key="sign-in")
        st.stop()
    email = str(st.user.get("email") or st.user.get("name") or "unknown")
    try:
        mapping = load_role_map()
    except InvalidInput as exc:
        st.error("The role mapping has problems; everyone is a viewer until they are fixed:\n"
                 + "\n".join(f"- `{p}`" for p in exc.problems))
        mapping = None
    actor = mapping.actor(email) if mapping else Actor(email, Role.viewer)
    with st.sidebar:
        st.caption(f"Signed in as **{actor.name}** ({actor.role.value})")
        st.button("Sign out", on_click=st.logout, key="sign-out")
    return actor
