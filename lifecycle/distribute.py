"""Distributed training with ``tf.distribute``: ``model.distribute`` in the pipeline spec.

``strategy: mirrored`` trains in this process with ``MirroredStrategy`` over the machine's
devices (its GPUs, else its CPU). ``strategy: multi_worker`` trains with
``MultiWorkerMirroredStrategy`` across ``workers`` processes: the pipeline process encodes the
rows once, writes them to a job directory, starts the workers on this machine with a
``TF_CONFIG`` of its own making (loopback addresses, free ports) and waits for them. Worker 0,
TensorFlow's chief, writes the trained weights; the pipeline process loads them into its model.
Workers only train: the gates, the trail and the registry are written once, by the pipeline
process, as for any run. The batch size is the global batch, split across the workers' replicas.

On a cluster, ``TF_CONFIG`` set in the environment of ``rai run`` names the machines (its own task
must be worker 0, the chief) and ``RAI_DISTRIBUTE_DIR`` a directory every machine sees: rai writes
the job there and starts the chief's worker; each other machine runs
``python -m lifecycle.distribute DIR INDEX`` with its own ``TF_CONFIG`` (docs/scale.md).

DP-SGD is refused under distribution: its noise and clipping are calibrated for one replica, and
splitting a batch across replicas would change what the accountant's sampling rate means.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from governance.errors import UserError

MAX_WORKERS = 16
_JOB_WAIT_S = 600  # how long a cluster worker waits for the chief's job files


class DistributeSpec(BaseModel):
    """``model.distribute``: ``{strategy: mirrored | multi_worker, workers: N}``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    strategy: Literal["mirrored", "multi_worker"]
    workers: int = Field(2, ge=1, le=MAX_WORKERS, description="multi_worker: processes started on this machine.")

    @model_validator(mode="after")
    def _workers_only_for_multi_worker(self) -> DistributeSpec:
        if self.strategy == "mirrored" and "workers" in self.model_fields_set and self.workers != 1:
            raise ValueError("mirrored trains in one process over its devices; workers applies to multi_worker")
        return self


def train_distributed(dataset: Any, model_spec: Any, privacy_spec: Any, seed: int, on_epoch: Any,
                      builder: Any) -> Any:
    """:func:`lifecycle.train.train` under ``model_spec.distribute``."""
    from lifecycle.spec import SpecFieldError
    from lifecycle.train import train

    spec: DistributeSpec = model_spec.distribute
    if privacy_spec is not None and privacy_spec.dp:
        raise SpecFieldError(("model", "distribute"), "DP-SGD is not supported under distributed training (its "
                             "noise is calibrated for one replica); remove model.distribute or privacy.dp")
    if builder is not None:
        raise SpecFieldError(("model", "distribute"), "distributed training builds the spec's MLP; "
                             "remove model.distribute or model.builder")
    plain = model_spec.model_copy(update={"distribute": None})
    if spec.strategy == "mirrored":
        from lifecycle import tfcompat

        with tfcompat.tensorflow().distribute.MirroredStrategy().scope():
            return train(dataset, plain, privacy_spec, seed, on_epoch)
    return _multi_worker(dataset, plain, spec.workers, seed, on_epoch)


def _multi_worker(dataset: Any, spec: Any, workers: int, seed: int, on_epoch: Any) -> Any:
    from lifecycle import tfcompat
    from lifecycle.model import assemble, build_preprocess, core_model, encode_features, mlp_core
    from lifecycle.train import TrainResult, _labels, head_of

    started = time.perf_counter()
    tfcompat.seed_everything(seed)
    head = head_of(dataset)
    preprocess = build_preprocess(dataset.train, dataset.numeric_features, dataset.categorical_features)
    model = assemble(preprocess, mlp_core(preprocess.output_shape[-1], spec, head), "mlp")
    features = encode_features(model, dataset.train)
    labels = _labels(dataset, head, standardize=head.task == "regression")
    shared = os.environ.get("RAI_DISTRIBUTE_DIR")  # a cluster's shared directory, which the workers watch
    if shared:
        Path(shared).mkdir(parents=True, exist_ok=True)
    with (contextlib.nullcontext(shared) if shared else tempfile.TemporaryDirectory(prefix="rai-distribute-")) as job:
        job_dir = Path(job)
        np.save(job_dir / "features.npy", features)
        np.save(job_dir / "labels.npy", labels)
        cluster = _cluster(workers) if "TF_CONFIG" not in os.environ else None
        (job_dir / "job.json").write_text(json.dumps({
            "spec": spec.model_dump(mode="json"), "seed": seed, "width": int(features.shape[1]),
            "head": {"task": head.task, "classes": list(head.classes), "mean": head.mean, "std": head.std}}))
        _run_workers(job_dir, cluster)
        weights = np.load(job_dir / "weights.npz")
        core_model(model).set_weights([weights[f"w{i}"] for i in range(len(weights.files))])
        history = json.loads((job_dir / "history.json").read_text())
    for epoch in range(len(history.get("loss", []))):
        if on_epoch is not None:
            on_epoch(epoch + 1, {k: v[epoch] for k, v in history.items()})
    return TrainResult(model=model, history=history, wall_time_s=time.perf_counter() - started)


