"""Hostile pipeline specs: values that used to hang, abort or crash ``rai run`` before any stage.

Each file in ``specs/`` is a whole spec with one bad setting. Every one is refused with one
located line (``FILE:LINE:COL: field: message``) and exit 2 before any data is read or
TensorFlow is imported, and the trail records the attempt as a failed run. The settings that
used to hang for minutes (infinite or extreme privacy parameters) or abort the interpreter
(``hidden_units: [0]``, a oneDNN SIGABRT) also run in a child process under a deadline.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from governance.trail import open_trail

from .rai_case import one_clean_line, run

SPECS = Path(__file__).parent / "specs"
ADULT = Path(__file__).resolve().parents[2] / "examples" / "adult-income" / "data"
POLICY = Path(__file__).resolve().parents[1] / "pipeline" / "policy.yaml"

# (spec file, the one line after "error: ")
CASES = [
    ("target-epsilon-inf", "19:19: privacy.target_epsilon: must be a finite number in (0, 100], got inf"),
    ("target-epsilon-huge", "19:19: privacy.target_epsilon: must be a number in (0, 100], got 1000000.0"),
    ("target-epsilon-string", "19:19: privacy.target_epsilon: must be a number in (0, 100], got '4'"),
    ("noise-multiplier-1e999", "19:21: privacy.noise_multiplier: must be a finite number in [0.3, 1000], got inf"),
    ("noise-multiplier-nan", "19:21: privacy.noise_multiplier: must be a finite number in [0.3, 1000], got nan"),
    ("noise-multiplier-tiny", "19:21: privacy.noise_multiplier: must be a number in [0.3, 1000], got 0.01"),
    ("noise-multiplier-bool", "19:21: privacy.noise_multiplier: must be a number in [0.3, 1000], got true"),
    ("delta-tiny", "20:10: privacy.delta: must be a number in [1e-12, 0.1], got 1e-300"),
    ("delta-zero", "20:10: privacy.delta: must be a number in [1e-12, 0.1], got 0"),
    ("l2-norm-clip-inf", "20:17: privacy.l2_norm_clip: must be a finite number in (0, 1000], got inf"),
    ("microbatches-not-dividing", "20:17: privacy.microbatches: 3 must divide model.batch_size 128"),
    ("dp-off-with-noise", "19:21: privacy.noise_multiplier: has no effect while privacy.dp is false (the model "
     "would train without DP-SGD); set dp: true or remove it"),
    ("hidden-units-zero", "12:18: model.hidden_units[0]: must be an integer in [1, 4096], got 0"),
    ("hidden-units-negative", "12:18: model.hidden_units[0]: must be an integer in [1, 4096], got -4"),
    ("hidden-units-huge", "12:22: model.hidden_units[1]: must be an integer in [1, 4096], got 100000000"),
    ("hidden-units-bool", "12:18: model.hidden_units[0]: must be an integer in [1, 4096], got true"),
    ("hidden-units-too-many-layers", "12:17: model.hidden_units: must have at most 16 items, got 17"),
    ("seed-negative", "10:9: data.seed: must be an integer in [0, 4294967295], got -1"),
    ("seed-too-large", "10:9: data.seed: must be an integer in [0, 4294967295], got 18446744073709551616"),
    ("seed-bool", "10:9: data.seed: must be an integer in [0, 4294967295], got true"),
    ("seed-string", "10:9: data.seed: must be an integer in [0, 4294967295], got '42'"),
    ("epochs-float", "13:11: model.epochs: must be an integer in [1, 1000], got 2.0"),
    ("epochs-5000-digits", "13:11: model.epochs: integer of 5000 digits is too large"),
    ("batch-size-huge", "14:15: model.batch_size: must be an integer in [1, 1000000], got an integer of 31 digits"),
    ("learning-rate-nan", "15:18: model.learning_rate: must be a finite number in (0, 1], got nan"),
    ("learning-rate-string", "15:18: model.learning_rate: must be a number in (0, 1], got '0.001'"),
    ("dropout-one", "16:12: model.dropout: must be a number in [0, 1), got 1.0"),
    ("test-fraction-bool", "4:18: data.test_fraction: must be a number in (0, 1), got true"),
    ("representative-samples-zero", "21:27: optimize.representative_samples: must be an integer in [1, 100000], got 0"),
    ("sensitive-feature-repeated", "8:35: data.sensitive_features[2]: 'sex' is listed twice (also at [0]); list it once"),
    ("numeric-and-categorical", "11:37: data.categorical_features[1]: 'age' is also in data.numeric_features; "
     "a column has one type"),
    ("target-as-feature", "10:27: data.numeric_features[1]: 'Y' is the target (data.target); the label cannot "
     "also be listed here"),
    ("dropped-sensitive-feature", "9:26: data.drop_columns[1]: 'race' is also in data.sensitive_features; "
     "a dropped column cannot be audited"),
    ("sensitive-feature-fed-while-excluded", "11:37: data.categorical_features[1]: 'sex' is sensitive and "
     "data.use_sensitive_as_features is false; remove it here or set use_sensitive_as_features: true"),
    ("modes-repeated", "20:32: optimize.modes[2]: 'dynamic_range' is listed twice (also at [0]); list it once"),
    ("model-name-path", "23:15: deploy.model_name: must be letters, digits, '.', '_' and '-' (up to 64, starting "
     "with a letter or digit, no '..'), got '../credit-model'"),
    ("model-name-dot-dot", "23:15: deploy.model_name: must be letters, digits, '.', '_' and '-' (up to 64, "
     "starting with a letter or digit, no '..'), got 'credit..model'"),
    ("positive-label-float", "6:19: data.positive_label: must be a string, an integer or true or false, got 1.5"),
    ("train-nul-byte", "3:10: data.train: control character U+0000 is not allowed in YAML"),
    ("train-directory", "3:10: data.train: .: is a directory; a regular file is needed here"),
    ("train-unknown-home", "3:10: data.train: file not found: ~no-such-user-here/train.csv (relative to the spec file)"),
    ("train-name-too-long", "3:10: data.train: " + "t" * 300 + ".csv: cannot read file: File name too long"),
]
# The cases that used to hang for minutes or kill the interpreter: also run in a child process.
HANG_OR_ABORT = ["target-epsilon-inf", "target-epsilon-huge", "noise-multiplier-1e999", "noise-multiplier-tiny",
                 "hidden-units-zero", "hidden-units-negative", "seed-negative", "sensitive-feature-repeated",
                 "numeric-and-categorical"]


@pytest.fixture(scope="module")
def adult_rows(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("adult-rows")
    for name, rows, target in (("adult.data.csv.gz", 300, "train.csv"), ("adult.test.csv.gz", 100, "test.csv")):
        pd.read_csv(ADULT / name, nrows=rows, skipinitialspace=True, dtype=str).to_csv(out / target, index=False)
    return out


@pytest.fixture
def project(tmp_path, adult_rows, monkeypatch) -> Path:
    """The spec files, the data they name and the test policy in the working directory."""
    for path in [*SPECS.glob("*.yaml"), adult_rows / "train.csv", adult_rows / "test.csv"]:
        shutil.copy(path, tmp_path / path.name)
    shutil.copy(POLICY, tmp_path / "policy.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_spec_fixture_has_a_case():
    assert sorted(p.stem for p in SPECS.glob("*.yaml")) == sorted(name for name, _ in CASES)


@pytest.mark.parametrize("name, message", CASES, ids=[c[0] for c in CASES])
def test_hostile_spec_is_one_located_line_and_a_failed_run(project, rai, name, message):
    spec = f"{name}.yaml"
    code, out, err = run(rai, "run", spec, "--workspace", "ws", seconds=30)
    assert code == 2 and out == ""
    line = one_clean_line(err, f"error: {spec}:{message}")
    with open_trail(project / "ws", create=False) as trail:
        started, finished = trail.events()
    assert (started.kind, started.payload["spec"], started.payload["spec_file"]) == ("run.started", None, spec)
    assert finished.kind == "run.finished" and finished.payload["decision"] == "failed"
    assert finished.payload["reasons"] == [line.removeprefix("error: ")]


# Prints whether TensorFlow was imported, after the command has exited.
_CHILD = """
import atexit, sys
atexit.register(lambda: print("tensorflow imported:", any(m.split(".")[0] in ("tensorflow", "tf_keras")
                                                          for m in sys.modules)))
from rai.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("name", HANG_OR_ABORT)
def test_spec_that_hung_or_aborted_fails_fast_in_a_child_process(project, name):
    message = dict(CASES)[name]
    done = subprocess.run([sys.executable, "-c", _CHILD, "run", f"{name}.yaml", "--workspace", "ws"],
                          cwd=project, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    one_clean_line(done.stderr, f"error: {name}.yaml:{message}")
    assert done.stdout.strip() == "tensorflow imported: False"
