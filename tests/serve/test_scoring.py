"""The scorer without TensorFlow: rows of several requests scored in one call get their own scores."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.serving.rows import ValidRows
from lifecycle.serving.scoring import FEW_ROWS, build_scorer

from .harness import CATEGORICAL, FIXTURES, NUMERIC, TASK_FILES


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_rows_scored_together_get_the_outputs_they_get_alone_bit_for_bit(task):
    stem = TASK_FILES[task][0]
    files = {"model": (FIXTURES / f"{stem}.tflite").read_bytes(), "preprocess": (FIXTURES / f"{stem}.keras").read_bytes()}
    scorer = build_scorer("litert", files, NUMERIC, CATEGORICAL, 3 if task == "multiclass" else 1)
    assert scorer.path == "litert" and scorer.shared_rows == FEW_ROWS
    rng = np.random.default_rng(4)
    numeric = np.column_stack([rng.normal(45, 30, 40), rng.normal(40, 80, 40)])
    numeric[::6, 0] = np.nan
    colors = [[c] for c in rng.choice(["red", "green", "blue", "pink", None], 40)]
    sexes = [[s] for s in rng.choice(["Female", "Male", None], 40)]
    columns = [NUMERIC.index(c) for c in scorer.numeric]  # in the order the scorer takes them

    def rows(i: int) -> ValidRows:
        by_name = {"color": colors[i], "sex": sexes[i]}
        return ValidRows.of(numeric[i:i + 1, columns], [by_name[c] for c in scorer.categorical])

    alone = [scorer(rows(i)) for i in range(40)]
    for size in (2, 5, FEW_ROWS, FEW_ROWS + 3):  # the last is more than one call shares: scored as a batch
        for start in range(0, 40 - size, 7):
            joined = scorer(ValidRows.join([rows(i) for i in range(start, start + size)]))
            expected = np.concatenate(alone[start:start + size])
            if size <= FEW_ROWS:
                np.testing.assert_array_equal(joined, expected)
            else:
                np.testing.assert_allclose(joined, expected, rtol=1e-6, atol=1e-6)
