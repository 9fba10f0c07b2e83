"""Which clauses of which frameworks the automated evidence of a run speaks to, and which not.

Each clause row says, in our own words, what the clause asks for; which checks produce evidence
for it (``checks`` are check-name prefixes: a family such as ``fairness.`` or one check such as
``accountability.approvals``; ``stages`` limits them to rules run at those stages, e.g. only
``monitor`` evidence speaks to operation after deployment); which records of the trail support it
(``records``, see :data:`RECORDS`); and ``gap``: what no automated check can show for that clause.
A rule also covers a clause when its ``maps_to`` names the clause or one of its sub-items
(``eu-ai-act:art-10(2)(f)`` covers ``eu-ai-act:art-10``), whatever its check. The tables are a reading aid for reviewers, not legal advice; the
wording is a paraphrase, the authoritative text is the framework itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Clause:
    """One clause (article, subcategory or control) of a framework."""

    id: str
    title: str
    checks: tuple[str, ...] = ()
    records: tuple[str, ...] = ()
    gap: str = ""
    stages: tuple[str, ...] = ()

    def covers_check(self, check: str, stage: str | None) -> bool:
        """Whether a rule running ``check`` at ``stage`` produces evidence for this clause."""
        if self.stages and stage not in self.stages:
            return False
        return any(check == p or (p.endswith(".") and check.startswith(p)) for p in self.checks)


@dataclass(frozen=True)
class Framework:
    """A framework: its id (as used in ``maps_to`` and ``policy.frameworks``) and clauses."""

    id: str
    name: str
    clauses: tuple[Clause, ...]


# Records a run's trail can hold; a clause naming one is supported when the run has it.
RECORDS = {
    "trail": "hash-chained, signed event log of the run",
    "policy": "the policy in force, with its hash",
    "lineage": "content hashes of datasets and models",
    "drift": "train-versus-test drift table",
    "privacy": "differential-privacy accounting record",
    "approvals": "recorded human approvals or rejections",
    "waivers": "recorded, time-limited waivers",
    "model_card": "model-card metadata supplied by people",
    "variants": "re-audit of every optimized (LiteRT) variant",
    "registration": "registry entry with a signed manifest",
}

C = Clause
LINEAGE, METADATA, APPROVALS = ("accountability.lineage_recorded", "accountability.metadata_present",
                                "accountability.approvals")

EU_AI_ACT = Framework("eu-ai-act", "EU AI Act (Regulation (EU) 2024/1689)", (
    C("eu-ai-act:art-9", "Art. 9: a documented risk-management process running across the whole lifecycle",
      ("fairness.", "performance.", "optimize.", "privacy."), ("policy", "waivers"),
      "Identifying and estimating foreseeable risks, including misuse, and choosing mitigations "
      "is an organisational process; the checks only test the risks the policy names."),
    C("eu-ai-act:art-10", "Art. 10: training, validation and test data are governed, relevant, "
      "representative and examined for bias", ("data.", "drift.", "fairness.", "privacy."),
      ("lineage", "drift"),
      "Whether the data is representative of the people the system will meet, its collection "
      "context and the lawful basis for processing sensitive attributes are not testable here."),
    C("eu-ai-act:art-12", "Art. 12: events are logged automatically over the system's lifetime",
      (LINEAGE,), ("trail", "lineage"),
      "Logging during operation after deployment depends on how the model is served and kept."),
    C("eu-ai-act:art-13", "Art. 13: deployers get enough information to understand and use the "
      "output properly", (METADATA,), ("model_card",),
      "Instructions for use must be written for deployers; a generated model card is an input, "
      "not the instructions themselves."),
    C("eu-ai-act:art-14", "Art. 14: people can oversee the system effectively while it is used",
      (APPROVALS,), ("approvals",),
      "An approval before deployment is recorded; oversight measures in operation (ability to "
      "intervene, stop or override, competence of overseers) are not."),
    C("eu-ai-act:art-15", "Art. 15: appropriate accuracy, robustness and cybersecurity",
      ("performance.", "optimize.", "drift."), ("variants",),
      "Adversarial robustness, data poisoning, model extraction and other security threats are "
      "not tested; accuracy is measured on the held-out test set only."),
    C("eu-ai-act:annex-iv(1)", "Annex IV(1): general description of the system and its purpose",
      (METADATA,), ("model_card",), "Hardware, user interface and interaction with other "
      "systems are not described by the pipeline."),
    C("eu-ai-act:annex-iv(2)", "Annex IV(2): how the system was built: design, data, training "
      "methods, validation", ("data.", LINEAGE, "privacy."), ("lineage", "policy", "privacy"),
      "Design choices and their rationale, and data-labelling procedures, need a human author."),
    C("eu-ai-act:annex-iv(3)", "Annex IV(3): monitoring, functioning and control, including "
      "accuracy for the groups it affects", ("performance.", "fairness."), (),
      "Foreseeable unintended outcomes and their sources must be described by people."),
    C("eu-ai-act:annex-iv(4)", "Annex IV(4): why the chosen performance metrics are appropriate",
      (), ("policy",), "The policy lists the metrics and thresholds; the justification for them is "
      "not recorded."),
    C("eu-ai-act:annex-iv(5)", "Annex IV(5): the risk-management system of Art. 9", (), ("policy",),
      "The risk-management system itself is organisational documentation."),
    C("eu-ai-act:annex-iv(6)", "Annex IV(6): changes made to the system over its lifecycle",
      (), ("trail",), "Changes outside the pipeline (manual retraining, code changes) are only "
      "visible through the recorded code revision."),
    C("eu-ai-act:annex-iv(7)", "Annex IV(7): harmonised standards or other specifications applied",
      (), (), "Not produced by automated evidence."),
    C("eu-ai-act:annex-iv(8)", "Annex IV(8): a copy of the EU declaration of conformity", (), (),
      "Not produced by automated evidence."),
    C("eu-ai-act:annex-iv(9)", "Annex IV(9): how performance is evaluated after the system is placed "
      "on the market", ("drift.",), (), "A post-market monitoring plan must be written; `rai monitor` "
      "results can feed it.", ("monitor",)),
))

NIST_AI_RMF = Framework("nist-ai-rmf", "NIST AI Risk Management Framework 1.0", (
    C("nist-ai-rmf:govern-1.4", "Govern 1.4: the risk-management process and its outcomes are "
      "documented transparently", (METADATA,), ("policy", "trail", "model_card"),
      "Organisational policies and procedures are outside the run."),
    C("nist-ai-rmf:govern-2.1", "Govern 2.1: roles, responsibilities and lines of communication are "
      "documented", (APPROVALS,), ("approvals",), "Who holds which role is asserted by the "
      "approver, not verified against an organisation chart."),
    C("nist-ai-rmf:map-1.1", "Map 1.1: the intended purpose, context and expected uses are understood "
      "and documented", (METADATA,), ("model_card",), "The quality of the stated purpose is "
      "for people to judge."),
    C("nist-ai-rmf:map-2.3", "Map 2.3: scientific integrity and test, evaluation, verification and "
      "validation (TEVV) considerations, including data, are documented", ("data.", "drift."),
      ("lineage", "drift"), "Construct validity of the label and features is not testable here."),
    C("nist-ai-rmf:measure-2.1", "Measure 2.1: the test sets, metrics and tools used in TEVV are "
      "documented", ("performance.", "fairness."), ("policy", "lineage"),
      "Whether the test set is adequate for the deployment context is for people to judge."),
    C("nist-ai-rmf:measure-2.5", "Measure 2.5: the system is shown to be valid and reliable, and the "
      "limits of its generalisation are documented", ("performance.", "drift.", "optimize."), ("variants",),
      "Generalisation beyond the test distribution is not demonstrated."),
    C("nist-ai-rmf:measure-2.7", "Measure 2.7: security and resilience are evaluated and documented",
      (), (), "No security or adversarial testing is performed."),
    C("nist-ai-rmf:measure-2.10", "Measure 2.10: privacy risk is examined and documented",
      ("privacy.",), ("privacy",), "Differential privacy bounds what the model reveals about any one "
      "training row; it does not address privacy of inputs at serving time or re-identification "
      "through other channels."),
    C("nist-ai-rmf:measure-2.11", "Measure 2.11: fairness and bias are evaluated and the results "
      "documented", ("fairness.", "data.group_size", "optimize.fairness_gap_increase"), ("variants",), "Only the sensitive attributes and metrics "
      "named in the policy are measured; harms that these metrics do not capture are not."),
    C("nist-ai-rmf:manage-1.1", "Manage 1.1: a decision is made on whether the system achieves its "
      "purpose and should proceed", (), ("approvals", "policy"), "The gate decision is automated; "
      "the go/no-go decision for the deployment context belongs to people."),
    C("nist-ai-rmf:manage-2.2", "Manage 2.2: mechanisms sustain the value of deployed systems",
      ("optimize.", "drift."), ("registration",), "Operational monitoring after deployment is "
      "outside a pipeline run.", ("optimize", "monitor")),
    C("nist-ai-rmf:manage-4.1", "Manage 4.1: post-deployment monitoring, including response and "
      "decommissioning plans", ("drift.",), (), "Incident response and decommissioning plans are "
      "not produced.", ("monitor",)),
))

ISO_42001 = Framework("iso-42001", "ISO/IEC 42001:2023 Annex A", (
    C("iso-42001:a.2.2", "A.2.2: a documented AI policy", (), ("policy",),
      "The machine-readable policy is one part; the organisation's AI policy is broader."),
    C("iso-42001:a.3.2", "A.3.2: roles and responsibilities for AI are defined and assigned",
      (APPROVALS,), ("approvals",), "Assignment of roles is not verified."),
    C("iso-42001:a.4.3", "A.4.3: the data resources used are documented", ("data.",), ("lineage",),
      "Licences and terms of use of the data are not recorded."),
    C("iso-42001:a.5.4", "A.5.4: impacts of the system on individuals and groups are assessed",
      ("fairness.",), (), "A full impact assessment considers harms beyond measured group metrics."),
    C("iso-42001:a.5.5", "A.5.5: societal impacts of the system are assessed", (), (),
      "Not produced by automated evidence."),
    C("iso-42001:a.6.2.4", "A.6.2.4: the system is verified and validated against its requirements",
      ("performance.", "fairness.", "optimize."), ("policy", "variants"),
      "Requirements other than the policy's thresholds are not verified."),
    C("iso-42001:a.6.2.5", "A.6.2.5: deployment is planned and controlled", (APPROVALS,),
      ("approvals", "registration"), "The deployment plan itself is not recorded."),
    C("iso-42001:a.6.2.6", "A.6.2.6: the system is operated and monitored", ("drift.",), (),
      "Operation after deployment is outside a pipeline run.", ("monitor",)),
    C("iso-42001:a.6.2.7", "A.6.2.7: technical documentation is available to those who need it",
      (METADATA, LINEAGE), ("model_card", "lineage"),
      "Documentation beyond the generated report and model card must be written and kept by people."),
    C("iso-42001:a.6.2.8", "A.6.2.8: event logs are recorded", (LINEAGE,), ("trail",),
      "Logs of the system in operation depend on the serving environment."),
    C("iso-42001:a.7.2", "A.7.2: data for development is managed, including privacy",
      ("privacy.", "data."), ("privacy", "lineage"),
      "Retention, access control and deletion of the data are not checked."),
    C("iso-42001:a.7.3", "A.7.3: how data is acquired is documented", ("data.required_columns",), ("lineage",),
      "Where the data came from and under what terms is not recorded."),
    C("iso-42001:a.7.4", "A.7.4: data quality is defined and checked", ("data.", "drift."), ("drift",),
      "Label correctness and measurement error are not checked."),
    C("iso-42001:a.7.5", "A.7.5: data provenance is recorded", (), ("lineage",),
      "Content hashes identify the data; its origin before ingestion is not recorded."),
    C("iso-42001:a.8.2", "A.8.2: users get the documentation and information they need",
      (METADATA,), ("model_card",), "User-facing documentation must be written by people."),
    C("iso-42001:a.9.4", "A.9.4: the system is used as intended", (), ("model_card",),
      "Use in practice is outside a pipeline run."),
))

FRAMEWORKS: tuple[Framework, ...] = (EU_AI_ACT, NIST_AI_RMF, ISO_42001)

# What no check in a pipeline run can show, whatever the policy; every report lists it.
NOT_COVERED: tuple[str, ...] = (
    "Whether the system is high-risk, and the conformity assessment itself (legal judgement).",
    "The organisation's risk- and quality-management systems as processes (EU AI Act Art. 9 and "
    "17, ISO/IEC 42001 clauses 4-10).",
    "Whether the training data represents the population the system will be used on, and the "
    "lawful basis for processing the sensitive attributes.",
    "Harms not captured by the fairness metrics and attributes the policy names, including "
    "intersectional groups it does not list.",
    "Security: adversarial examples, data poisoning, model extraction or inversion, supply chain.",
    "Explainability of individual decisions.",
    "Human oversight in operation: whether people can and do intervene, and their competence.",
    "Instructions for use, post-market monitoring plans and incident reporting.",
    "Societal and environmental impacts.",
)


def clause_matches(ref: str, clause_id: str) -> bool:
    """True when a ``maps_to`` reference names ``clause_id`` or one of its sub-items.

    ``eu-ai-act:art-10(2)(f)`` and ``eu-ai-act:art-10.2`` name ``eu-ai-act:art-10``, but
    ``eu-ai-act:art-100`` does not.
    """
    ref, clause_id = ref.lower(), clause_id.lower()
    if ref == clause_id:
        return True
    return ref.startswith(clause_id) and ref[len(clause_id)] in "(.-"
