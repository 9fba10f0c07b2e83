"""Task, favourable label, group labels and bins, and the model's source in the spec: bad input.

Every case is one line on stderr naming the spec field (located in the file) or the data file
and the values at fault, exit 2, and a trail that records the run as failed. None of these needs
TensorFlow: each is refused before any model is built.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import events

MLP = "  hidden_units: [16]\n  epochs: 2\n  batch_size: 128\n"
BINARY = '  target: Y\n  positive_label: ">50K"\n  label_strip: "."\n'
SENSITIVE = "  sensitive_features: [sex, race]\n"

# (case, (old, new) edits of the spec, expected message): refused when the spec loads.
SPEC_CASES = [
    ("binary without positive_label", [('  positive_label: ">50K"\n', "")],
     "pipeline.yaml:3:3: data.positive_label: required with data.task binary: the value of 'Y' that is the "
     "positive class"),
    ("multiclass with positive_label", [("  target: Y\n", "  target: Y\n  task: multiclass\n")],
     "pipeline.yaml:7:19: data.positive_label: has no meaning with data.task multiclass (no positive class); "
     "remove it; favorable_label names the good class"),
    ("regression with favorable_label", [(BINARY, "  target: hours-per-week\n  task: regression\n"
                                          "  favorable_label: 40\n")],
     "pipeline.yaml:7:20: data.favorable_label: has no meaning with data.task regression; remove it"),
    ("unknown task", [("  target: Y\n", "  target: Y\n  task: ordinal\n")],
     "pipeline.yaml:6:9: data.task: must be one of binary, multiclass, regression, got 'ordinal'"),
    ("labels of a column that is not sensitive", [(SENSITIVE, SENSITIVE + "  value_labels: {age: {1: young}}\n")],
     "pipeline.yaml:9:23: data.value_labels.age: 'age' is not in data.sensitive_features (sex, race); groups are "
     "made of sensitive columns"),
    ("bins and labels for one column", [(SENSITIVE, "  sensitive_features: [sex, age]\n  bins: {age: [0, 50, 100]}\n"
                                         "  value_labels: {age: {1: young}}\n")],
     "pipeline.yaml:9:15: data.bins.age: 'age' also has data.value_labels; give one of them"),
    ("builder and path", [(MLP, "  builder: model:build\n  path: model.keras\n")],
     "pipeline.yaml:12:9: model.path: model.builder builds and trains a model, model.path loads a trained one; "
     "give one of them"),
    ("path with training settings", [(MLP, "  path: model.keras\n  epochs: 3\n")],
     "pipeline.yaml:12:11: model.epochs: has no effect with model.path (the model is already trained, training "
     "is skipped); remove it"),
    ("path with DP-SGD", [(MLP, "  path: model.keras\n"), ("optimize:", "privacy: {dp: true, noise_multiplier: 1.1}\n"
                                                             "optimize:")],
     "pipeline.yaml:12:15: privacy.dp: model.path skips training, so no DP-SGD can run; remove privacy or train the "
     "model here with model.builder"),
    ("builder with MLP settings", [(MLP, "  builder: model:build\n  hidden_units: [8]\n")],
     "pipeline.yaml:12:17: model.hidden_units: has no effect with model.builder (model:build builds the model); "
     "remove it"),
    ("builder that names no function", [(MLP, "  builder: model.build\n")],
     "pipeline.yaml:11:12: model.builder: must be 'package.module:function' (a module on the Python path or next "
     "to the spec, and a function in it), got 'model.build'"),
    ("path not found", [(MLP, "  path: trained.keras\n")],
     "pipeline.yaml:11:9: model.path: file not found: trained.keras (relative to the spec file)"),
]

# Refused while the run works (ingest, or loading the builder before training): the run started.
# The wording of value-label and bin problems is governance.groups'; these name its start, which
# says where (the data files and the spec field), and the values it must name.
RUN_CASES = [
    ("binary target with 16 values", "ingest", [(BINARY, "  target: education\n  positive_label: Bachelors\n")],
     "train.csv: target column 'education' has 16 distinct values ('Bachelors', 'HS-grad', '11th', 'Masters', "
     "'9th', ... (11 more)); data.task binary takes two: set data.task: multiclass (or regression for a number)"),
    ("regression target of text", "ingest", [('  positive_label: ">50K"\n', "  task: regression\n")],
     "train.csv: target column 'Y' holds values that are not numbers ('<=50K', '>50K'); data.task regression needs "
     "a number in every labelled row (class labels need data.task binary or multiclass)"),
    ("favorable_label that is no label", "ingest", [('  label_strip: "."\n', '  label_strip: "."\n'
                                                     "  favorable_label: rich\n")],
     "train.csv: favorable_label 'rich' is not a label of target column 'Y' (labels: '<=50K', '>50K')"),
    ("bins that do not cover the values", "ingest",
     [(SENSITIVE, "  sensitive_features: [sex, age]\n  bins: {age: [20, 60]}\n")],
     "train.csv and test.csv: data.bins for 'age' (20, 60) "),
    ("labels for values that do not occur", "ingest",
     [(SENSITIVE, SENSITIVE + "  value_labels: {sex: {Male: man, Female: woman, Other: other}}\n")],
     "train.csv and test.csv: data.value_labels for 'sex': 'Other' "),
    ("values without a label", "ingest", [(SENSITIVE, SENSITIVE + "  value_labels: {sex: {Male: man}}\n")],
     "train.csv and test.csv: data.value_labels for 'sex': "),
    ("builder module not importable", "train", [(MLP, "  builder: no_such_module:build\n")],
     "pipeline.yaml:11:12: model.builder: cannot import 'no_such_module': ModuleNotFoundError: No module named "
     "'no_such_module'"),
    ("builder function not in its module", "train", [(MLP, "  builder: team_model:buld\n")],
     "pipeline.yaml:11:12: model.builder: team_model has no function 'buld'; did you mean 'build'?"),
]

TEAM_MODEL = "def build(inputs, features):\n    return None\n"


def _edit(project: Path, edits: list[tuple[str, str]]) -> None:
    spec = project / "pipeline.yaml"
    text = spec.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    spec.write_text(text)


@pytest.mark.parametrize("case,edits,expected", SPEC_CASES, ids=[c[0] for c in SPEC_CASES])
def test_a_spec_that_does_not_fit_its_task_or_model_source_is_one_located_line(project, rai, case, edits, expected):
    _edit(project, edits)
    code, out, err = rai("run", "pipeline.yaml", "--workspace", "ws")
    assert (code, out, err) == (2, "", f"error: {expected}\n")
    started, finished = events(project / "ws")
    assert started.payload["spec"] is None and finished.payload["decision"] == "failed"
    assert finished.payload["reasons"] == [expected]


NAMED_VALUES = {"bins that do not cover the values": ("17, 18, 19, 61, 62", "widen the first or last edge"),
                "labels for values that do not occur": ("'Other'", "'Female', 'Male'"),
                "values without a label": ("'Female'",)}


@pytest.mark.parametrize("case,stage,edits,expected", RUN_CASES, ids=[c[0] for c in RUN_CASES])
def test_data_and_code_that_do_not_fit_are_one_line_and_a_failed_stage(project, rai, case, stage, edits, expected):
    (project / "team_model.py").write_text(TEAM_MODEL)
    _edit(project, edits)
    code, out, err = rai("run", "pipeline.yaml", "--workspace", "ws")
    assert code == 2 and err.count("\n") == 1 and "error" not in out
    line = err.removeprefix("error: ").rstrip("\n")
    assert line.startswith(expected) and all(value in line for value in NAMED_VALUES.get(case, ()))
    assert line == expected or case in NAMED_VALUES
    recorded = events(project / "ws")
    assert recorded[0].payload["spec"] is not None
    failed = [e.payload for e in recorded if e.kind == "stage.completed" and e.payload["status"] == "failed"]
    assert [(p["stage"], p["error"]) for p in failed] == [(stage, line)]
    finished = recorded[-1].payload
    assert (finished["decision"], finished["blocked_at"], finished["reasons"]) == ("failed", stage, [line])
    assert not (project / "ws" / "registry").exists()
