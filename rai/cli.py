"""Entry point of the ``rai`` command.

Subcommands live in :mod:`rai.commands` and are imported only when invoked, so ``rai --help``,
``rai policy lint`` and ``rai audit ...`` never import TensorFlow. User mistakes
(:class:`~governance.errors.UserError`) print one line and exit 2.
"""

from __future__ import annotations

import importlib
import sys

import click

from governance import __version__
from governance.errors import UserError
from governance.textsafe import printable

# name -> (module, attribute, one-line help). Help is duplicated here so that `rai --help`
# does not have to import every command module.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("rai.commands.run", "run", "Run a policy-checked pipeline (ingest → train → evaluate → optimize → deploy)."),
    "audit": ("rai.commands.audit", "audit", "Audit a predictions or data file: fairness, drift (no training)."),
    "policy": ("rai.commands.policy", "policy", "Lint, test and start policy files; print the policy JSON Schema."),
    "checks": ("rai.commands.checks", "checks", "List every registered check with its stages and parameters."),
    "trail": ("rai.commands.trail", "trail", "Verify, checkpoint, prove, show and export the audit trail."),
    "approve": ("rai.commands.approve", "approve", "Record a decision on a run (approve, reject, withdraw a rejection) in the trail."),
    "keys": ("rai.commands.keys", "keys", "Create and list approvers' signing keys."),
    "revoke": ("rai.commands.revoke", "revoke", "Revoke a registered model version; servers stop serving it."),
    "report": ("rai.commands.report", "report", "Generate or verify a compliance report of a run."),
    "model-card": ("rai.commands.report", "model_card", "Generate the model card of a run."),
    "serve": ("rai.commands.serve", "serve", "Serve a registered model over HTTP."),
    "predictions": ("rai.commands.predictions", "predictions", "Verify, show, export and recover the prediction log."),
    "monitor": ("rai.commands.monitor", "monitor", "Check a batch of live data against a deployed model's policy."),
    "dashboard": ("rai.commands.dashboard", "dashboard", "Open the Streamlit audit dashboard."),
    "mlflow": ("rai.commands.mlflow", "mlflow", "Mirror runs into MLflow again; pull verified model versions from it."),
    "promote": ("rai.commands.promote", "promote", "Move an MLflow alias (champion) to a governed, approved version."),
    "verify-registry": ("rai.commands.verify_registry", "verify_registry", "Report MLflow versions and aliases the trail does not vouch for."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        try:
            return getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as err:
            if err.name == module:  # command not built in this version
                return None
            raise

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][2]) for name in sorted(COMMANDS)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rai")
def cli() -> None:
    """rai: policy-checked ML pipelines, a tamper-evident audit trail and compliance reports."""


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user mistakes become one line on stderr and exit code 2."""
    try:
        # With standalone_mode=False click returns the code of ``ctx.exit(n)`` instead of exiting.
        code = cli.main(args=argv, prog_name="rai", standalone_mode=False)
    except UserError as err:  # the message may quote a file's column names or values: shown, never obeyed
        click.echo(f"error: {printable(err)}", err=True)
        sys.exit(err.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.UsageError as err:  # one line, like every other mistake; --help shows the usage
        where = f"{err.ctx.command_path}: " if err.ctx is not None else ""
        click.echo(f"error: {printable(where + err.format_message())} (see --help)", err=True)
        sys.exit(2)
    except click.ClickException as err:
        click.echo(f"error: {printable(err.format_message())}", err=True)
        sys.exit(2 if err.exit_code in (1, 2) else err.exit_code)
    except click.exceptions.Exit as err:
        sys.exit(err.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
