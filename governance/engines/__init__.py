"""Engines that compute audits from partial aggregates: streaming (local) and Apache Spark."""
