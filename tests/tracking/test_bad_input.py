"""Bad MLflow settings are one clear line (exit 2), never a traceback; MLflow is imported only when used."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import rai

pytestmark = pytest.mark.mlflow

ROOT = Path(__file__).resolve().parents[2]
SCHEMES = "http, https, file, sqlite, postgresql, mysql, databricks"
CREDENTIALS = ("must not carry credentials (they would be recorded in the audit trail); set "
               "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN instead")


@pytest.fixture
def refused_uri():
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize(("args", "expected"), [
    (["promote", "credit", "1"], "error: --mlflow: give the MLflow tracking URI (or set MLFLOW_TRACKING_URI)"),
    (["promote", "credit", "1", "--mlflow", "ftp://host"],
     f"error: --mlflow: unsupported tracking URI scheme 'ftp'; use one of {SCHEMES}"),
    (["promote", "credit", "1", "--mlflow", "https://alice:s3cret@mlflow.example"], f"error: --mlflow: {CREDENTIALS}"),
    (["promote", "credit", "1", "--mlflow", "http://"],
     "error: --mlflow: an http tracking URI needs a host, e.g. http://127.0.0.1:5000, got 'http://'"),
    (["promote", "../etc", "1", "--mlflow", "http://127.0.0.1:9"],
     "error: model name must be letters, digits, '.', '_' and '-' (up to 64, starting with a letter or digit, "
     "no '..'), got '../etc'"),
    (["promote", "credit", "1", "--alias", "champion now", "--mlflow", "http://127.0.0.1:9"],
     "error: alias 'champion now': expected a letter, then letters, digits, '_' or '-'"),
    (["mlflow", "pull", "credit@champion", "--into", "out", "--mlflow", "http://127.0.0.1:9"],
     "error: 'credit@champion': expected models:/NAME@ALIAS (e.g. models:/credit@champion) or models:/NAME/VERSION"),
    (["mlflow", "sync", "run;drop", "--mlflow", "http://127.0.0.1:9"],
     "error: run id 'run;drop': expected letters, digits, '.', '_' and '-'"),
    (["verify-registry", "--mlflow", "mlflow.example:5000"],
     f"error: --mlflow: unsupported tracking URI scheme 'mlflow.example'; use one of {SCHEMES}"),
], ids=["no-server", "scheme", "credentials", "no-host", "path-name", "alias", "models-uri", "run-id", "bare-host"])
def test_cli_mistakes_are_one_line_and_exit_2(args, expected, tmp_path, monkeypatch, rai_cli):
    monkeypatch.chdir(tmp_path)
    rai.open_trail(".rai", create=True).close()
    code, out, err = rai_cli(*args)
    assert (code, err) == (2, expected + "\n") and out == ""
    assert "s3cret" not in err


def test_an_unknown_run_and_an_unreachable_server_are_one_line(tmp_path, monkeypatch, rai_cli, refused_uri):
    monkeypatch.chdir(tmp_path)
    rai.open_trail(".rai", create=True).close()
    code, _, err = rai_cli("mlflow", "sync", "20250101T000000Z-abcdef", "--mlflow", refused_uri)
    assert (code, err) == (2, "error: unknown run id '20250101T000000Z-abcdef': the trail has no run.started event "
                              "for it\n")
    code, _, err = rai_cli("promote", "credit", "1", "--mlflow", refused_uri)
    assert (code, err) == (2, f"error: MLflow at {refused_uri} did not answer (3 attempts): MlflowException: "
                              "connection refused\n")
    assert rai_cli("mlflow", "sync")[0] == 2  # neither RUN_ID nor --pending: a usage error


@pytest.mark.parametrize(("mlflow", "options", "expected"), [
    ("ftp://host", {}, f"mlflow: unsupported tracking URI scheme 'ftp'; use one of {SCHEMES}"),
    ("https://bob:s3cret@mlflow.example", {}, f"mlflow: {CREDENTIALS}"),
    ({"mlflow": "http://127.0.0.1:5000", "experimnt": "x"}, {}, "mlflow.experimnt: Extra inputs are not permitted"),
    ({"mlflow": "http://127.0.0.1:5000", "timeout_s": 0}, {},
     "mlflow.timeout_s: Input should be greater than or equal to 1"),
    ({"mlflow": "http://127.0.0.1:5000", "experiment": "a\x1b[2Jb"}, {},
     "mlflow.experiment: must be a name without control characters, got 'a\\x1b[2Jb'"),
    (42, {}, "mlflow: expected a tracking URI or a mapping {mlflow: URI, experiment: NAME}, got int"),
    (None, {"mlflow_registry": True}, "mlflow_registry: registering in MLflow needs mlflow=URI too"),
    ("http://127.0.0.1:5000", {"mlflow_registry": "yes"}, "mlflow_registry: expected true or false, got 'yes'"),
], ids=["scheme", "credentials", "unknown-key", "timeout", "control-chars", "type", "registry-alone", "registry-type"])
def test_start_run_refuses_bad_tracking_before_recording_anything(mlflow, options, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("policy.yaml").write_text("policy: p\nversion: '1'\nowner: o\nrules: []\n")
    with pytest.raises(rai.UserError) as caught:
        rai.start_run("credit", policy="policy.yaml", mlflow=mlflow, **options)
    assert str(caught.value) == expected
    assert not Path(".rai").exists()


@pytest.mark.parametrize(("extra", "where", "message"), [
    ("tracking: {mlflow: 'https://alice:s3cret@mlflow.example'}", "tracking.mlflow", CREDENTIALS),
    ("tracking: {mlflow: 'http://127.0.0.1:5000', experment: credit}", "tracking.experment",
     "unknown key 'experment'; did you mean 'experiment'?"),
    ("tracking: {mlflow: 'http://127.0.0.1:5000', attempts: 50}", "tracking.attempts", "50"),
    ("tracking: {mlflow: 'http://127.0.0.1:5000'}\ndeploy2: x", "deploy2", "unknown key 'deploy2'"),
], ids=["credentials", "typo", "attempts", "unknown-top-level"])
def test_spec_tracking_mistakes_are_located_lines(extra, where, message, project, rai_cli):
    Path("pipeline.yaml").write_text(Path("pipeline.yaml").read_text() + extra + "\n")
    code, _, err = rai_cli("run", "pipeline.yaml", "--workspace", "ws")
    assert code == 2 and err.count("\n") == 1, err
    assert re.match(rf"error: pipeline\.yaml:\d+:\d+: {re.escape(where)}: .*{re.escape(message)}", err), err
    with rai.open_trail("ws") as trail:  # the failed run is recorded, and no credential with it
        recorded = [e.to_dict() for e in trail.events()]
    assert recorded[-1]["payload"]["decision"] == "failed" and "s3cret" not in str(recorded) + err


def test_deploy_to_mlflow_needs_a_tracking_block(project, rai_cli):
    spec = Path("pipeline.yaml").read_text().replace("  model_name: adult-small\n",
                                                     "  model_name: adult-small\n  target: mlflow\n")
    Path("pipeline.yaml").write_text(spec)
    code, _, err = rai_cli("run", "pipeline.yaml", "--workspace", "ws")
    line = next(i for i, text in enumerate(spec.splitlines(), 1) if "target: mlflow" in text)
    assert (code, err) == (2, f"error: pipeline.yaml:{line}:11: deploy.target: 'mlflow' needs a tracking block "
                              "naming the server: tracking: {mlflow: URI, experiment: NAME}\n")


def test_rai_and_its_mlflow_commands_start_without_importing_mlflow(tmp_path):
    code = textwrap.dedent("""
        import sys
        import rai, lifecycle.pipeline, lifecycle.session, lifecycle.mlflow_sync, lifecycle.mlflow_promote
        import lifecycle.mlflow_registry, rai.commands.mlflow, rai.commands.promote, rai.commands.verify_registry
        from rai.cli import main
        for argv in (["--help"], ["promote", "--help"], ["mlflow", "sync", "--help"], ["verify-registry", "--help"]):
            try:
                main(argv)
            except SystemExit as exit_:
                assert exit_.code == 0, argv
        print(sorted(m for m in sys.modules if m.split(".")[0] == "mlflow"))
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_without_the_mlflow_extra_tracking_is_one_line(tmp_path):
    code = textwrap.dedent("""
        import sys
        sys.modules["mlflow"] = None  # as if `pip install 'rai[mlflow]'` had not been run
        from pathlib import Path
        import rai
        Path("policy.yaml").write_text("policy: p\\nversion: '1'\\nowner: o\\nrules: []\\n")
        try:
            rai.start_run("credit", policy="policy.yaml", mlflow="http://127.0.0.1:5000")
        except rai.UserError as err:
            print(err)
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.stdout == "MLflow support is not installed: pip install 'rai[mlflow]'\n", done.stderr
