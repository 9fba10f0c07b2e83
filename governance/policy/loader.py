"""Load policy files strictly, resolving ``extends`` and binding every rule to its check.

:func:`load_policy` returns a ready :class:`~governance.policy.schema.Policy` (each rule's
``validated`` holds its check's ``Params``; ``source`` and ``sha256`` are set) or raises the
first problem as ``FILE:LINE:COL: path: message``. :func:`lint_policy` returns every problem.

``extends`` names a base policy: a shipped pack (``rai:default``) or a path, relative to the
file or absolute. The base's rules are inherited in order; a rule with the same ``id`` replaces
the base rule in place, new rules follow. ``description``, ``frameworks``, ``fail_on``, ``on_missing_labels`` and
``sensitive_features`` are inherited unless the file sets them; waivers and plugins of both apply.

``plugins`` names Python files defining checks (:mod:`governance.policy.plugins`); a check of a
plugin file is known only to the policies that list that file (or extend one that does).
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from governance.errors import LocatedError
from governance.packs import UnknownPack, is_pack_ref, pack_path
from governance.policy.accountability import bind_accountability
from governance.policy.binding import (
    bind_policy_features,
    bind_rules,
    load_plugins,
)
from governance.policy.schema import Policy, Rule, Waiver, valid_extends
from governance.smallfile import UnreadableFile, read_file_bytes
from governance.trail.canonical import canonical_json
from governance.yamlsafe import Document, load_document
from governance.yamlvalidate import try_validate, unknown_key_message

# Bases of bases: a few are a hierarchy of policies, hundreds would exhaust the call stack.
MAX_CHAIN = 16
NOT_A_POLICY = "base policy '{}' is not a policy file (no top-level 'policy' key)"
# ``policy:`` at the start of a line (block style) or after ``{`` / ``,`` (flow style, JSON).
_POLICY_KEY = re.compile(r"""(?m)(?:^|[{,])[ \t]*["']?policy["']?[ \t]*:""")

# (resolved path, path as shown) of each file on the way down an ``extends`` chain.
_Chain = tuple[tuple[Path, str], ...]


def load_policy(path: str | Path) -> Policy:
    """Load, resolve and validate the policy at ``path`` (or the shipped pack ``rai:NAME``).

    Raises
    ------
    LocatedError
        The first problem found, as ``FILE:LINE:COL: path: message``.
    """
    policy, errors = _resolve(Path(path), str(path), ())
    if errors or policy is None:
        raise errors[0]
    return policy


def lint_policy(path: str | Path) -> list[LocatedError]:
    """Every problem of the policy at ``path`` (and of the bases it extends); empty if valid."""
    return read_policy(path)[1]


def read_policy(path: str | Path) -> tuple[Policy | None, list[LocatedError]]:
    """``(policy, [])`` if the policy at ``path`` is valid, else ``(None, every problem)``."""
    return _resolve(Path(path), str(path), ())


def policy_json(policy: Policy) -> str:
    """The resolved policy as canonical JSON (:func:`~governance.trail.canonical.canonical_json`,
    the form policy hashes have always used); ``sha256`` hashes this."""
    data = policy.model_dump(mode="json", exclude={"extends"})
    if policy.plugin_files:  # the code that runs, by content: not where this machine keeps it
        data["plugins"] = [{"file": p["file"], "sha256": p["sha256"]} for p in policy.plugin_files]
    return canonical_json(data, "policy")


def _resolve(path: Path, shown: str, chain: _Chain) -> tuple[Policy | None, list[LocatedError]]:
    try:
        if is_pack_ref(shown):
            path = _pack_file(shown)
        doc = replace(load_document(path), file=shown)
    except LocatedError as err:
        return None, [err]
    return _resolve_document(doc, path, shown, chain)


def _pack_file(ref: str) -> Path:
    try:
        return pack_path(ref)
    except UnknownPack as err:
        raise LocatedError(ref, None, None, "", str(err)) from None


def _resolve_document(
    doc: Document, path: Path, shown: str, chain: _Chain
) -> tuple[Policy | None, list[LocatedError]]:
    policy, errors = try_validate(doc, Policy)
    errors += _reserved_keys(doc)
    base, base_errors = _load_base(doc, path, shown, chain)
    own_plugins, plugin_errors = load_plugins(doc, shown)
    visible = {p.path for p in own_plugins} | {p["path"] for p in (base.plugin_files if base else [])}
    rules = _rules(doc, policy)
    errors += plugin_errors + bind_rules(doc, rules, visible) + _duplicate_ids(doc)
    own_ids = {rule.id for _, rule in rules}
    known = None if base_errors else own_ids | {r.id for r in (base.rules if base else [])}
    errors += _check_waivers(doc, policy, known)
    # Some problems are seen both by the schema and by the checks here; report each once.
    errors = sorted({e.format(): e for e in errors}.values(), key=lambda e: (e.line or 0, e.col or 0))
    if base_errors or errors or policy is None:
        return None, base_errors + errors
    merged = _merge(base, policy, doc)
    merged.source = shown
    merged.plugin_files = _unique((base.plugin_files if base else []) + [p.record() for p in own_plugins])
    errors = bind_policy_features(doc, merged) + bind_accountability(doc, merged, base, policy)
    if errors:
        return None, errors
    merged.sha256 = hashlib.sha256(policy_json(merged).encode()).hexdigest()
    return merged, []


def _unique(records: list[dict[str, str]]) -> list[dict[str, str]]:
    return list({record["path"]: record for record in records}.values())






def _reserved_keys(doc: Document) -> list[LocatedError]:
    """``source``/``sha256``/``validated`` exist on the models but are set by the loader only."""
    errors = []
    for key in ("source", "sha256"):
        if key in doc.data:
            errors.append(doc.error((key,), unknown_key_message(Policy, key), key=True))
    for i, rule in enumerate(_list(doc.data.get("rules"))):
        if isinstance(rule, dict) and "validated" in rule:
            loc = ("rules", i, "validated")
            errors.append(doc.error(loc, unknown_key_message(Rule, "validated"), key=True))
    return errors


def _load_base(
    doc: Document, path: Path, shown: str, chain: _Chain
) -> tuple[Policy | None, list[LocatedError]]:
    ref = doc.data.get("extends")
    if not valid_extends(ref):
        return None, []  # absent, or a problem the schema already reported
    if is_pack_ref(ref):
        try:
            target, target_shown = pack_path(ref), ref
        except UnknownPack as err:
            return None, [doc.error(("extends",), str(err))]
    else:
        # Shown (and read) relative to the first file as given, so messages name the path a user
        # can open; an absolute path stays as it is.
        target_shown = os.path.normpath(os.path.join(os.path.dirname(shown), ref))
        target = Path(target_shown)
    # realpath, unlike Path.resolve, never raises (a symlink loop fails when the file is read).
    chain = chain + ((Path(os.path.realpath(path)), shown),)
    if len(chain) >= MAX_CHAIN:  # the base would be one file too many
        return None, [doc.error(("extends",), f"extends chain is longer than {MAX_CHAIN} files")]
    base_doc, errors = _read_base(doc, target, target_shown)
    if base_doc is None:
        return None, errors
    seen = [resolved for resolved, _ in chain]
    resolved = Path(os.path.realpath(target))
    if resolved in seen:
        names = [name for _, name in chain[seen.index(resolved) :]] + [target_shown]
        return None, [doc.error(("extends",), "circular extends: " + " -> ".join(names))]
    return _resolve_document(base_doc, target, target_shown, chain)


def _read_base(doc: Document, target: Path, shown: str) -> tuple[Document | None, list[LocatedError]]:
    """The base policy's document, or the one line (at ``extends``) saying why there is none.

    A file that is not a policy is never validated or quoted: it may be any file, a secret one too.
    """
    try:
        base_doc = replace(load_document(target), file=shown)
    except UnreadableFile as err:
        if err.errno == errno.ENOENT:
            return None, [doc.error(("extends",), f"base policy '{shown}' does not exist")]
        return None, [doc.error(("extends",), f"cannot read base policy '{shown}': {err.reason}")]
    except LocatedError as err:  # not valid YAML: its own messages only if it says it is a policy
        return None, [err if _names_a_policy(target) else doc.error(("extends",), NOT_A_POLICY.format(shown))]
    if not isinstance(base_doc.data.get("policy"), str):
        return None, [doc.error(("extends",), NOT_A_POLICY.format(shown))]
    return base_doc, []


def _names_a_policy(path: Path) -> bool:
    """Whether the file has a top-level ``policy:`` key, read as text (it did not parse)."""
    try:
        text = read_file_bytes(path, str(path)).decode("utf-8", errors="replace")
    except LocatedError:
        return False
    return _POLICY_KEY.search(text) is not None


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _rules(doc: Document, policy: Policy | None) -> list[tuple[int, Rule]]:
    """``(index, Rule)`` for every rule that is valid on its own, even if the policy is not."""
    if policy is not None:
        return list(enumerate(policy.rules))
    out = []
    for i, _ in enumerate(_list(doc.data.get("rules"))):
        rule, errors = try_validate(doc, Rule, ("rules", i))
        if rule is not None:
            out.append((i, rule))
    return out




def _duplicate_ids(doc: Document) -> list[LocatedError]:
    first: dict[str, int] = {}
    errors = []
    for i, rule in enumerate(_list(doc.data.get("rules"))):
        rule_id = rule.get("id") if isinstance(rule, dict) else None
        if not isinstance(rule_id, str):
            continue
        if rule_id in first:
            line = doc.position(("rules", first[rule_id], "id"))[0]
            message = f"duplicate rule id '{rule_id}' (first used by rules[{first[rule_id]}] on line {line})"
            errors.append(doc.error(("rules", i, "id"), message))
        else:
            first[rule_id] = i
    return errors


def _check_waivers(doc: Document, policy: Policy | None, known: set[str] | None) -> list[LocatedError]:
    """Waivers must name an existing rule."""
    errors = []
    for k, raw in enumerate(_list(doc.data.get("waivers"))):
        if not isinstance(raw, dict):
            continue
        waiver = policy.waivers[k] if policy is not None else try_validate(doc, Waiver, ("waivers", k))[0]
        if waiver is not None and known is not None and waiver.rule not in known:
            close = difflib.get_close_matches(waiver.rule, sorted(known), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            errors.append(
                doc.error(("waivers", k, "rule"), f"waiver names unknown rule '{waiver.rule}'{hint}")
            )
    return errors


def _merge(base: Policy | None, child: Policy, doc: Document) -> Policy:
    """``child`` on top of ``base``: rules overridden by id in place, new rules appended.

    Rules inherited from a shipped pack are located at this file's ``extends``: the pack's own
    file lies inside rai's installation, where a reviewer (or a CI annotation) cannot point.
    """
    if base is None:
        return child
    if is_pack_ref(base.source):
        here = (doc.file, *doc.position(("extends",)))
        base = base.model_copy(update={"rules": [r.model_copy(update={"location": here}) for r in base.rules]})
    rules = {rule.id: rule for rule in base.rules}
    # A waiver was approved for the rule as it was: not for another check or a graver severity.
    changed = {r.id for r in child.rules if r.id in rules and _graver(rules[r.id], r)}
    for rule in child.rules:
        rules[rule.id] = rule  # an existing key keeps its position: overridden in place
    inherited = {
        name: getattr(base, name)
        for name in ("description", "frameworks", "fail_on", "on_missing_labels", "sensitive_features")
        if name not in child.model_fields_set
    }
    return child.model_copy(
        update={
            "rules": list(rules.values()),
            "waivers": [w for w in base.waivers if w.rule not in changed] + child.waivers,
            **inherited,
        }
    )


def _graver(old: Rule, new: Rule) -> bool:
    """Whether ``new`` overrides ``old`` with another check or a higher severity."""
    return new.check != old.check or new.severity.rank > old.severity.rank
