"""The one-line explanations of TLS failures (endpoint/docker.py `tls_failure`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from butido_py.config.model import EndpointConfig, EndpointType, TlsConfig
from butido_py.endpoint.docker import tls_failure, unreachable

TLS = TlsConfig(
    verify=True,
    ca_cert=Path("/certs/ca.pem"),
    client_cert=Path("/certs/cert.pem"),
    client_key=Path("/certs/key.pem"),
)
ENDPOINT = EndpointConfig(
    name="farm", uri="tcp://build1:2376", endpoint_type=EndpointType.HTTP, maxjobs=1, tls=TLS
)


def wrapped(ssl_text: str) -> str:
    """How the SDK words an SSL failure while it asks for the API version."""
    return (
        "Error while fetching server API version: HTTPSConnectionPool(host='build1', port=2376): "
        f"Max retries exceeded with url: /version (Caused by SSLError(SSLError(1, '{ssl_text}')))"
    )


@pytest.mark.parametrize(
    ("ssl_text", "message", "hint"),
    [
        (
            (
                "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local "
                "issuer certificate (_ssl.c:1006)"
            ),
            (
                "the engine's certificate is not trusted (certificate verify failed: unable to get "
                "local issuer certificate)"
            ),
            "tls_ca_cert (/certs/ca.pem) must be the CA",
        ),
        (
            (
                "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, "
                "certificate is not valid for 'build1'. (_ssl.c:1006)"
            ),
            "the engine's certificate does not name this host",
            "subjectAltName",
        ),
        (
            "[SSL: SSLV3_ALERT_BAD_CERTIFICATE] sslv3 alert bad certificate (_ssl.c:2580)",
            "the engine refused the client certificate (sslv3 alert bad certificate)",
            "tls_client_cert (/certs/cert.pem) must be a client certificate",
        ),
        (
            "[X509: KEY_VALUES_MISMATCH] key values mismatch (_ssl.c:3926)",
            "tls_client_key is not the key of tls_client_cert (key values mismatch)",
            "give the key",
        ),
        (
            "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)",
            "the engine does not answer with TLS on this port (wrong version number)",
            "remove the tls_* keys",
        ),
        (
            "[SSL: NO_CIPHERS_AVAILABLE] no ciphers available (_ssl.c:1006)",
            "handshake failed (no ciphers available)",
            "check the tls_* keys",
        ),
    ],
)
def test_ssl_failures_are_one_line_naming_the_endpoint(
    ssl_text: str, message: str, hint: str
) -> None:
    error = tls_failure(ENDPOINT, wrapped(ssl_text))
    assert error is not None
    assert error.message.startswith("endpoint 'farm' (tcp://build1:2376): TLS: ")
    assert message in error.message
    assert "\n" not in error.message
    assert error.hint is not None
    assert hint in error.hint
    assert "docs/farm.md" in error.hint


def test_missing_client_certificate_asks_for_one() -> None:
    endpoint = EndpointConfig(
        name="farm",
        uri="tcp://build1:2376",
        endpoint_type=EndpointType.HTTP,
        maxjobs=1,
        tls=TlsConfig(verify=True, ca_cert=TLS.ca_cert, client_cert=None, client_key=None),
    )
    text = (
        "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required (_ssl.c:2580)"
    )
    error = tls_failure(endpoint, wrapped(text))
    assert error is not None
    assert "demands a client certificate" in error.message
    assert error.hint is not None
    assert error.hint.startswith("set tls_client_cert and tls_client_key")


def test_plain_http_to_a_tls_engine() -> None:
    plain = EndpointConfig(
        name="farm", uri="tcp://build1:2376", endpoint_type=EndpointType.HTTP, maxjobs=1
    )
    reason = '400 Client Error: Bad Request ("Client sent an HTTP request to an HTTPS server.")'
    error = unreachable(plain, reason)
    assert (
        error.message
        == "endpoint 'farm' (tcp://build1:2376): TLS: the engine answers only over TLS"
    )


def test_other_failures_keep_the_reachability_message() -> None:
    error = unreachable(ENDPOINT, "[Errno 111] Connection refused")
    assert tls_failure(ENDPOINT, "[Errno 111] Connection refused") is None
    assert "Docker engine not reachable: [Errno 111] Connection refused" in error.message
