"""Lifecycle stages: ingest, train (optionally DP-SGD), evaluate, optimize (LiteRT), deploy, monitor.

Stages are plain typed functions; :mod:`lifecycle.pipeline` sequences them, calls the governance
gates and writes the trail. TensorFlow is imported lazily, through :mod:`lifecycle.tfcompat`.
"""
