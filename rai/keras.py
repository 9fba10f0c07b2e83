"""Governance hooks for Keras training: ``rai.keras.GovernanceCallback``.

Importing this module imports TensorFlow (``tf_keras``, with ``TF_USE_LEGACY_KERAS=1`` as
tensorflow-privacy needs); ``import rai`` alone does not.

>>> with rai.start_run("credit", policy="policy.yaml") as run:            # doctest: +SKIP
...     model.fit(x, y, callbacks=[rai.keras.GovernanceCallback(run, (x_val, y_val), sensitive=s_val)])
"""

from __future__ import annotations

from typing import Any

from lifecycle import tfcompat

_keras = tfcompat.keras()


class GovernanceCallback(_keras.callbacks.Callback):
    """Run a stage's policy rules on validation data during and after ``model.fit``.

    Parameters
    ----------
    run_or_policy : a :class:`rai.Run` (gates are recorded in its trail) or a policy / policy path
        (gates are evaluated and kept on the callback, not recorded)
    validation_data : ``(x_val, y_val)``; ``y_val`` as for :class:`rai.Predictions`
    sensitive : the sensitive features of the validation rows
    stage : the stage whose rules run (default ``evaluate``)
    every_n_epochs : also gate every N epochs (default: only when training ends)
    stop_on_block : stop training when a gate blocks and raise :class:`rai.GateBlocked` when
        training ends; ``False`` records and carries on
    pos_label : the positive label when ``y_val`` is not 0/1
    privacy : a DP-SGD record to gate; by default it is read from a tensorflow-privacy
        optimizer or ``DPModel`` (noise multiplier, clipping norm, microbatches) together with
        ``examples`` and the batch size and epochs of ``fit``
    examples : number of training examples (needed for DP accounting when ``privacy`` is not given)
    delta : the DP delta to account at (default 1e-5)

    Attributes
    ----------
    results : every gate result, in order
    """

    def __init__(self, run_or_policy: Any, validation_data: tuple, sensitive: Any, *, stage: str = "evaluate",
                 every_n_epochs: int | None = None, stop_on_block: bool = True, pos_label: Any = None,
                 privacy: dict[str, Any] | None = None, examples: int | None = None, delta: float = 1e-5):
        super().__init__()
        from governance.api import as_policy, check_stage
        from governance.errors import UserError
        from lifecycle.session import Run

        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise UserError("validation_data: expected (x_val, y_val)")
        if every_n_epochs is not None and (isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, int)
                                           or every_n_epochs < 1):
            raise UserError(f"every_n_epochs: must be an integer >= 1, got {every_n_epochs!r}")
        self._run = run_or_policy if isinstance(run_or_policy, Run) else None
        self._policy = None if self._run else as_policy(run_or_policy)
        self._x, self._y = validation_data
        self._sensitive, self._stage = sensitive, check_stage(stage)
        self._every, self._stop, self._pos_label = every_n_epochs, stop_on_block, pos_label
        self._privacy, self._examples, self._delta = privacy, examples, delta
        self._epochs_done = 0
        self.results: list[Any] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._epochs_done = epoch + 1
        if self._every and (epoch + 1) % self._every == 0:
            self._gate()

    def on_train_end(self, logs: dict | None = None) -> None:
        from governance.errors import GateBlocked

        if not self._every or self._epochs_done % self._every:
            self._gate()
        blocked = [r for r in self.results if r.blocked]
        if blocked and self._stop:
            raise GateBlocked(blocked[-1])

    def _gate(self) -> None:
        from governance.api import audit
        from governance.evidence import Predictions
        from lifecycle.own_model import THRESHOLD, as_features, keras_scores

        scores = keras_scores(self.model, as_features(self._x, "validation_data[0]"))
        predictions = Predictions(self._y, (scores >= THRESHOLD).astype("int64"), self._sensitive, y_score=scores,
                                  pos_label=self._pos_label)
        evidence: dict[str, Any] = {"predictions": predictions}
        privacy = self._privacy_record()
        if privacy is not None:
            evidence["privacy"] = privacy
        if self._run is not None:
            result = self._run.gate(self._stage, raise_on_block=False, **evidence)
        else:
            result = audit(self._policy, self._stage, **evidence)
        self.results.append(result)
        if result.blocked and self._stop:
            self.model.stop_training = True

    def _privacy_record(self) -> dict[str, Any] | None:
        """The DP-SGD record of this training, from the optimizer or DPModel, or as given."""
        if self._privacy is not None:
            return dict(self._privacy)
        source = _dp_source(self.model)
        if source is None:
            return None
        from governance.errors import UserError
        from governance.metrics.privacy import dp_sgd_steps, record_epsilon

        batch_size = _batch_size(self.params, self._examples)
        if not self._examples or not batch_size:
            raise UserError("GovernanceCallback: DP-SGD training found; pass examples=N (training rows) so the "
                            "privacy budget can be accounted")
        record = {"dp": True, "noise_multiplier": float(source["noise_multiplier"]),
                  "l2_norm_clip": float(source["l2_norm_clip"]), "batch_size": int(batch_size),
                  "microbatches": int(source.get("microbatches") or batch_size), "examples": int(self._examples),
                  "epochs": self._epochs_done, "sampling_rate": batch_size / self._examples,
                  "steps": dp_sgd_steps(self._examples, batch_size, max(self._epochs_done, 1)),
                  "delta": self._delta, "accountant": "rdp", "source": source["source"]}
        record["epsilon"] = record_epsilon(record, "rdp")
        return record


def _dp_source(model: Any) -> dict[str, Any] | None:
    """Noise multiplier, clipping norm and microbatches of a DP optimizer or a DPModel, if any.

    tensorflow-privacy's Keras DP optimizers keep a Gaussian sum query (clipping norm and noise
    standard deviation, whose ratio is the noise multiplier); ``DPModel`` keeps both directly.
    """
    optimizer = getattr(model, "optimizer", None)
    query = getattr(optimizer, "_dp_sum_query", None)
    clip, stddev = getattr(query, "_l2_norm_clip", None), getattr(query, "_stddev", None)
    if clip is not None and stddev is not None and float(clip) > 0:
        return {"noise_multiplier": float(stddev) / float(clip), "l2_norm_clip": float(clip),
                "microbatches": _int_or_none(getattr(optimizer, "_num_microbatches", None)),
                "source": f"tensorflow-privacy {type(optimizer).__name__}"}
    noise, clip = getattr(model, "_noise_multiplier", None), getattr(model, "_l2_norm_clip", None)
    if noise is not None and clip is not None:
        return {"noise_multiplier": float(noise), "l2_norm_clip": float(clip),
                "microbatches": _int_or_none(getattr(model, "_num_microbatches", None)),
                "source": f"tensorflow-privacy {type(model).__name__}"}
    return None


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _batch_size(params: dict | None, examples: int | None) -> int | None:
    """``fit``'s batch size: Keras 2 passes only steps per epoch, and ``ceil(examples / steps)`` gives it."""
    params = params or {}
    if params.get("batch_size"):
        return int(params["batch_size"])
    steps = params.get("steps")
    if not steps or not examples:
        return None
    return -(-int(examples) // int(steps))
