"""Privacy checks: DP-SGD was used, and its (ε, δ) is within the policy's budget.

Both read the ``privacy`` evidence, the record the train stage writes (see
:mod:`governance.evidence`). The budget check recomputes epsilon from the recorded mechanism
parameters and never relies on a recorded epsilon: a wrong figure, from a bug or an edit, fails.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field

from governance.checks.base import Check, CheckParams, Outcome, register
from governance.errors import MissingEvidence
from governance.evidence import Evidence
from governance.metrics.privacy import dp_sgd_steps, record_epsilon

NO_DP = "the model was trained without differential privacy (privacy.dp is false)"
# A recorded epsilon is written by the same accounting code; anything beyond float noise is a
# different computation or an edited record.
EPSILON_RTOL = 1e-6
_MECHANISM = ("noise_multiplier", "sampling_rate", "steps", "delta")


@register("privacy.dp_required")
class DpRequired(Check):
    """The model was trained with differential privacy (DP-SGD)."""

    stages = ("train", "deploy")

    class Params(CheckParams):
        pass

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        record = evidence.require("privacy")
        dp = bool(record.get("dp"))
        message = "trained with DP-SGD" if dp else NO_DP
        return Outcome(dp, message, observed=dp, threshold=True, evidence=_summary(record))


@register("privacy.epsilon_budget")
class EpsilonBudget(Check):
    """DP-SGD's epsilon, recomputed from its recorded parameters, and its delta are within budget."""

    stages = ("train", "deploy")

    class Params(CheckParams):
        max_epsilon: float = Field(gt=0)
        max_delta: float = Field(1e-5, gt=0, lt=1)
        accountant: Literal["rdp", "pld"] = "rdp"

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        record = evidence.require("privacy")
        if not record.get("dp"):
            return Outcome(False, f"no privacy budget can hold: {NO_DP}", threshold=params.max_epsilon)
        for name in _MECHANISM:
            if record.get(name) is None:
                raise MissingEvidence("privacy", f"DP-SGD parameter '{name}' is not recorded")
        epsilon = record_epsilon(record, params.accountant)
        delta = float(record["delta"])
        problems = _inconsistencies(record, epsilon, params.accountant)
        if epsilon > params.max_epsilon:
            problems.append(f"epsilon {epsilon:.4g} exceeds the budget {params.max_epsilon:g}")
        if delta > params.max_delta:
            problems.append(f"delta {delta:.3g} exceeds the budget {params.max_delta:.3g}")
        summary = f"epsilon {epsilon:.4g} at delta {delta:.3g} ({params.accountant.upper()})"
        if problems:
            message = f"{summary}: " + "; ".join(problems)
        else:
            message = f"{summary} within epsilon <= {params.max_epsilon:g}, delta <= {params.max_delta:.3g}"
        ev = {**_summary(record), "epsilon_recomputed": epsilon, "budget_accountant": params.accountant,
              "problems": problems}
        return Outcome(not problems, message, observed=epsilon, threshold=params.max_epsilon, evidence=ev)


def _inconsistencies(record: dict[str, Any], epsilon: float, accountant: str) -> list[str]:
    """Ways the record contradicts itself: recorded epsilons or a schedule that do not add up."""
    return _epsilon_claims(record, epsilon, accountant) + _schedule_problems(record)


def _epsilon_claims(record: dict[str, Any], epsilon: float, accountant: str) -> list[str]:
    claims = [("epsilon", record.get("accountant") or "rdp")]
    if accountant == "pld":  # the PLD figure beside it is checked when it costs nothing extra
        claims.append(("epsilon_pld", "pld"))
    problems = []
    for key, claimed_accountant in claims:
        if record.get(key) is None:
            continue
        expected = epsilon if claimed_accountant == accountant else record_epsilon(record, claimed_accountant)
        if not math.isclose(float(record[key]), expected, rel_tol=EPSILON_RTOL, abs_tol=1e-12):
            problems.append(
                f"recorded {key} {float(record[key]):.6g} disagrees with {expected:.6g} recomputed "
                f"({claimed_accountant.upper()}) from the recorded parameters"
            )
    return problems


def _schedule_problems(record: dict[str, Any]) -> list[str]:
    examples, batch_size, epochs = (record.get(k) for k in ("examples", "batch_size", "epochs"))
    if not (examples and batch_size):
        return []
    problems = []
    rate = batch_size / examples
    if not math.isclose(float(record["sampling_rate"]), rate, rel_tol=1e-9):
        problems.append(f"recorded sampling rate {record['sampling_rate']:.6g} is not batch_size/examples = {rate:.6g}")
    # Fewer steps than the epochs imply would understate epsilon; more is only conservative.
    if epochs and int(record["steps"]) < dp_sgd_steps(examples, batch_size, epochs):
        problems.append(
            f"recorded steps {record['steps']} are fewer than the "
            f"{dp_sgd_steps(examples, batch_size, epochs)} that {epochs:g} epochs take"
        )
    return problems


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("dp", "epsilon", "epsilon_pld", "target_epsilon", "delta", "noise_multiplier", "l2_norm_clip",
            "sampling_rate", "steps", "epochs", "batch_size", "examples", "microbatches", "accountant")
    return {k: record[k] for k in keys if k in record}
