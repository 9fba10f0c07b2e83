"""The report's "Rows and labels" table of multiclass and regression runs: rows and the share of
each class (true and predicted), or the mean, spread and range of the target and the predictions.

Runs of ``examples/adult-education`` and ``examples/adult-hours``, ingested and evaluated by the
pipeline's stage functions (``tasks.py``); the expected numbers are computed with pandas from
the same data and predictions.
"""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pandas as pd
import pytest

from governance.report import build_report, render_report
from governance.trail import open_trail

from .tasks import add_task_run
from .test_golden import report_schema


def _report(tmp_path, task: str, keep_balance: bool = True):
    run_id, dataset, preds = add_task_run(tmp_path / "ws", task, keep_balance)
    with open_trail(tmp_path / "ws", create=False) as trail:
        return build_report(trail, run_id).to_dict(), dataset, preds


def labels_table(text: str) -> list[list[str]]:
    block = text[text.index("*Rows and labels*"):].split("\n\n")[1]
    return [[c.strip() for c in line.strip("|").split("|")] for line in block.splitlines() if not line.startswith("|---")]


def share(counts: pd.Series, label: str) -> str:
    return f"{counts[label]} ({counts[label] / counts.sum():.1%})"


@pytest.fixture(scope="module")
def multiclass(tmp_path_factory):
    return _report(tmp_path_factory.mktemp("multiclass"), "multiclass")


@pytest.fixture(scope="module")
def regression(tmp_path_factory):
    return _report(tmp_path_factory.mktemp("regression"), "regression")


def test_multiclass_rows_and_the_share_of_every_class_true_and_predicted(multiclass):
    doc, dataset, preds = multiclass
    table = labels_table(render_report(doc, "md"))
    assert table[0] == ["Class", "train", "test", "predicted (evaluate)"]
    assert table[1] == ["rows", str(len(dataset.train)), str(len(dataset.test)), str(len(preds.y_pred))]
    names = np.array(dataset.classes)
    train = pd.Series(names[dataset.train[dataset.target]]).value_counts()
    test = pd.Series(names[dataset.test[dataset.target]]).value_counts()
    predicted = pd.Series(names[preds.y_pred]).value_counts()
    assert [row[0] for row in table[2:]] == list(dataset.classes)
    for row in table[2:]:
        assert row[1:] == [share(train, row[0]), share(test, row[0]), share(predicted, row[0])], row[0]
    assert "-" not in {cell for row in table for cell in row}


def test_regression_rows_and_the_spread_of_target_and_predictions(regression):
    doc, dataset, preds = regression
    table = labels_table(render_report(doc, "md"))
    assert table[0] == ["Split", "Rows", "Mean", "Std", "Min", "Max"]
    expected = {"train": dataset.train[dataset.target], "test": dataset.test[dataset.target],
                "predicted (evaluate)": pd.Series(preds.y_pred)}
    assert [row[0] for row in table[1:]] == list(expected)
    for row in table[1:]:
        values = expected[row[0]].to_numpy(dtype=float)
        numbers = [len(values), values.mean(), values.std(), values.min(), values.max()]
        assert [float(x) for x in row[1:]] == pytest.approx(numbers, rel=5e-4), row[0]  # 4 significant digits


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_task_reports_are_valid_json_and_their_pdf_and_html_show_the_table(request, task):
    doc, _, _ = request.getfixturevalue(task)
    jsonschema.validate(json.loads(render_report(doc, "json")), report_schema(), cls=jsonschema.Draft202012Validator)
    page = render_report(doc, "html")
    assert "<caption>Rows and labels</caption>" in page and "predicted (evaluate)" in page
    header = "<th>Class</th>" if task == "multiclass" else "<th>Mean</th><th>Std</th><th>Min</th><th>Max</th>"
    assert header in page


def test_runs_recorded_before_the_predicted_balance_read_it_from_their_group_tables(tmp_path):
    doc, dataset, preds = _report(tmp_path / "m", "multiclass", keep_balance=False)
    rows = {row[0]: row for row in labels_table(render_report(doc, "md"))}
    counts = pd.Series(np.array(dataset.classes)[preds.y_pred]).value_counts()
    assert rows["degree"][3] == share(counts, "degree")  # one-vs-rest tp + fp of the overall row
    doc, _, preds = _report(tmp_path / "r", "regression", keep_balance=False)
    (predicted,) = [row for row in labels_table(render_report(doc, "md")) if row[0] == "predicted (evaluate)"]
    assert float(predicted[2]) == pytest.approx(float(np.mean(preds.y_pred)), rel=5e-4)
    assert predicted[3:] == ["-", "-", "-"]  # not recorded: said so, never made up


def test_the_binary_table_keeps_its_columns_with_train_first(reports):
    from .synthetic import PASSED_RUN

    table = labels_table(render_report(reports[PASSED_RUN], "md"))
    assert table == [["Split", "Rows", "Positive labels", "Positive rate"], ["train", "32561", "7841", "0.2408"],
                     ["test", "16281", "3846", "0.2362"]]
