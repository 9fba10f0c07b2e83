"""Policy packs shipped with rai, named ``rai:NAME`` (``rai:default``, ``rai:eu-ai-act-high-risk``).

The repository's top-level ``policies/`` directory is the packs' only source: every
``policies/*.yaml`` is a pack named after its file. Building rai (a wheel, or a wheel from an
sdist) copies those files into this package (``setup.py``), so that an installed rai resolves
``extends: rai:default`` without the repository. A source checkout (an editable install) has no
copies: the packs are then read from ``policies/`` itself. No symlink, no second copy in git.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

PREFIX = "rai:"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_HERE = Path(__file__).resolve().parent
# A source checkout: governance/packs/ -> the repository's policies/.
_SOURCE = _HERE.parents[1] / "policies"


class UnknownPack(ValueError):
    """A ``rai:NAME`` that names no shipped pack; the message lists the packs."""


def is_pack_ref(ref: object) -> bool:
    """Whether ``ref`` is written as a pack name (``rai:...``) rather than a path."""
    return isinstance(ref, str) and ref.startswith(PREFIX)


def pack_dir() -> Path:
    """Where the packs are: this package in an installed rai, ``policies/`` in a checkout."""
    if any(_HERE.glob("*.yaml")):
        return _HERE
    return _SOURCE


def pack_names() -> list[str]:
    """Every shipped pack, as ``rai:NAME``, sorted."""
    directory = pack_dir()
    if not directory.is_dir():
        return []
    return sorted(PREFIX + p.stem for p in directory.glob("*.yaml") if _NAME.match(p.stem))


def pack_path(ref: str) -> Path:
    """The file of pack ``ref`` (``rai:default``).

    Raises
    ------
    UnknownPack
        ``ref`` names no pack: ``unknown pack 'rai:x'; did you mean ...? (packs: ...)``.
    """
    name = ref[len(PREFIX):]
    known = pack_names()
    if ref in known:
        return pack_dir() / f"{name}.yaml"
    # A name cut short (rai:eu) means the pack it starts; else the closest spelling.
    close = [k for k in known if k.startswith(ref)][:1] or difflib.get_close_matches(ref, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    shown = ref if len(ref) <= 80 else ref[:77] + "..."
    raise UnknownPack(f"unknown pack {shown!r}{hint} (packs: {', '.join(known) or 'none installed'})")
