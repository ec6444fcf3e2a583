# SPDX-License-Identifier: LGPL-2.1-or-later
"""A client of kysod, the kyso signing daemon, over its Unix socket.

Standard library only. See README.md next to this package, and docs/api.md
of kyso for the API itself::

    import hashlib, kyso

    client = kyso.Client()
    cert = next(c for c in client.certificates() if c["usable"])
    sig = client.sign(cert["id"], hashlib.sha256(record).digest())
"""
from .client import (HASH_ALGORITHMS, Batch, BatchItem, BatchResult, Client, Event,
                     EventStream, Progress, Signature, UnixHTTPConnection, default_socket)
from .errors import *  # noqa: F401,F403 (one exception class per error code)
from .errors import BY_CODE, KysoError, from_answer

__version__ = "0.1.0"
