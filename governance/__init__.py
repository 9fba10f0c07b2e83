"""Governance core of rai: policies, checks, the gate engine, the audit trail and reports.

Nothing in this package imports TensorFlow or :mod:`lifecycle`; commands that need no model
(``rai audit``, ``rai policy lint``, ``rai trail verify``) only ever load this layer.
"""

__version__ = "0.1.0"
