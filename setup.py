"""Build hook: the policy packs in ``policies/*.yaml`` become package data of ``governance.packs``.

``policies/`` stays the one source of the packs (the repository's documented place for them); a
wheel carries copies so that an installed rai resolves ``extends: rai:default``. Everything else
about the build is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PACKS = Path(__file__).resolve().parent / "policies"


class BuildWithPacks(build_py):
    """``build_py`` that also copies every ``policies/*.yaml`` into ``governance/packs/``."""

    def run(self):
        super().run()
        if self.editable_mode:  # a checkout reads policies/ directly (governance.packs.pack_dir)
            return
        target = Path(self.build_lib) / "governance" / "packs"
        self.mkpath(str(target))
        for pack in sorted(PACKS.glob("*.yaml")):
            self.copy_file(str(pack), str(target / pack.name))


setup(cmdclass={"build_py": BuildWithPacks})
