"""Privacy accounting and checks; epsilon checked against tensorflow-privacy and dp-accounting."""

from __future__ import annotations

import importlib
import math
import os
import subprocess
import sys

import pytest

from governance.evidence import Evidence
from governance.metrics.privacy import (
    PLD_VALUE_DISCRETIZATION,
    calibrate_noise_multiplier,
    dp_sgd_epsilon,
    dp_sgd_steps,
    effective_noise_multiplier,
    privacy_statement,
    record_epsilon,
)
from governance.vocabulary import Status

from .cases import dp_record
from .support import family_cases, run_rule

ADULT = 32561
# Adult-like grid (the bundled data, batch 256) plus a large and a full-batch configuration.
GRID = [
    (ADULT, 256, epochs, noise, delta)
    for epochs in (5, 10, 15)
    for noise in (0.5, 0.8, 1.1, 1.5, 2.0)
    for delta in (1e-5, 1e-6)
] + [(ADULT, 256, 2.5, 1.0, 1e-5), (60000, 256, 60, 1.1, 1e-5), (1000, 1000, 3, 1.0, 1e-5), (50000, 128, 1, 0.7, 1e-5)]


@pytest.fixture(scope="module")
def tfp_lib():
    """tensorflow-privacy's accounting module, imported without its package ``__init__``.

    That ``__init__`` imports ``tensorflow_estimator``, which TF >= 2.16 lacks; the library's
    own switch skips it. Legacy Keras must be chosen before anything imports TensorFlow.
    """
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    sys.skip_tf_privacy_import = True
    return importlib.import_module("tensorflow_privacy.privacy.analysis.compute_dp_sgd_privacy_lib")


# --- epsilon against the reference libraries ---------------------------------------------------


@pytest.mark.tf
@pytest.mark.parametrize("examples, batch_size, epochs, noise, delta", GRID)
def test_rdp_epsilon_equals_tensorflow_privacy(tfp_lib, examples, batch_size, epochs, noise, delta):
    expected, _order = tfp_lib.compute_dp_sgd_privacy(examples, batch_size, noise, epochs, delta)
    steps = dp_sgd_steps(examples, batch_size, epochs)
    ours = dp_sgd_epsilon(noise, batch_size / examples, steps, delta)
    assert ours == pytest.approx(expected, rel=1e-9)


@pytest.mark.tf
@pytest.mark.parametrize("microbatching", [False, True])
@pytest.mark.parametrize("epochs, noise", [(3, 1.5), (10, 2.0)])
def test_pld_epsilon_equals_tensorflow_privacy(tfp_lib, epochs, noise, microbatching):
    """tensorflow-privacy's PLD figure (its statement's Poisson line), with and without shared
    microbatches, equals ours when the record says how clipping was done."""
    q = 256 / ADULT
    expected = tfp_lib._compute_dp_sgd_example_privacy(
        epochs, noise, 1e-5, used_microbatching=microbatching, poisson_subsampling_probability=q,
        accountant_type=tfp_lib.AccountantType.PLD,
    )
    record = dp_record(noise=noise, epochs=epochs, microbatches=32 if microbatching else 256)
    assert record["steps"] == math.ceil(epochs / q)  # the step rule of that function
    assert record_epsilon(record, "pld") == pytest.approx(expected, rel=1e-9)


@pytest.mark.tf
def test_statement_figure_is_at_most_our_figure(tfp_lib):
    """tensorflow-privacy's statement takes RDP over dp-accounting's finer default orders, so it
    can only be tighter than compute_dp_sgd_privacy's (ours); on the Adult grid by under 6%."""
    for _, _, epochs, noise, delta in GRID[:30]:
        finer = tfp_lib._compute_dp_sgd_example_privacy(
            epochs, noise, delta, used_microbatching=False, poisson_subsampling_probability=256 / ADULT
        )
        ours = dp_sgd_epsilon(noise, 256 / ADULT, dp_sgd_steps(ADULT, 256, epochs), delta)
        assert finer * (1 - 1e-12) <= ours <= finer * 1.06


