"""DP-SGD for :mod:`lifecycle.train`: plan the noise and account for it before training starts.

Accounting follows tensorflow-privacy's ``compute_dp_sgd_privacy`` convention, through
:mod:`governance.metrics.privacy` (the same code the privacy checks use, so the epsilon a
stage records is the epsilon a check recomputes):

* sampling rate ``q = batch_size / examples``, as if each example joined each batch
  independently with probability ``q`` (Poisson sampling). Training actually reshuffles and cuts
  fixed-size batches, the usual practice; the figure is the accepted approximation of it.
* ``steps = ceil(epochs * examples / batch_size)``. Training drops the last partial batch of
  each epoch, so it takes at most that many steps: the accounting never undercounts.
* RDP epsilon (the reported one) with the PLD figure beside it.

With ``target_epsilon`` the noise multiplier is calibrated *before* training, so the budget is
met by construction rather than discovered afterwards.

Clipping is per example by default (``microbatches`` = batch size): each step clips every
example's gradient to L2 norm ``l2_norm_clip``, sums, adds Gaussian noise of standard deviation
``noise_multiplier * l2_norm_clip`` and divides by the batch size. Larger microbatches
are cheaper but double the sensitivity, which the accounting charges for.
"""

from __future__ import annotations

import math
from typing import Any

from governance.errors import UserError
from governance.metrics.privacy import (
    calibrate_noise_multiplier,
    dp_sgd_steps,
    effective_noise_multiplier,
    record_epsilon,
)
from lifecycle import tfcompat
from lifecycle.spec import PrivacySpec


def plan_privacy(spec: PrivacySpec, examples: int, batch_size: int, epochs: int) -> dict[str, Any]:
    """The DP-SGD record of a training run, computed before it starts.

    Returns
    -------
    dict
        ``{"dp": False}`` without DP; else ``dp``, ``epsilon`` (RDP), ``epsilon_pld``, ``delta``,
        ``target_epsilon`` (or ``None``), ``noise_multiplier``, ``l2_norm_clip``,
        ``sampling_rate``, ``steps``, ``epochs``, ``batch_size``, ``examples``,
        ``microbatches`` and ``accountant`` (``"rdp"``): the ``privacy`` evidence.

    Raises
    ------
    UserError
        A batch larger than the data, microbatches that do not divide the batch, or a target
        epsilon no noise multiplier reaches.
    """
    if not spec.dp:
        return {"dp": False}
    if batch_size > examples:
        raise UserError(f"model.batch_size {batch_size} is larger than the {examples} training examples")
    microbatches = spec.microbatches or batch_size
    if batch_size % microbatches:
        raise UserError(f"privacy.microbatches {microbatches} must divide model.batch_size {batch_size}")
    sampling_rate = batch_size / examples
    steps = dp_sgd_steps(examples, batch_size, epochs)
    noise = spec.noise_multiplier
    if spec.target_epsilon is not None:
        noise = _calibrate(spec, sampling_rate, steps, batch_size, microbatches)
    record = {
        "dp": True,
        "epsilon": None,
        "epsilon_pld": None,
        "delta": spec.delta,
        "target_epsilon": spec.target_epsilon,
        "noise_multiplier": float(noise),
        "l2_norm_clip": spec.l2_norm_clip,
        "sampling_rate": sampling_rate,
        "steps": steps,
        "epochs": epochs,
        "batch_size": batch_size,
        "examples": examples,
        "microbatches": microbatches,
        "accountant": "rdp",
    }
    record["epsilon"] = _account(record, "rdp")
    record["epsilon_pld"] = _account(record, "pld")
    return record


def _account(record: dict[str, Any], accountant: str) -> float:
    """Epsilon of ``record``; a UserError when the accountant cannot certify a finite one."""
    settings = (f"noise_multiplier {record['noise_multiplier']:.4g}, delta {record['delta']:g}, "
                f"{record['steps']} steps at sampling rate {record['sampling_rate']:.4g}")
    try:
        epsilon = float(record_epsilon(record, accountant))
    except (ValueError, ArithmeticError) as err:  # dp-accounting's own limits (overflow, negative divergence)
        raise UserError(f"privacy: the {accountant.upper()} accountant cannot account for {settings}: {err}") from None
    if not math.isfinite(epsilon):
        raise UserError(f"privacy: {settings} give no finite epsilon ({accountant.upper()}); "
                        "use more noise, a larger delta or fewer steps")
    return epsilon


def _calibrate(
    spec: PrivacySpec, sampling_rate: float, steps: int, batch_size: int, microbatches: int
) -> float:
    try:
        effective = calibrate_noise_multiplier(spec.target_epsilon, sampling_rate, steps, spec.delta, "rdp")
    except (ValueError, ArithmeticError) as err:
        raise UserError(f"privacy.target_epsilon {spec.target_epsilon}: {err}") from None
    # Calibration finds the noise the accounting may count; shared microbatches count half.
    counted_per_unit = effective_noise_multiplier(1.0, batch_size, microbatches)
    return effective / counted_per_unit


def dp_model(core: Any, record: dict[str, Any]) -> Any:
    """A DP-SGD trainer over the layers of ``core``: tensorflow-privacy's ``DPModel``.

    The trainer is a new functional model on ``core``'s own input and output tensors, so it
    shares (and trains) ``core``'s weights while ``core``, and the model that contains it, stay
    plain Keras: serving never needs tensorflow-privacy. Compile it with an ordinary optimizer
    and the usual mean-reduced loss.

    Per-example gradient norms come from fast gradient clipping (Dense layers are in
    tensorflow-privacy's layer registry): two passes per batch instead of one per example. On
    Adult that is about ten times faster than the DP optimizers at batch size 256, and their
    Jacobian's cost grows with the square of the batch size. Models with dropout use the
    per-example path instead (see ``_has_dropout``), as do cores with layers outside the registry
    (a user's own model may hold any): that path clips each example's gradient exactly.
    """
    tfp = tfcompat.privacy()
    microbatches = record["microbatches"]
    return tfp.DPModel(
        l2_norm_clip=record["l2_norm_clip"],
        noise_multiplier=record["noise_multiplier"],
        # None: one microbatch per example, the per-example clipping the accounting assumes.
        num_microbatches=None if microbatches == record["batch_size"] else microbatches,
        use_xla=False,  # XLA compilation costs more than it saves on a small MLP
        layer_registry=tfp.make_default_layer_registry() if _fast_clipping(core) else None,
        inputs=core.inputs,
        outputs=core.outputs,
        name="dp_core",
    )


def _fast_clipping(core: Any) -> bool:
    """Whether fast clipping applies: only Dense layers carry weights, no dropout, nothing nested."""
    plain = all(type(layer).__name__ in _FAST_LAYERS for layer in core.layers)
    return plain and not _has_dropout(core)


# Layers fast clipping handles (Dense is in tensorflow-privacy's registry; the others have no weights).
_FAST_LAYERS = {"InputLayer", "Dense", "Dropout"}


def _has_dropout(core: Any) -> bool:
    # Fast clipping measures gradient norms in one forward pass and takes the gradients in a
    # second; dropout would draw different masks, so the norms would not bound the gradients.
    # Without the registry DPModel clips each example's own gradient (vectorized, slower).
    return any(type(layer).__name__ == "Dropout" for layer in core.submodules)

