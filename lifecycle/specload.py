"""Strict loading of ``pipeline.yaml``.

The spec is read with :mod:`governance.yamlsafe` (no duplicate keys, anchors or tags; unknown
keys are errors with a did-you-mean) and validated by :class:`lifecycle.spec.PipelineSpec`.
Every problem is one line, ``FILE:LINE:COL: path: message``, raised as a
:class:`~governance.errors.LocatedError` (exit code 2).

Relative paths in the spec (``data.train``, ``data.test``, ``model.path``, ``policy``, ``deploy.registry``)
are resolved against the directory of the spec file, so a pipeline runs the same from any
working directory. Referenced input files must exist; a missing one is reported at the line
that names it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.errors import LocatedError
from governance.fsutil import file_sha256
from governance.yamlsafe import Document, load_document
from governance.yamlvalidate import validate
from lifecycle.spec import PipelineSpec
from lifecycle.speccheck import check_spec

# Spec locations holding paths, resolved against the spec file's directory.
_PATH_FIELDS: tuple[tuple[str, ...], ...] = (("data", "train"), ("data", "test"), ("model", "path"), ("policy",),
                                              ("deploy", "registry"))


@dataclass(frozen=True)
class LoadedSpec:
    """A validated pipeline spec and where it came from.

    Attributes
    ----------
    spec : the validated spec, its paths resolved against the spec file's directory as named by
        the user (relative to the working directory when the spec path was relative)
    path : the spec file as given by the user
    base_dir : absolute directory of the spec file (relative paths in the spec are relative to it)
    sha256 : SHA-256 of the spec file's bytes (recorded in the trail)
    document : the strictly loaded YAML, for locating later errors (e.g. an unknown column)
    """

    spec: PipelineSpec
    path: Path
    base_dir: Path
    sha256: str
    document: Document

    @property
    def raw(self) -> dict[str, Any]:
        """The spec exactly as written (relative paths kept), for the trail."""
        return self.document.data

    def error(self, loc: tuple[Any, ...], message: str) -> LocatedError:
        """A one-line error located at ``loc`` in the spec file (e.g. ``("data", "target")``)."""
        return self.document.error(loc, message)


def load_spec(path: str | Path, *, check_policy: bool = True) -> LoadedSpec:
    """Load and validate ``path``; resolve and check the files it names.

    Parameters
    ----------
    path : the pipeline YAML file
    check_policy : whether the spec's ``policy`` file must exist (not when ``--policy`` overrides it)

    Raises
    ------
    LocatedError
        For an unreadable file, malformed YAML, an invalid spec (a wrong type, a value out of
        range, fields that contradict each other) or a missing referenced file.
    """
    path = Path(path)
    problem = _file_problem(path)
    if problem:
        hint = {"is a directory": ", not a pipeline YAML file", "not a regular file": " (a pipeline spec is a YAML file)"}
        raise LocatedError(path, None, None, "", problem + hint.get(problem, ""))
    document = load_document(path)
    spec = validate(document, PipelineSpec)
    check_spec(document, spec)
    # Resolve against the directory as the user named it, so messages show short paths; the
    # absolute directory is kept too, to rebuild the spec from the trail from anywhere.
    spec = resolve_paths(spec, path.parent)
    base_dir = path.resolve().parent
    _check_files_exist(document, spec, check_policy)
    _check_deploy_choice(document, spec)
    digest = file_sha256(path)
    return LoadedSpec(spec=spec, path=path, base_dir=base_dir, sha256=digest, document=document)


def _file_problem(path: Path) -> str | None:
    """Why ``path`` is not a readable regular file (FIFOs and devices would block or never end)."""
    try:
        if path.is_file():
            return None
        if path.is_dir():
            return "is a directory"
        return "not a regular file" if path.exists() else "no such file"
    except (OSError, ValueError) as err:  # a name too long, a NUL byte
        return f"cannot read file: {getattr(err, 'strerror', None) or err}"


def spec_from_record(raw: dict[str, Any], base_dir: Path) -> PipelineSpec:
    """Rebuild a spec recorded in the trail (``run.started``'s ``spec`` and ``spec_dir``)."""
    return resolve_paths(PipelineSpec.model_validate(raw), base_dir)


def resolve_paths(spec: PipelineSpec, base_dir: Path) -> PipelineSpec:
    """A copy of ``spec`` whose relative paths are made absolute against ``base_dir``."""
    updates = _resolved_paths(spec, base_dir)
    return spec.model_copy(
        update={
            "data": spec.data.model_copy(update=updates.get("data", {})),
            "model": spec.model.model_copy(update=updates.get("model", {})),
            "deploy": spec.deploy.model_copy(update=updates.get("deploy", {})),
            **({"policy": updates["policy"]["policy"]} if "policy" in updates else {}),
        }
    )


def _resolved_paths(spec: PipelineSpec, base_dir: Path) -> dict[str, dict[str, str]]:
    updates: dict[str, dict[str, str]] = {}
    for loc in _PATH_FIELDS:
        value = _get(spec, loc)
        if value is None:
            continue
        try:
            resolved = Path(value).expanduser()
        except RuntimeError:  # "~someone" with no such user: left as written, reported as not found
            resolved = Path(value)
        if not resolved.is_absolute():
            resolved = base_dir / resolved
        updates.setdefault(loc[0], {})[loc[-1]] = os.path.normpath(resolved)
    return updates


def _get(spec: PipelineSpec, loc: tuple[str, ...]) -> Any:
    value: Any = spec
    for part in loc:
        value = getattr(value, part)
    return value


def _check_files_exist(document: Document, spec: PipelineSpec, check_policy: bool) -> None:
    wanted = [("data", "train"), ("data", "test"), ("model", "path")] + ([("policy",)] if check_policy else [])
    for loc in wanted:
        value = _get(spec, loc)
        problem = None if value is None else _file_problem(Path(value))
        if problem == "no such file":
            raise document.error(loc, f"file not found: {document.get(loc)} (relative to the spec file)")
        if problem:
            raise document.error(loc, f"{document.get(loc)}: {problem}; a regular file is needed here")


def _check_deploy_choice(document: Document, spec: PipelineSpec) -> None:
    # float32 and keras need no entry in `modes`: float32 is always converted as the LiteRT parent.
    choice = spec.optimize.deploy
    if choice not in ("float32", "keras") and choice not in spec.optimize.modes:
        modes = ", ".join(spec.optimize.modes) or "none"
        raise document.error(("optimize", "deploy"), f"'{choice}' is not converted: add it to optimize.modes (now: {modes})")
