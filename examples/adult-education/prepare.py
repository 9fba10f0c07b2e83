"""Write this example's data from the bundled UCI Adult files (deterministic: same files, same output).

The target ``education_level`` groups Adult's 16 education values into four levels; ``sex`` is
written as 1 (male) and 2 (female), the way many raw data sets code it (``pipeline.yaml`` gives
the codes readable names with ``data.value_labels``). The education columns and the income label
are left out; 10,000 training and 5,000 test rows are kept.

    python examples/adult-education/prepare.py [OUT_DIR]    # default: this example's data/
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ADULT = HERE.parent / "adult-income" / "data"
# Adult's education-num (1 = Preschool ... 16 = Doctorate) to a level.
LEVELS = [(8, "no-diploma"), (9, "high-school"), (12, "some-college"), (16, "degree")]
ROWS = {"train": 10_000, "test": 5_000}


def level(years: int) -> str:
    return next(name for top, name in LEVELS if years <= top)


def prepare(source: Path, rows: int, target: Path) -> None:
    frame = pd.read_csv(source, skipinitialspace=True, dtype=str, keep_default_na=False)
    frame = frame.sample(n=rows, random_state=42).reset_index(drop=True)
    frame["education_level"] = frame["education-num"].astype(int).map(level)
    frame["sex"] = frame["sex"].map({"Male": "1", "Female": "2"})
    frame = frame.drop(columns=["education", "education-num", "fnlwgt", "Y"])
    frame.to_csv(target, index=False, compression={"method": "gzip", "mtime": 0})


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "data"
    out.mkdir(exist_ok=True)
    prepare(ADULT / "adult.data.csv.gz", ROWS["train"], out / "education.train.csv.gz")
    prepare(ADULT / "adult.test.csv.gz", ROWS["test"], out / "education.test.csv.gz")
