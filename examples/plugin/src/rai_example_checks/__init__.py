"""An example rai plugin: importing :mod:`rai_example_checks.checks` registers its checks."""
