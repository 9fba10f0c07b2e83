"""Building command lines in tests: a base argument list with some options replaced or added."""

from __future__ import annotations


def override(base: tuple[str, ...] | list[str], extra: list[str]) -> list[str]:
    """``base`` with each ``--flag value`` pair of ``extra`` replacing the flag's value, or appended."""
    args = list(base)
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    return args
