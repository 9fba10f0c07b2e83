"""The dashboard shows recorded strings as text, never as markup; reads without writing; binds locally."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dashboards.state import md
from rai.cli import main
from rai.commands.dashboard import streamlit_command

from .conftest import plain
from .workspaces import HOSTILE, HOSTILE_LINK, HOSTILE_RUN

# Elements whose text Streamlit renders as Markdown.
MARKDOWN_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "success", "error", "warning", "info")
DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"


@pytest.mark.parametrize("text, shown", [
    (HOSTILE, r"\<script\>alert\(1\)\<\/script\>"),
    (HOSTILE_LINK, r"\[click me\]\(javascript\:alert\(1\)\)"),
    ("**bold** _it_ `code` $x$ :red[x] #h", r"\*\*bold\*\* \_it\_ \`code\` \$x\$ \:red\[x\] \#h"),
    ("line one\n# heading\n\n- item", r"line one \# heading \- item"),
])
def test_md_escapes_every_markup_character(text, shown):
    assert md(text) == shown
    assert plain(md(text)) == " ".join(text.split())


def _markdown_sources(at) -> list[str]:
    return [e.value for name in MARKDOWN_ELEMENTS for e in getattr(at, name)]


# Fragments of the hostile strings that would be live markup if they reached Markdown unescaped.
LIVE = ("<script>", "<b>", "](javascript:", "**bold**", "[click me]")


def _assert_no_live_markup(at) -> None:
    sources = _markdown_sources(at)
    assert sources
    for source in sources:
        assert not any(fragment in source for fragment in LIVE), source


@pytest.mark.parametrize("page, query", [
    ("overview", {}), ("run", {"run": HOSTILE_RUN}), ("trail", {}), ("policies", {}), ("approvals", {}),
    ("reports", {}), ("models", {}),
])
def test_hostile_strings_are_rendered_escaped_on_every_page(open_page, hostile, page, query):
    at = open_page(page, hostile, **query)
    _assert_no_live_markup(at)


def test_hostile_run_is_shown_as_typed(open_page, hostile):
    at = open_page("run", hostile, run=HOSTILE_RUN)
    assert plain(at.header[0].value).endswith(HOSTILE_RUN)
    assert f"model model {HOSTILE}" in plain(at.caption[0].value)
    assert HOSTILE_LINK in plain(at.caption[0].value)
    assert at.text[0].value == f"• **bold** {HOSTILE_LINK} {HOSTILE}"  # st.text: never Markdown
    assert HOSTILE in at.tabs[0].dataframe[0].value["message"].iloc[0]
    runs = open_page("overview", hostile).dataframe[0].value
    assert runs.loc[runs["run_id"] == HOSTILE_RUN, "open"].item() == "run?run=20250301T130000Z-%3Cb%3Ex%3C%2Fb%3E"


def test_hostile_approval_comment_is_recorded_verbatim_and_shown_escaped(open_page, hostile):
    from governance.trail import open_trail

    with open_trail(hostile) as t:  # a blocked run takes no approval: this one waits for one
        t.append("run.finished", run_id=HOSTILE_RUN, payload={"decision": "awaiting_approval"})
    at = open_page("approvals", hostile)
    at.selectbox[0].set_value(HOSTILE_RUN).run()
    at.text_input[0].set_value(HOSTILE_LINK)
    at.text_area[0].set_value(HOSTILE)
    at.button[0].click().run()
    _assert_no_live_markup(at)
    assert HOSTILE_LINK in plain(at.success[0].value)


def test_no_page_allows_raw_html():
    for path in DASHBOARDS.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for forbidden in ("unsafe_allow_html", "st.html", "components.v1", "st.components"):
            assert forbidden not in source, f"{path.name} uses {forbidden}"


def _fingerprint(ws: Path) -> dict[str, str]:
    return {str(p.relative_to(ws)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(ws.rglob("*")) if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


def test_browsing_every_page_leaves_the_workspace_untouched(open_page, workspace):
    before = _fingerprint(workspace)
    for page in ("overview", "run", "trail", "policies", "models", "reports", "approvals"):
        open_page(page, workspace)
    at = open_page("trail", workspace)
    at.button[0].click().run()  # an inclusion proof reads only
    assert _fingerprint(workspace) == before


def test_a_workspace_without_trail_is_explained_not_created(open_page, tmp_path):
    at = open_page("overview", tmp_path)
    assert "No audit trail in the workspace" in at.info[0].value
    assert list(tmp_path.iterdir()) == []


def test_dashboard_command_binds_locally_without_telemetry_and_with_xsrf():
    argv = streamlit_command(8600, "127.0.0.1")
    flags = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert argv[1:4] == ["-m", "streamlit", "run"] and argv[4].endswith("app.py")
    assert flags["--server.address"] == "127.0.0.1" and flags["--server.port"] == "8600"
    assert flags["--server.enableXsrfProtection"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert flags["--client.showErrorDetails"] == "type" and flags["--server.enableAgentApi"] == "false"


def test_dashboard_command_refuses_a_missing_workspace(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["dashboard", "--workspace", str(tmp_path / "nope")])
    assert exit_.value.code == 2 and "no workspace here" in capsys.readouterr().err


AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "not-a-real-secret",
        "client_id": "rai-dashboard", "client_secret": "not-a-real-secret",
        "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration"}


@pytest.mark.parametrize("page", ["overview", "run", "approvals"])
def test_with_sign_in_configured_no_page_shows_the_trail_before_login(monkeypatch, seeded, page):
    from streamlit.testing.v1 import AppTest

    from .conftest import APP

    monkeypatch.setenv("RAI_WORKSPACE", str(seeded))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False}
    at.run()
    if page != "overview":
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.dataframe and not at.success and not at.error


def test_a_signed_in_approver_is_recorded_under_their_identity(monkeypatch, workspace):
    from streamlit.testing.v1 import AppTest

    from governance.trail import open_trail

    from .conftest import APP
    from .workspaces import AWAITING_RUN

    monkeypatch.setenv("RAI_WORKSPACE", str(workspace))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": "dana@example.org", "name": "Dana"}
    at.run()
    at.switch_page("views/approvals.py").run()
    assert not at.text_input  # no name to type: the identity provider names the approver
    assert "Recorded as dana@example.org (signed in)" in [plain(c.value) for c in at.caption]
    next(b for b in at.button if b.label == "Record decision").click().run()
    with open_trail(workspace, create=False) as trail:
        (event,) = trail.events(kind="approval.recorded", run_id=AWAITING_RUN)
    assert event.actor == "dana@example.org"
