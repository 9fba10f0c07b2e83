"""Binding a policy's rules to checks: plugin files, check names, stages, params, sensitive features.

Used by :mod:`governance.policy.loader` for each file of an ``extends`` chain.
"""

from __future__ import annotations

import re

from governance.checks.base import load_all, takes_run_features, unknown_check_message
from governance.errors import LocatedError, UserError
from governance.packs import is_pack_ref
from governance.policy import plugins
from governance.policy.schema import CLAUSE_PATTERN, Policy, Rule, valid_extends
from governance.vocabulary import FRAMEWORKS
from governance.yamlsafe import Document
from governance.yamlvalidate import try_validate

CLAUSE_MESSAGE = (
    f"must be FRAMEWORK:CLAUSE with FRAMEWORK one of {', '.join(FRAMEWORKS)} "
    "(e.g. eu-ai-act:art-10), got {got!r}"
)
STAGE_MESSAGE = "check '{check}' does not run at stage '{stage}' (runs at: {stages})"
PLUGIN_NOT_LISTED = ("check '{check}' is defined by the plugin file {file}, which this policy does not list "
                     "in `plugins`")


def load_plugins(doc: Document, shown: str) -> tuple[list[plugins.PluginFile], list[LocatedError]]:
    """Load the plugin files this document lists; one located error for each that fails."""
    refs = doc.data.get("plugins")
    loaded, errors = [], []
    for i, ref in enumerate(refs if isinstance(refs, list) else []):
        if not isinstance(ref, str) or not ref.endswith(".py") or is_pack_ref(ref) or not valid_extends(ref):
            continue  # the schema reports it
        try:
            loaded.append(plugins.load_plugin_file(ref, plugins.shown_path(ref, shown)))
        except UserError as err:
            message = err.message if isinstance(err, LocatedError) else str(err)
            errors.append(doc.error(("plugins", i), message))
    return loaded, errors


def bind_policy_features(doc: Document, policy: Policy) -> list[LocatedError]:
    """Rules without ``sensitive_features`` take the policy's, when it names them (else the run's)."""
    registry = load_all()
    errors = []
    for rule in policy.rules:
        check = registry.get(rule.check)
        if check is None or not takes_run_features(check, rule.params):
            continue
        if policy.sensitive_features is None:
            rule.validated = None  # the engine binds the run's sensitive features at the gate
            continue
        data = {**rule.params, "sensitive_features": list(policy.sensitive_features)}
        params, problems = try_validate(doc, check.Params, ("sensitive_features",), data=data)
        errors += [doc.error(("sensitive_features",), f"rule '{rule.id}': {e.message}") for e in problems]
        rule.validated = params
    return errors


def bind_rules(doc: Document, rules: list[tuple[int, Rule]], visible: set[str]) -> list[LocatedError]:
    """Check each rule's check name, stage, params and clauses; store the validated params.

    ``visible`` holds the plugin files this policy (or a base) lists: a check registered by any
    other plugin file is unknown here, whatever else this process loaded.
    """
    registry = load_all()
    errors: list[LocatedError] = []
    for i, rule in rules:
        rule.location = (doc.file, *doc.position(("rules", i)))
        for j, clause in enumerate(rule.maps_to):
            if not re.match(CLAUSE_PATTERN, clause):
                errors.append(doc.error(("rules", i, "maps_to", j), CLAUSE_MESSAGE.format(got=clause)))
        check = registry.get(rule.check)
        defined_in = plugins.file_of(rule.check)
        if check is None or (defined_in is not None and defined_in not in visible):
            message = unknown_check_message(rule.check) if check is None else PLUGIN_NOT_LISTED.format(
                check=rule.check, file=defined_in)
            errors.append(doc.error(("rules", i, "check"), message))
            continue
        if rule.stage not in check.stages:
            message = STAGE_MESSAGE.format(check=rule.check, stage=rule.stage, stages=", ".join(check.stages))
            errors.append(doc.error(("rules", i, "stage"), message))
        data = rule.params
        if takes_run_features(check, data):  # validated with a stand-in; bound when the features are known
            data = {**data, "sensitive_features": ["sensitive"]}
        params, param_errors = try_validate(doc, check.Params, ("rules", i, "params"), data=data)
        errors += param_errors
        rule.validated = params
    return errors