def _cluster(workers: int) -> list[str]:
    """``workers`` loopback addresses on free ports (tests and local runs bind 127.0.0.1 only)."""
    sockets = [socket.socket() for _ in range(workers)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [f"127.0.0.1:{sock.getsockname()[1]}" for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _run_workers(job_dir: Path, cluster: list[str] | None) -> None:
    """Start the workers (all of them locally, or the chief's on a cluster) and wait for them."""
    if cluster is None:  # a cluster: TF_CONFIG names it; this machine runs the chief's worker
        config = json.loads(os.environ["TF_CONFIG"])
        if config.get("task", {}).get("index", 0) != 0:
            raise UserError("TF_CONFIG: rai run must run on worker 0 (the chief); start the other workers with "
                            "python -m lifecycle.distribute DIR INDEX")
        configs = [os.environ["TF_CONFIG"]]
    else:
        configs = [json.dumps({"cluster": {"worker": cluster}, "task": {"type": "worker", "index": i}})
                   for i in range(len(cluster))]
    processes = []
    for index, config in enumerate(configs):
        env = {**os.environ, "TF_CONFIG": config, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
        log = open(job_dir / f"worker-{index}.log", "wb")  # noqa: SIM115  (closed when the worker ends)
        processes.append((subprocess.Popen([sys.executable, "-m", "lifecycle.distribute", str(job_dir), str(index)],
                                           env=env, stdout=log, stderr=subprocess.STDOUT), log))
    try:
        while any(p.poll() is None for p, _ in processes):
            failed = [i for i, (p, _) in enumerate(processes) if p.poll() not in (None, 0)]
            if failed:
                raise UserError(f"model.distribute: worker {failed[0]} failed: {_last_line(job_dir, failed[0])}")
            time.sleep(0.2)
        failed = [i for i, (p, _) in enumerate(processes) if p.returncode != 0]
        if failed:
            raise UserError(f"model.distribute: worker {failed[0]} failed: {_last_line(job_dir, failed[0])}")
    finally:
        for process, log in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
            log.close()


def _last_line(job_dir: Path, index: int) -> str:
    lines = [line for line in (job_dir / f"worker-{index}.log").read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def worker(job_dir: Path, index: int) -> None:
    """One worker: join the collective, fit the core on the encoded rows, the chief saves the result."""
    from lifecycle import tfcompat

    tf = tfcompat.tensorflow()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # before any other TensorFlow op
    job = _wait_for_job(job_dir)
    from lifecycle.model import STANDARDIZED, Head, mlp_core
    from lifecycle.spec import ModelSpec
    from lifecycle.train import _batches, _loss, _metric, _optimizer

    keras = tfcompat.keras()
    tfcompat.seed_everything(job["seed"], deterministic_ops=False)  # collectives have no deterministic kernels
    spec = ModelSpec.model_validate(job["spec"])
    head = Head(job["head"]["task"], tuple(job["head"]["classes"]), job["head"]["mean"], job["head"]["std"])
    features, labels = np.load(job_dir / "features.npy"), np.load(job_dir / "labels.npy")
    with strategy.scope():
        core = mlp_core(job["width"], spec, head)
        fitted = core if head.task != "regression" else keras.Model(core.inputs, core.get_layer(STANDARDIZED).output)
        trainer = keras.Model(fitted.inputs, fitted.outputs, name="trainer")
        trainer.compile(optimizer=_optimizer(keras, spec), loss=_loss(keras, head), metrics=[_metric(keras, head)])
    batches = _batches(features, labels, spec.batch_size, job["seed"], drop_remainder=False)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    fit = trainer.fit(batches.with_options(options), epochs=spec.epochs, verbose=0)
    weights = core.get_weights()
    if index == 0:  # TensorFlow's chief writes; the others only trained
        np.savez(job_dir / "weights.npz", **{f"w{i}": w for i, w in enumerate(weights)})
        history = {k: [float(v) for v in values] for k, values in fit.history.items()}
        (job_dir / "history.json").write_text(json.dumps(history))


def _wait_for_job(job_dir: Path) -> dict[str, Any]:
    deadline = time.monotonic() + _JOB_WAIT_S
    while not (job_dir / "job.json").exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{job_dir}: no job.json after {_JOB_WAIT_S} s; is rai run started on the chief?")
        time.sleep(1)
    return json.loads((job_dir / "job.json").read_text())


if __name__ == "__main__":
    worker(Path(sys.argv[1]), int(sys.argv[2]))
