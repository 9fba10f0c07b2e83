"""Run the app under uvicorn: bind, serve with one or more workers, shut down gracefully.

The listening socket is bound here (so ``port=0`` reports the port it got before serving).
One worker serves in this process; with more, uvicorn's supervisor starts worker processes
that each verify and load the entry again (:func:`lifecycle.serving.app.app_from_environment`)
and share the socket. SIGTERM or SIGINT: stop accepting, finish the requests in flight (up to
``graceful_timeout``), commit the open prediction-log segment, exit.
"""

from __future__ import annotations

import os
import socket
import tempfile

from governance.errors import UserError
from governance.trail.signing import KeyRing
from governance.workspace import Workspace
from lifecycle.serve import load_verified
from lifecycle.serving.integrity import entry_checks, first_problem
from lifecycle.serving.metrics import MULTIPROC_ENV
from lifecycle.serving.protocol import GuardedHttpToolsProtocol
from lifecycle.serving.service import Service
from lifecycle.serving.settings import SETTINGS_ENV, ServeSettings


def load_service(settings: ServeSettings) -> Service:
    """Verify and load the entry named by ``settings``; UserError (refusal) when it does not verify."""
    ws = Workspace.at(settings.workspace)
    verified = load_verified(settings.registry, settings.name, settings.version, KeyRing(ws.keys).trusted(),
                             roles=("model", "preprocess", "reference"))
    reason = first_problem(verified.entry, entry_checks(ws))
    if reason:
        raise UserError(f"{verified.entry.dir}: refusing to serve {verified.entry.name} v{verified.entry.version}: {reason}")
    return Service(verified, settings, verified.files.get("reference"))


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket (IPv6 when ``host`` contains ':'); UserError when the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run(settings: ServeSettings, service: Service, sock: socket.socket) -> None:
    """Serve until SIGTERM/SIGINT (``service`` is used by a single worker, else reloaded in each)."""
    import uvicorn

    from lifecycle.serving.app import create_app

    options = {"http": GuardedHttpToolsProtocol, "lifespan": "on", "log_level": "warning", "access_log": False,
               "timeout_keep_alive": settings.keep_alive, "timeout_graceful_shutdown": settings.graceful_timeout,
               "server_header": False}
    if settings.workers == 1:
        uvicorn.Server(uvicorn.Config(create_app(service), **options)).run(sockets=[sock])
        return
    from uvicorn.supervisors import Multiprocess

    os.environ[SETTINGS_ENV] = settings.to_env()
    with tempfile.TemporaryDirectory(prefix="rai-metrics-") as shared:
        os.environ[MULTIPROC_ENV] = shared  # workers share counters through files here
        config = uvicorn.Config("lifecycle.serving.app:app_from_environment", factory=True,
                                workers=settings.workers, **options)
        Multiprocess(config, sockets=[sock]).run()


def describe(service: Service, sock: socket.socket) -> str:
    """The line ``rai serve`` prints once it listens."""
    host, port = sock.getsockname()[:2]
    entry, path = service.entry, service.scorer.path
    log = "every decision logged" if service.settings.prediction_log else "prediction log OFF"
    return (f"serving {entry.name} v{entry.version} ({entry.body.get('variant')}, sha256 "
            f"{entry.body['model_sha256'][:12]}..., {path} scorer) on http://{host}:{port} with "
            f"{service.settings.workers} worker(s); manifest verified; {log}; Ctrl-C stops")

