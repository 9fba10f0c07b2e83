"""Tests of the policy language: strict YAML, the loader, the malformed corpus and the CLI."""
