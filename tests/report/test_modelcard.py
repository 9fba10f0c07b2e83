"""Model cards: Mitchell et al.'s sections, filled from the trail, with narrative that survives."""

from __future__ import annotations

import json

import pytest
import yaml

from governance.errors import LocatedError
from governance.report import build_card, render_card
from governance.trail import open_trail

from .synthetic import BLOCKED_RUN, PASSED_RUN

SECTIONS = ("model_details", "intended_use", "factors", "metrics", "evaluation_data", "training_data",
            "quantitative_analyses", "ethical_considerations", "caveats_and_recommendations")


def _card(workspace, sidecar, run=PASSED_RUN):
    with open_trail(workspace, create=False) as trail:
        return build_card(trail, run, sidecar, generated_at="2025-03-02T10:00:00Z")


def test_card_has_every_section_filled_from_the_run(workspace, tmp_path):
    card = _card(workspace, tmp_path / "card.yaml")
    assert all(section in card for section in SECTIONS)
    details = card["model_details"]
    assert details["name"] == "adult-income" and details["version"] == "3" and details["deployed_variant"] == "int8"
    assert details["differential_privacy"] is True
    assert card["intended_use"]["primary_uses"].startswith("Research into income prediction")
    assert card["factors"]["sensitive_features"] == ["sex", "race"]
    per_group = card["quantitative_analyses"]["per_group"]
    assert [t["sensitive_features"] for t in per_group] == [["sex"], ["race"]]
    assert card["evaluation_data"]["dataset"]["rows"] == 16281 and card["training_data"]["dataset"]["rows"] == 32561
    assert "1.18" in card["ethical_considerations"]["privacy"]
    assert any("demographic-parity-sex" in w for w in card["caveats_and_recommendations"]["warnings"])


def test_sidecar_is_seeded_from_the_spec_metadata(workspace, tmp_path):
    sidecar = tmp_path / "card.yaml"
    _card(workspace, sidecar)
    seeded = yaml.safe_load(sidecar.read_text(encoding="utf-8"))
    assert seeded["model_details"]["owner"] == "Credit Analytics (Zoë Müller)"
    assert seeded["caveats_and_recommendations"][0].startswith("Trained on 1994 data")
    assert sidecar.read_text(encoding="utf-8").startswith("# Narrative fields of the model card")


def test_edited_narrative_survives_regeneration(workspace, tmp_path):
    sidecar = tmp_path / "card.yaml"
    _card(workspace, sidecar)
    edited = sidecar.read_text(encoding="utf-8").replace(
        "factors: null", "factors: Age bands were not evaluated; see ticket FAIR-14.").replace(
        "  primary_users: null", "  primary_users: Analysts of the credit team")
    edited += "# a comment the user wrote\n"
    sidecar.write_text(edited, encoding="utf-8")
    for _ in range(2):  # regenerate twice: the file is read, never rewritten
        card = _card(workspace, sidecar)
        assert card["factors"]["notes"] == "Age bands were not evaluated; see ticket FAIR-14."
        assert card["intended_use"]["primary_users"] == "Analysts of the credit team"
        assert card["model_details"]["owner"] == "Credit Analytics (Zoë Müller)"
        assert sidecar.read_text(encoding="utf-8") == edited
    assert "Age bands were not evaluated" in render_card(card, "md")


def test_keys_absent_from_the_sidecar_fall_back_and_present_ones_win_even_empty(workspace, tmp_path):
    sidecar = tmp_path / "card.yaml"
    sidecar.write_text("ethical_considerations: []\nmodel_details:\n  contact: ops@example.org\n", encoding="utf-8")
    card = _card(workspace, sidecar)
    assert card["ethical_considerations"]["items"] == []  # deleted on purpose
    assert card["model_details"]["contact"] == "ops@example.org"
    assert card["model_details"]["owner"] == "Credit Analytics (Zoë Müller)"  # from the run's metadata
    assert card["caveats_and_recommendations"]["items"][0].startswith("Trained on 1994 data")


def test_a_misspelled_sidecar_key_is_a_located_error(workspace, tmp_path):
    sidecar = tmp_path / "card.yaml"
    sidecar.write_text("model_details:\n  ownr: me\n", encoding="utf-8")
    with pytest.raises(LocatedError, match=r"card\.yaml:2:3: model_details\.ownr: unknown key 'ownr'"):
        _card(workspace, sidecar)


def test_card_of_a_blocked_run_says_so(workspace, tmp_path):
    card = _card(workspace, tmp_path / "card.yaml", BLOCKED_RUN)
    assert card["decision"] == "blocked" and card["model_details"]["version"] is None
    text = render_card(card, "md")
    assert "| **Governance decision** | blocked |" in text


def test_human_approval_is_never_claimed_when_nobody_decided(workspace, tmp_path):
    approved = render_card(_card(workspace, tmp_path / "a.yaml"), "md")
    assert "| **Human approval** | approved (risk-officer: dana); 0 signed, 1 unsigned |" in approved
    blocked = _card(workspace, tmp_path / "b.yaml", BLOCKED_RUN)
    assert blocked["oversight"]["decisions"] == 0
    assert "| **Human approval** | pending (risk-officer: nobody); 0 signed, 0 unsigned |" in render_card(blocked, "md")
    # A policy that requires no approval is met by nobody's decision: the card does not call that "approved".
    unrequired = {**blocked, "oversight": {**blocked["oversight"], "approval_state": "approved", "approved_by": {},
                                           "approval_required": False}}
    assert "| **Human approval** | not required by the policy; no decision recorded |" in render_card(unrequired, "md")


@pytest.mark.parametrize("fmt", ["md", "json", "html"])
def test_card_renders_in_every_format(workspace, tmp_path, fmt):
    text = render_card(_card(workspace, tmp_path / "card.yaml"), fmt)
    if fmt == "json":
        assert json.loads(text)["schema_version"] == "1.0"
    else:
        for title in ("Model details", "Intended use", "Factors", "Metrics", "Evaluation data", "Training data",
                      "Quantitative analyses", "Ethical considerations", "Caveats and recommendations"):
            assert title in text
    if fmt == "html":
        assert "<script" not in text and "http" not in text.replace("http-equiv", "")
