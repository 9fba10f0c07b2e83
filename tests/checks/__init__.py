"""Tests of the check families; the shared case table lives in :mod:`cases`."""
