"""Tests of the pipeline: spec loading, orchestration, gates, trail records, registry, serving, monitoring."""
