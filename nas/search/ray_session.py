"""Start or join Ray the same way for the search's executor and for `nas confirm`.

Ray puts unix sockets at <temp>/session_<date>_<time>_<usec>_<pid>/sockets/plasma_store (about 65 characters
below <temp>), and a socket path may not exceed 107 bytes: a local session goes to a short private folder
unless the given one is short enough.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from nas_common.errors import UserInputError

MAX_SOCKET_DIR = 40
REACH_TIMEOUT_S = 5.0
RAY_PORT = 6379  # `ray start --head`'s default GCS port
CLIENT_PORT = 10001  # Ray Client's (ray://)


def check_reachable(address: str) -> None:
    """Refuse a cluster address nothing listens at, in seconds: `ray.init` itself retries an unreachable GCS for
    minutes and prints its own retry lines meanwhile. `auto` (find the local cluster) is left to Ray."""
    import socket

    if address == "auto":
        return
    rest = address.removeprefix("ray://")
    host, sep, port_text = rest.rpartition(":")
    if not sep:
        host, port_text = rest, str(CLIENT_PORT if address.startswith("ray://") else RAY_PORT)
    host = host.strip("[]")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UserInputError(f"--ray-address {address!r} is not HOST:PORT (e.g. 10.0.0.1:6379 or ray://10.0.0.1:10001)")
    try:
        with socket.create_connection((host, int(port_text)), timeout=REACH_TIMEOUT_S):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise UserInputError(f"cannot reach the Ray cluster at {address}: {reason} (is `ray start --head` running "
                             "there, and the port open?)") from None


def start_ray(address: str | None, num_cpus: int, temp_dir: Path | None = None) -> Path | None:
    """`ray.init` at the cluster `address`, or a local Ray with `num_cpus`. Returns the private session folder it
    made (the caller removes it with `stop_ray`), or None. A failure to start is one line (UserInputError)."""
    import ray

    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    # Ray announces that a new local cluster uses token authentication (its default, kept): nothing a user has
    # to act on, so that one logger is quiet.
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    own: Path | None = None
    if address:
        check_reachable(address)
    try:
        if address:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        else:
            if temp_dir is not None and len(str(Path(temp_dir).resolve())) <= MAX_SOCKET_DIR:
                session = Path(temp_dir).resolve()
                session.mkdir(parents=True, exist_ok=True)
            else:
                session = own = Path(tempfile.mkdtemp(prefix="nas-ray-"))
            ray.init(num_cpus=num_cpus, include_dashboard=False, _temp_dir=str(session), log_to_driver=False,
                     configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as err:
        if own is not None:
            shutil.rmtree(own, ignore_errors=True)
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserInputError(f"cannot start {where}: {first}") from None
    return own


def stop_ray(own: Path | None) -> None:
    import ray

    ray.shutdown()
    if own is not None:
        shutil.rmtree(own, ignore_errors=True)
