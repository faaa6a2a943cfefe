"""The Docker adapter: the only module that talks to Docker engines (through the docker SDK)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from butido_py.config.model import EndpointConfig
from butido_py.errors import EndpointError

if TYPE_CHECKING:
    # docker (and requests) are imported when first used: commands that never talk to an
    # engine start faster without them.
    import docker
    import docker.tls
    from docker.api.client import APIClient


@dataclass(frozen=True, slots=True)
class EngineInfo:
    endpoint: str
    version: str
    api_version: str
    os: str
    kernel: str


def tls_config(endpoint: EndpointConfig) -> docker.tls.TLSConfig | None:
    """The SDK's TLS settings of `endpoint`; a missing certificate or key file is an
    `EndpointError` naming the key (the SDK's own message names none)."""
    if endpoint.tls is None:
        return None
    tls = endpoint.tls
    for key, path in (
        ("tls_ca_cert", tls.ca_cert),
        ("tls_client_cert", tls.client_cert),
        ("tls_client_key", tls.client_key),
    ):
        if path is not None and not path.is_file():
            raise EndpointError(
                f"endpoint {endpoint.name!r} ({endpoint.uri}): {key} {str(path)!r} is not a file",
                hint=f"fix {key} of docker.endpoints.{endpoint.name} in config.toml "
                "(docs/farm.md: adding a build host over TLS)",
            )
    client_cert = (
        (str(tls.client_cert), str(tls.client_key))
        if tls.client_cert is not None and tls.client_key is not None
        else None
    )
    return _endpoint_tls_class()(
        client_cert=client_cert,
        ca_cert=str(tls.ca_cert) if tls.ca_cert is not None else None,
        verify=tls.verify,
    )


@cache
def _endpoint_tls_class() -> type[docker.tls.TLSConfig]:
    """TLSConfig whose CA certificate wins over REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE. requests
    lets those replace a session's `verify` on every request (psf/requests#3829), so an
    endpoint's own CA would be ignored wherever they are set -- already while the client asks
    the engine for its API version, inside the SDK's constructor. The client stops reading the
    environment right when the SDK applies the TLS settings; proxies are read from it once."""
    import docker.tls  # noqa: PLC0415
    from requests.utils import get_environ_proxies  # noqa: PLC0415

    class EndpointTLSConfig(docker.tls.TLSConfig):
        def configure_client(self, client: APIClient) -> None:
            super().configure_client(client)
            if client.trust_env:
                address = str(client.base_url).split("://", 1)[-1]
                client.proxies.update(get_environ_proxies(f"https://{address}"))
                client.trust_env = False

    return EndpointTLSConfig


def unreachable(endpoint: EndpointConfig, reason: object) -> EndpointError:
    tls = tls_failure(endpoint, reason)
    if tls is not None:
        return tls
    return EndpointError(
        f"endpoint {endpoint.name!r} ({endpoint.uri}): Docker engine not reachable: {reason}",
        hint="check that the daemon runs and the uri in config.toml is right "
        "(scripts/services starts a local one)",
    )


@contextmanager
def open_client(
    endpoint: EndpointConfig, *, timeout: int | None = None
) -> Iterator[docker.DockerClient]:
    """A client for `endpoint`. API calls time out after `timeout` seconds, by default the
    endpoint's `timeout` (meant for checks); jobs pass a long one for streams and waits."""
    import docker  # noqa: PLC0415
    import docker.errors  # noqa: PLC0415
    from requests.exceptions import RequestException  # noqa: PLC0415

    try:
        client = docker.DockerClient(
            base_url=endpoint.docker_url,
            tls=tls_config(endpoint) or False,
            timeout=timeout if timeout is not None else endpoint.timeout,
        )
    except (docker.errors.DockerException, RequestException) as exc:
        raise unreachable(endpoint, exc) from exc
    try:
        yield client
    except (docker.errors.DockerException, RequestException) as exc:
        if isinstance(exc, docker.errors.APIError):
            raise EndpointError(f"endpoint {endpoint.name!r}: Docker API error: {exc}") from exc
        raise unreachable(endpoint, exc) from exc
    finally:
        client.close()


def ping(endpoint: EndpointConfig) -> float:
    """Ping the engine once; returns the round trip in seconds."""
    with open_client(endpoint) as client:
        started = time.monotonic()
        client.ping()
        return time.monotonic() - started


def engine_info(endpoint: EndpointConfig) -> EngineInfo:
    with open_client(endpoint) as client:
        version = client.version()
        return EngineInfo(
            endpoint=endpoint.name,
            version=str(version.get("Version", "?")),
            api_version=str(version.get("ApiVersion", "?")),
            os=str(version.get("Os", "?")),
            kernel=str(version.get("KernelVersion", "?")),
        )


#: An OpenSSL error as Python's ssl module words it, e.g. "[SSL: CERTIFICATE_VERIFY_FAILED]
#: certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)".
_SSL_ERROR = re.compile(r"\[(?:SSL|X509)(?:: ([A-Z0-9_]+))?\] (.+?) \(_ssl\.c:\d+\)")
_PLAIN_TO_TLS = "Client sent an HTTP request to an HTTPS server"
_REFUSED_CLIENT = ("CERTIFICATE_REQUIRED", "BAD_CERTIFICATE", "UNKNOWN_CA", "ACCESS_DENIED")
_NOT_TLS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG")
_TLS_DOC = "(docs/farm.md: adding a build host over TLS)"


def tls_failure(endpoint: EndpointConfig, reason: object) -> EndpointError | None:
    """One line naming the endpoint, with a hint, for a failure to speak TLS with its engine
    (the SDK's own text is a nest of wrapped exceptions); None for any other failure."""
    text = str(reason)
    prefix = f"endpoint {endpoint.name!r} ({endpoint.uri}): TLS"
    if _PLAIN_TO_TLS in text:
        return EndpointError(
            f"{prefix}: the engine answers only over TLS",
            hint=f"set tls_verify, tls_ca_cert, tls_client_cert and tls_client_key of "
            f"docker.endpoints.{endpoint.name} {_TLS_DOC}",
        )
    found = _SSL_ERROR.search(text)
    if found is None:
        return None
    code, detail = found.group(1) or "", found.group(2)
    message, hint = _tls_explanation(endpoint, code, detail)
    return EndpointError(f"{prefix}: {message}", hint=f"{hint} {_TLS_DOC}")


#: Failures whose explanation needs nothing of the endpoint: code -> (message, hint).
_TLS_PLAIN_EXPLANATIONS = {
    "KEY_VALUES_MISMATCH": (
        "tls_client_key is not the key of tls_client_cert",
        "give the key the client certificate was made for",
    ),
    **dict.fromkeys(
        _NOT_TLS,
        (
            "the engine does not answer with TLS on this port",
            "check the uri's port, or remove the tls_* keys for an engine without TLS",
        ),
    ),
}


def _tls_explanation(endpoint: EndpointConfig, code: str, detail: str) -> tuple[str, str]:
    if code == "CERTIFICATE_VERIFY_FAILED":
        return _server_not_trusted(endpoint, detail)
    if any(part in code for part in _REFUSED_CLIENT):
        return _client_refused(endpoint, detail)
    message, hint = _TLS_PLAIN_EXPLANATIONS.get(
        code, ("handshake failed", "check the tls_* keys of the endpoint")
    )
    return f"{message} ({detail})", hint


def _server_not_trusted(endpoint: EndpointConfig, detail: str) -> tuple[str, str]:
    if "mismatch" in detail:
        return (
            f"the engine's certificate does not name this host ({detail})",
            "the engine's certificate needs the uri's host in its subjectAltName",
        )
    ca = endpoint.tls.ca_cert if endpoint.tls is not None else None
    hint = (
        f"tls_ca_cert ({ca or 'not set'}) must be the CA that signed the engine's certificate "
        "(dockerd --tlscert); `openssl verify -CAfile CA CERT` shows whether it did"
    )
    return f"the engine's certificate is not trusted ({detail})", hint


def _client_refused(endpoint: EndpointConfig, detail: str) -> tuple[str, str]:
    cert = endpoint.tls.client_cert if endpoint.tls is not None else None
    if cert is None:
        return (
            f"the engine demands a client certificate ({detail})",
            "set tls_client_cert and tls_client_key",
        )
    hint = (
        f"tls_client_cert ({cert}) must be a client certificate (extendedKeyUsage clientAuth) "
        "signed by the CA the engine trusts (dockerd --tlscacert)"
    )
    return f"the engine refused the client certificate ({detail})", hint
