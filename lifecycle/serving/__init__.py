"""Production serving of a registered model: a Starlette app under uvicorn.

``rai serve NAME`` (:mod:`rai.commands.serve`) verifies the registry entry, loads the model from
the verified bytes, and serves ``POST /predict`` (one row or a batch), ``GET /health``,
``GET /model`` (the signed manifest), ``GET /metrics`` (Prometheus) and ``GET /openapi.json``.

Rooms: :mod:`~lifecycle.serving.settings` (the options), :mod:`~lifecycle.serving.server`
(load, bind, run), :mod:`~lifecycle.serving.app` (HTTP), :mod:`~lifecycle.serving.protocol`
(connection guards), :mod:`~lifecycle.serving.service` (parse, validate, score, log),
:mod:`~lifecycle.serving.rows` and :mod:`~lifecycle.serving.profile` (validation against the
training profile), :mod:`~lifecycle.serving.encoder` and :mod:`~lifecycle.serving.scoring`
(vectorised scoring), :mod:`~lifecycle.serving.decisions` (outputs to decisions, per task), :mod:`~lifecycle.serving.integrity` (checks at start and while running),
:mod:`~lifecycle.serving.metrics`, :mod:`~lifecycle.serving.openapi`. Every decision goes to the
prediction log (:mod:`lifecycle.predlog`).
"""
