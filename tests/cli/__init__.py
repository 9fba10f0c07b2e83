"""Tests of the ``rai`` commands, run through the real entry point."""
