"""Privacy accounting for DP-SGD: epsilon from recorded parameters, noise calibration, statements.

DP-SGD is modelled as ``steps`` compositions of a Poisson-subsampled Gaussian mechanism: each
example joins each batch independently with probability ``sampling_rate`` (batch size / number
of examples), and the sum of per-example gradients, each clipped to L2 norm ``l2_norm_clip``, gets
Gaussian noise of standard deviation ``noise_multiplier * l2_norm_clip``. The guarantee is
example-level (ε, δ)-DP under add-or-remove-one adjacency and covers every intermediate model,
not only the final one.

Two accountants, both from dp-accounting (pure Python and numpy; no TensorFlow):

``rdp``
    Rényi DP over :data:`RDP_ORDERS`, the orders and step rule of tensorflow-privacy 0.9.0's
    ``compute_dp_sgd_privacy``, so the figure equals the one that function reports.
``pld``
    Privacy loss distributions, discretized with interval :data:`PLD_VALUE_DISCRETIZATION`
    (dp-accounting's default and what tensorflow-privacy's PLD statement uses). dp-accounting
    builds the subsampled Gaussian's distribution with its pessimistic "connect the dots"
    construction, so discretization can only overstate epsilon; 1e-4 keeps that overstatement
    far below the reported precision at a cost of about a second per evaluation.

dp-accounting is imported inside the functions: registering the privacy checks must stay cheap
for commands such as ``rai audit`` that never account for privacy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

ACCOUNTANTS = ("rdp", "pld")

#: Rényi orders of tensorflow-privacy 0.9.0's ``compute_dp_sgd_privacy``.
RDP_ORDERS: tuple[float, ...] = (
    (1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 4.5) + tuple(range(5, 64)) + (128, 256, 512)
)

#: Width of the privacy-loss buckets of the PLD accountant.
PLD_VALUE_DISCRETIZATION = 1e-4

# Calibration never searches beyond this noise multiplier: such noise drowns any gradient, and
# far beyond it RDP's arithmetic fails, so a target that needs more is reported as unreachable.
_MAX_NOISE_MULTIPLIER = 1000.0


def dp_sgd_steps(examples: int, batch_size: int, epochs: float) -> int:
    """Number of noisy steps DP-SGD accounting charges for ``epochs`` passes over the data.

    Mirrors ``compute_dp_sgd_privacy``: ``ceil(epochs * examples / batch_size)``, i.e. the expected
    number of Poisson-sampled batches of expected size ``batch_size``.
    """
    if examples < 1 or batch_size < 1 or batch_size > examples:
        raise ValueError(f"need 1 <= batch_size <= examples, got batch_size={batch_size}, examples={examples}")
    if not epochs > 0:
        raise ValueError(f"epochs must be positive, got {epochs}")
    return int(math.ceil(epochs * examples / batch_size))


def dp_sgd_epsilon(
    noise_multiplier: float, sampling_rate: float, steps: int, delta: float, accountant: str = "rdp"
) -> float:
    """Epsilon of DP-SGD at ``delta``: ``steps`` Poisson-subsampled Gaussian mechanisms.

    Parameters
    ----------
    noise_multiplier : noise standard deviation over the clipping norm (0 gives ``inf``)
    sampling_rate : probability that an example is in a batch, in (0, 1]
    steps : number of noisy gradient steps (0 gives 0)
    delta : target delta, in (0, 1)
    accountant : ``"rdp"`` (tensorflow-privacy's figure) or ``"pld"`` (tighter)

    Returns
    -------
    float
        The smallest epsilon the accountant can certify; ``inf`` without noise.
    """
    return _epsilon(noise_multiplier, sampling_rate, steps, delta, accountant, PLD_VALUE_DISCRETIZATION)


def _epsilon(noise_multiplier, sampling_rate, steps, delta, accountant, discretization) -> float:
    event = _dp_sgd_event(noise_multiplier, sampling_rate, steps, delta)
    if event is None:  # no step touched the data
        return 0.0
    return float(_fresh_accountant(accountant, discretization).compose(event).get_epsilon(delta))


def calibrate_noise_multiplier(
    target_epsilon: float,
    sampling_rate: float,
    steps: int,
    delta: float,
    accountant: str = "rdp",
    tol: float = 1e-3,
) -> float:
    """The smallest noise multiplier whose epsilon is at most ``target_epsilon``.

    Run before training so the budget is met by construction. A bracketing search on a log
    scale keeps its upper end feasible, so the result always meets the target under
    ``accountant``; it is within a factor ``1 + tol`` of the smallest feasible noise multiplier.

    Raises
    ------
    ValueError
        If an argument is out of range or no noise multiplier up to 1000 meets the target.
    """
    if not target_epsilon > 0:
        raise ValueError(f"target_epsilon must be positive, got {target_epsilon}")
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    _check_accountant(accountant)
    _dp_sgd_event(1.0, sampling_rate, steps, delta)  # validate before searching

    def epsilon_with(accountant: str, discretization: float = PLD_VALUE_DISCRETIZATION):
        return lambda noise: _epsilon(noise, sampling_rate, steps, delta, accountant, discretization)

    guess = _search(epsilon_with("rdp"), target_epsilon, 1.0, 2.0, tol)
    if accountant == "rdp":
        return guess
    # A PLD evaluation costs ~100 RDP ones. RDP's answer is slightly above PLD's (PLD is the
    # tighter bound); a 10x coarser PLD grid narrows it cheaply, and on the reporting grid the
    # answer is then usually confirmed by two evaluations a factor 1 + tol apart.
    guess = _search(epsilon_with("pld", 10 * PLD_VALUE_DISCRETIZATION), target_epsilon, guess, 1.25, tol)
    return _search(epsilon_with("pld"), target_epsilon, guess * math.sqrt(1 + tol), 1 + tol, tol)


def _search(epsilon_of: Callable[[float], float], target: float, start: float, step: float, tol: float) -> float:
    """Smallest noise with ``epsilon_of(noise) <= target``, to a factor ``1 + tol``.

    Walks from ``start`` by factors ``step``, squared at every move so a poor start costs few
    evaluations, until the target is bracketed; then bisects the bracket on a log scale.
    """
    if epsilon_of(start) <= target:
        low, high = start / step, start
        while epsilon_of(low) <= target:
            step *= step
            low, high = low / step, low
    else:
        low, high = start, min(start * step, _MAX_NOISE_MULTIPLIER)
        while epsilon_of(high) > target:
            if high >= _MAX_NOISE_MULTIPLIER:
                raise ValueError(f"no noise multiplier up to {_MAX_NOISE_MULTIPLIER:g} reaches epsilon {target}")
            step *= step
            low, high = high, min(high * step, _MAX_NOISE_MULTIPLIER)
    # The small slack keeps a bracket of exactly 1 + tol (as the last PLD stage builds) final.
    while high / low > (1 + tol) * (1 + 1e-12):
        middle = math.sqrt(low * high)
        if epsilon_of(middle) <= target:
            high = middle
        else:
            low = middle
    return high


def effective_noise_multiplier(
    noise_multiplier: float, batch_size: int | None = None, microbatches: int | None = None
) -> float:
    """The noise multiplier the accounting may use, given how gradients were clipped.

    With microbatches of more than one example, adding or removing an example can change a
    clipped microbatch gradient by twice the clipping norm, so the noise is worth half as much
    (tensorflow-privacy's ``used_microbatching``). Per-example clipping (``microbatches`` absent or
    equal to ``batch_size``) leaves it unchanged.
    """
    if microbatches is None or batch_size is None or microbatches >= batch_size:
        return float(noise_multiplier)
    return float(noise_multiplier) / 2


def record_epsilon(record: dict[str, Any], accountant: str | None = None) -> float:
    """Recompute epsilon from a DP-SGD record (the ``privacy`` evidence), ignoring its ``epsilon``.

    Uses ``noise_multiplier``, ``sampling_rate``, ``steps`` and ``delta``, and halves the noise when
    the optional ``microbatches`` is smaller than ``batch_size`` (see
    :func:`effective_noise_multiplier`). ``accountant`` defaults to the record's own, else ``rdp``.
    ``KeyError`` names a missing parameter.
    """
    noise = effective_noise_multiplier(
        _field(record, "noise_multiplier"), record.get("batch_size"), record.get("microbatches")
    )
    return dp_sgd_epsilon(
        noise,
        _field(record, "sampling_rate"),
        int(_field(record, "steps")),
        _field(record, "delta"),
        accountant or record.get("accountant") or "rdp",
    )


def privacy_statement(record: dict[str, Any]) -> str:
    """What a DP-SGD record guarantees and what it does not, in plain words (for model cards)."""
    if not record.get("dp"):
        return (
            "This model was trained without differential privacy. There is no formal limit on "
            "what the model, or anyone who can query it, may reveal about individual training "
            "records."
        )
    epsilon = record.get("epsilon")
    if epsilon is None:
        epsilon = record_epsilon(record)
    accountant = str(record.get("accountant") or "rdp").upper()
    examples = record.get("examples")
    rows = f"{examples:,} training examples" if examples else "the training examples"
    parts = [
        f"Trained with DP-SGD, giving ({epsilon:.3g}, {record['delta']:.3g})-differential privacy "
        f"for each of {rows} ({accountant} accounting).",
        "What this covers: adding or removing any single training record changes the probability "
        f"of any training outcome (every intermediate model as well as the final one) by at most "
        f"a factor of e^{epsilon:.3g}, except with probability {record['delta']:.3g}. This bounds what "
        "anyone, even with full access to the model, can infer about whether a record was used.",
        _how_computed(record),
        "What it does not cover: people with several records (their protection weakens roughly "
        "in proportion to their number of records); statistics taken from the training data "
        "outside DP-SGD, such as normalization ranges and category vocabularies built into the "
        "model, which are not protected; hyperparameter tuning on the same data; the test data; "
        "and fairness, accuracy or security of the system, which differential privacy says "
        "nothing about.",
    ]
    if examples and record["delta"] >= 1 / examples:
        parts.append(
            f"Caution: delta {record['delta']:.3g} is not smaller than 1/{examples}; a mechanism that "
            "publishes one record at random would meet it, so the guarantee is weak."
        )
    return "\n\n".join(parts)


def _how_computed(record: dict[str, Any]) -> str:
    clip = record.get("l2_norm_clip")
    clipping = f"clipped to L2 norm {clip:g}" if clip is not None else "clipped"
    epochs = record.get("epochs")
    passes = f" ({epochs:g} epochs)" if epochs is not None else ""
    return (
        f"How it was computed: per-example gradients {clipping}, Gaussian noise with multiplier "
        f"{record['noise_multiplier']:g}, sampling rate {record['sampling_rate']:.4g}, "
        f"{record['steps']} steps{passes}. The accounting assumes Poisson sampling (each example "
        "joins each batch independently); training that shuffles and cuts fixed batches is "
        "believed to be close to this figure but is not proven to meet it."
    )


def _field(record: dict[str, Any], name: str) -> Any:
    value = record.get(name)
    if value is None:
        raise KeyError(name)
    return value


def _check_accountant(accountant: str) -> None:
    if accountant not in ACCOUNTANTS:
        raise ValueError(f"accountant must be one of {', '.join(ACCOUNTANTS)}, got {accountant!r}")


def _fresh_accountant(accountant: str, discretization: float):
    _check_accountant(accountant)
    if accountant == "rdp":
        from dp_accounting.rdp import RdpAccountant

        return RdpAccountant(list(RDP_ORDERS))
    from dp_accounting.pld import PLDAccountant

    return PLDAccountant(value_discretization_interval=discretization)


def _dp_sgd_event(noise_multiplier: float, sampling_rate: float, steps: int, delta: float):
    """The dp-accounting event of DP-SGD (``None`` for zero steps), after checking every argument."""
    if not noise_multiplier >= 0:
        raise ValueError(f"noise_multiplier must be >= 0, got {noise_multiplier}")
    if not 0 < sampling_rate <= 1:
        raise ValueError(f"sampling_rate must be in (0, 1], got {sampling_rate}")
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if steps == 0:
        return None
    import dp_accounting

    gaussian = dp_accounting.GaussianDpEvent(noise_multiplier)
    sampled = dp_accounting.PoissonSampledDpEvent(sampling_probability=sampling_rate, event=gaussian)
    return dp_accounting.SelfComposedDpEvent(sampled, int(steps))