@pytest.mark.parametrize("noise, epochs", [(2.0, 3), (2.0, 15)])
def test_pld_epsilon_equals_dp_accounting(noise, epochs):
    import dp_accounting
    from dp_accounting.pld import PLDAccountant

    q, steps = 256 / ADULT, dp_sgd_steps(ADULT, 256, epochs)
    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(noise)), steps
    )
    accountant = PLDAccountant(value_discretization_interval=PLD_VALUE_DISCRETIZATION)
    expected = accountant.compose(event).get_epsilon(1e-5)
    assert dp_sgd_epsilon(noise, q, steps, 1e-5, "pld") == pytest.approx(expected, rel=1e-12)
    # PLD is the tighter accountant.
    assert dp_sgd_epsilon(noise, q, steps, 1e-5, "pld") < dp_sgd_epsilon(noise, q, steps, 1e-5, "rdp")


def test_accounting_and_checks_do_not_import_tensorflow():
    code = (
        "import sys\n"
        "import governance.checks\n"
        "from governance.metrics.privacy import dp_sgd_epsilon\n"
        "dp_sgd_epsilon(1.0, 0.01, 100, 1e-5); dp_sgd_epsilon(1.0, 0.01, 100, 1e-5, 'pld')\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tensorflow_privacy', 'lifecycle'))\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- steps, edge cases, argument errors -------------------------------------------------------


@pytest.mark.parametrize("examples, batch_size, epochs, steps", [
    (ADULT, 256, 10, 1272),  # 127.19 batches per epoch
    (ADULT, 256, 2.5, 318),
    (1000, 100, 3, 30),
    (1000, 1000, 1, 1),
    (10, 3, 1, 4),
])
def test_dp_sgd_steps(examples, batch_size, epochs, steps):
    assert dp_sgd_steps(examples, batch_size, epochs) == steps


@pytest.mark.parametrize("args, message", [
    ((100, 0, 1), "batch_size"), ((100, 200, 1), "batch_size"), ((100, 10, 0), "epochs"),
])
def test_dp_sgd_steps_rejects(args, message):
    with pytest.raises(ValueError, match=message):
        dp_sgd_steps(*args)


def test_epsilon_edge_cases():
    assert dp_sgd_epsilon(0.0, 0.01, 100, 1e-5) == math.inf  # no noise, no privacy
    assert dp_sgd_epsilon(0.0, 0.01, 100, 1e-5, "pld") == math.inf
    assert dp_sgd_epsilon(1.0, 0.01, 0, 1e-5) == 0.0  # the data was never touched
    assert dp_sgd_epsilon(1.0, 0.01, 200, 1e-5) > dp_sgd_epsilon(1.0, 0.01, 100, 1e-5)
    assert dp_sgd_epsilon(2.0, 0.01, 100, 1e-5) < dp_sgd_epsilon(1.0, 0.01, 100, 1e-5)


@pytest.mark.parametrize("kwargs, message", [
    ({"noise_multiplier": -1.0}, "noise_multiplier must be >= 0, got -1.0"),
    ({"sampling_rate": 0.0}, r"sampling_rate must be in \(0, 1\], got 0.0"),
    ({"sampling_rate": 1.5}, r"sampling_rate must be in \(0, 1\], got 1.5"),
    ({"steps": 2.5}, "steps must be a non-negative integer, got 2.5"),
    ({"delta": 0.0}, r"delta must be in \(0, 1\), got 0.0"),
    ({"accountant": "moments"}, "accountant must be one of rdp, pld, got 'moments'"),
])
def test_epsilon_rejects_bad_arguments(kwargs, message):
    args = {"noise_multiplier": 1.0, "sampling_rate": 0.01, "steps": 10, "delta": 1e-5, **kwargs}
    with pytest.raises(ValueError, match=message):
        dp_sgd_epsilon(**args)


def test_microbatches_halve_the_noise_that_counts():
    assert effective_noise_multiplier(1.2) == 1.2
    assert effective_noise_multiplier(1.2, batch_size=256, microbatches=256) == 1.2
    assert effective_noise_multiplier(1.2, batch_size=256, microbatches=32) == 0.6


# --- calibration ------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [0.5, 1.0, 3.0, 8.0])
@pytest.mark.parametrize("epochs", [5, 15])
def test_calibrated_noise_is_the_smallest_meeting_the_target(target, epochs):
    q, steps = 256 / ADULT, dp_sgd_steps(ADULT, 256, epochs)
    noise = calibrate_noise_multiplier(target, q, steps, 1e-5)
    assert dp_sgd_epsilon(noise, q, steps, 1e-5) <= target
    assert dp_sgd_epsilon(0.99 * noise, q, steps, 1e-5) > target
    assert dp_sgd_epsilon(noise / 1.001, q, steps, 1e-5) > target  # within the default tol


def test_calibration_with_pld():
    q, steps = 256 / ADULT, dp_sgd_steps(ADULT, 256, 10)
    # A strict target keeps the noise high, where PLD evaluations are cheap.
    noise = calibrate_noise_multiplier(0.5, q, steps, 1e-5, "pld")
    assert dp_sgd_epsilon(noise, q, steps, 1e-5, "pld") <= 0.5
    assert dp_sgd_epsilon(0.99 * noise, q, steps, 1e-5, "pld") > 0.5
    assert noise < calibrate_noise_multiplier(0.5, q, steps, 1e-5, "rdp")  # tighter accounting


def test_calibration_rejects_unreachable_and_bad_targets():
    # Even a noise multiplier of 1000 leaves epsilon at ~0.008 here.
    with pytest.raises(ValueError, match="no noise multiplier up to 1000 reaches epsilon 0.005"):
        calibrate_noise_multiplier(0.005, 0.01, 100, 1e-5)
    with pytest.raises(ValueError, match="target_epsilon must be positive"):
        calibrate_noise_multiplier(0.0, 0.01, 100, 1e-5)
    with pytest.raises(ValueError, match="accountant must be one of"):
        calibrate_noise_multiplier(1.0, 0.01, 100, 1e-5, "moments")


# --- statement --------------------------------------------------------------------------------


def test_statement_says_what_is_and_is_not_covered():
    record = dp_record(noise=1.1, epochs=10)
    text = privacy_statement(record)
    assert f"({record['epsilon']:.3g}, 1e-05)-differential privacy" in text
    assert "32,561 training examples" in text and "RDP accounting" in text
    assert "adding or removing any single training record" in text
    assert "Poisson sampling" in text
    assert "What it does not cover" in text and "several records" in text
    assert "Caution" not in text


def test_statement_without_dp_and_with_a_weak_delta():
    assert "without differential privacy" in privacy_statement({"dp": False})
    weak = privacy_statement(dp_record(examples=1000, batch_size=100, delta=0.01))
    assert "Caution: delta 0.01 is not smaller than 1/1000" in weak


def test_statement_recomputes_a_missing_epsilon():
    record = dp_record(epsilon=None)
    assert f"{dp_record()['epsilon']:.3g}" in privacy_statement(record)


# --- checks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, factory, params, expected", family_cases("privacy"))
def test_table_through_the_engine(name, factory, params, expected):
    finding = run_rule(name, factory(), params)
    assert finding.status is (Status.PASSED if expected else Status.FAILED), finding.message


def test_budget_recomputes_instead_of_trusting_the_record():
    record = dp_record(noise=1.0, epsilon=None)  # nothing recorded: still computed
    finding = run_rule("privacy.epsilon_budget", Evidence(privacy=record), {"max_epsilon": 8.0})
    assert finding.status is Status.PASSED
    assert finding.observed == pytest.approx(dp_record(noise=1.0)["epsilon"], rel=1e-12)
    assert finding.threshold == 8.0

    lied = dp_record(noise=0.5, epochs=15, epsilon=4.0)  # really about 13
    finding = run_rule("privacy.epsilon_budget", Evidence(privacy=lied), {"max_epsilon": 8.0})
    assert finding.status is Status.FAILED
    assert "recorded epsilon 4 disagrees with" in finding.message
    assert "exceeds the budget 8" in finding.message


def test_budget_charges_shared_microbatches():
    # The record claims the per-example figure although 32 microbatches of 8 shared the clipping.
    record = dp_record(noise=1.5, microbatches=32)
    finding = run_rule("privacy.epsilon_budget", Evidence(privacy=record), {"max_epsilon": 8.0})
    assert finding.status is Status.FAILED and "disagrees" in finding.message
    honest = dict(record, epsilon=record_epsilon(record))
    assert run_rule("privacy.epsilon_budget", Evidence(privacy=honest), {"max_epsilon": 8.0}).status is Status.PASSED


def test_budget_with_pld_checks_the_recorded_pld_figure():
    record = dp_record(noise=2.0)
    record["epsilon_pld"] = record_epsilon(record, "pld")
    params = {"max_epsilon": 8.0, "accountant": "pld"}
    finding = run_rule("privacy.epsilon_budget", Evidence(privacy=record), params)
    assert finding.status is Status.PASSED and finding.observed == record["epsilon_pld"]
    assert finding.evidence["budget_accountant"] == "pld"
    record["epsilon_pld"] = 0.1
    finding = run_rule("privacy.epsilon_budget", Evidence(privacy=record), params)
    assert finding.status is Status.FAILED and "recorded epsilon_pld 0.1 disagrees" in finding.message


def test_budget_flags_an_inconsistent_schedule():
    finding = run_rule("privacy.epsilon_budget", Evidence(privacy=dp_record(sampling_rate=0.001)),
                       {"max_epsilon": 100.0})
    assert finding.status is Status.FAILED and "is not batch_size/examples" in finding.message
    finding = run_rule("privacy.epsilon_budget", Evidence(privacy=dp_record(steps=1000)), {"max_epsilon": 100.0})
    assert "recorded steps 1000 are fewer than the 1272 that 10 epochs take" in finding.message
    more = dp_record(steps=1280, epsilon=None)  # every partial batch counted: only conservative
    assert run_rule("privacy.epsilon_budget", Evidence(privacy=more), {"max_epsilon": 8.0}).status is Status.PASSED


def test_no_dp_fails_both_checks_clearly():
    for check, params in (("privacy.dp_required", {}), ("privacy.epsilon_budget", {"max_epsilon": 8.0})):
        finding = run_rule(check, Evidence(privacy={"dp": False}), params)
        assert finding.status is Status.FAILED
        assert "trained without differential privacy" in finding.message


@pytest.mark.parametrize("check, params", [("privacy.dp_required", {}), ("privacy.epsilon_budget", {"max_epsilon": 8.0})])
def test_missing_privacy_evidence_is_an_error(check, params):
    finding = run_rule(check, Evidence(), params, stage="deploy")
    assert finding.status is Status.ERROR
    assert finding.message == "missing evidence 'privacy' at stage 'deploy'"


def test_missing_mechanism_parameter_is_an_error():
    record = dp_record()
    del record["noise_multiplier"]
    finding = run_rule("privacy.epsilon_budget", Evidence(privacy=record), {"max_epsilon": 8.0})
    assert finding.status is Status.ERROR
    assert "DP-SGD parameter 'noise_multiplier' is not recorded" in finding.message


@pytest.mark.parametrize("params, message", [
    ({}, "max_epsilon"),
    ({"max_epsilon": 0}, "greater than 0"),
    ({"max_epsilon": 8, "max_delta": 1}, "less than 1"),
    ({"max_epsilon": 8, "accountant": "moments"}, "'rdp' or 'pld'"),
    ({"max_epsilon": 8, "epsilon": 1}, "Extra inputs are not permitted"),
])
def test_budget_params_are_validated(params, message):
    from governance.checks.base import get_check

    with pytest.raises(ValueError, match=message):
        get_check("privacy.epsilon_budget").Params(**params)
