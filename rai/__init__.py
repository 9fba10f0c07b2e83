"""The ``rai`` command line: the top layer, above :mod:`lifecycle`, :mod:`dashboards` and :mod:`governance`."""
