"""Microsoft Entra ID's token service for one service principal, over loopback HTTPS.

azure-identity (through MSAL) talks only to TLS authorities, so this emulator serves TLS with a
certificate signed by a throwaway certificate authority made at start-up; a test trusts that
authority for its own process only (REQUESTS_CA_BUNDLE). It answers what MSAL asks for a client
credentials grant: the tenant's OpenID discovery document and the v2.0 token endpoint, with
Entra's error bodies (AADSTS codes). MSAL checks an authority host it does not know against
login.microsoftonline.com's instance discovery, which the connector turns off on request
(AZURE_COST_DISABLE_INSTANCE_DISCOVERY), as for private clouds. Issued tokens are remembered
with their expiry, so a resource emulator can tell a live token from an expired or unknown one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from connectors.emulators.server import Api, Call, EmulatorServer, Faults, Reply

DEMO_TENANT = "00000000-0000-0000-0000-000000tenant"
DEMO_CLIENT_ID = "00000000-0000-0000-0000-000000client"
DEMO_CLIENT_SECRET = "demo-client-secret-value"
ARM_RESOURCE = "https://management.azure.com"
_PATH = re.compile(
    r"^/(?P<tenant>[^/]+)/(?P<endpoint>v2\.0/\.well-known/openid-configuration|oauth2/v2\.0/token)$"
)


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the authority a client trusts, and the server's certificate and key."""

    authority: Path
    certificate: Path
    key: Path


def make_tls_files(folder: Path) -> TlsFiles:
    """A certificate authority and a server certificate for 127.0.0.1/localhost, valid a day."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Scorecard test authority")])
    ca_identifier = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    authority = (
        _certificate(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(ca_identifier, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    server = (
        _certificate(server_name, ca_name, server_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_identifier),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(folder / "authority.pem", folder / "server.pem", folder / "server-key.pem")
    files.authority.write_bytes(authority.public_bytes(serialization.Encoding.PEM))
    files.certificate.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def _certificate(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePublicKey, now: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


class TlsEmulatorServer(EmulatorServer):
    """EmulatorServer over HTTPS with the given certificate."""

    def __init__(self, api: Api, tls: TlsFiles, faults: Faults | None = None) -> None:
        super().__init__(api, faults=faults)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.certificate, tls.key)
        # The handshake happens in the request's own thread, so a stalled client blocks only itself.
        self._httpd.socket = context.wrap_socket(
            self._httpd.socket, server_side=True, do_handshake_on_connect=False
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"https://{host}:{port}"


def aad_error(status: int, error: str, code: int, description: str, base_url: str) -> Reply:
    """Entra's OAuth error body: the AADSTS code leads the description, ids and time follow."""
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return Reply(
        status,
        {
            "error": error,
            "error_description": (
                f"AADSTS{code}: {description}\r\nTrace ID: {trace}\r\n"
                f"Correlation ID: {correlation}\r\nTimestamp: {stamp}"
            ),
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"{base_url}/error?code={code}",
        },
    )


class EntraId:
    """One tenant with one app registration that may get tokens for Azure Resource Manager."""

    def __init__(
        self,
        tenant: str = DEMO_TENANT,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        expires_in: int = 3599,
    ) -> None:
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret = client_secret
        self.expires_in = expires_in
        self.discovery_requests = 0
        self.token_requests = 0
        self._issued: dict[str, float] = {}  # access token -> expiry, epoch seconds
        self._signing_key = secrets.token_bytes(32)
        self._lock = threading.Lock()

    @property
    def tokens_issued(self) -> int:
        return len(self._issued)

    def standing(self, token: str) -> str:
        """'valid', 'expired' or 'unknown': what a resource server learns from a bearer token."""
        with self._lock:
            expiry = self._issued.get(token)
        if expiry is None:
            return "unknown"
        return "valid" if time.time() < expiry else "expired"

    def throttled(self, retry_after: float) -> Reply:
        """The token service sheds load with 429 and Retry-After, which azure-core obeys."""
        return Reply(
            429,
            {
                "error": "temporarily_unavailable",
                "error_description": "Too many requests; retry after the Retry-After interval.",
            },
            {"Retry-After": f"{retry_after:g}"},
        )

    def handle(self, call: Call) -> Reply:
        match = _PATH.match(call.path)
        if not match:
            return Reply(404, {"error": "not_found", "error_description": call.path})
        if match["tenant"] != self.tenant:
            return aad_error(
                400,
                "invalid_tenant",
                90002,
                f"Tenant '{match['tenant']}' not found. Check to make sure you have the correct "
                "tenant ID and are signing into the correct cloud.",
                call.base_url,
            )
        if match["endpoint"].startswith("v2.0") and call.method == "GET":
            with self._lock:
                self.discovery_requests += 1
            return Reply(200, self.discovery(call.base_url))
        if match["endpoint"].startswith("oauth2") and call.method == "POST":
            with self._lock:
                self.token_requests += 1
            return self.token(call)
        return Reply(405, {"error": "invalid_request", "error_description": call.method})

    def discovery(self, base_url: str) -> dict[str, object]:
        """The fields of the v2.0 OpenID configuration that token clients read."""
        tenant_url = f"{base_url}/{self.tenant}"
        return {
            "issuer": f"{tenant_url}/v2.0",
            "authorization_endpoint": f"{tenant_url}/oauth2/v2.0/authorize",
            "token_endpoint": f"{tenant_url}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{tenant_url}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{tenant_url}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
        }

    def token(self, call: Call) -> Reply:
        """The client credentials grant: secret in the form body, one `<resource>/.default`."""
        form = {k: v[-1] for k, v in parse_qs(call.body.decode(), keep_blank_values=True).items()}
        base = call.base_url
        if form.get("grant_type") != "client_credentials":
            return aad_error(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type "
                f"'{form.get('grant_type', '')}'. This emulator serves client_credentials.",
                base,
            )
        if form.get("client_id") != self.client_id:
            return aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{form.get('client_id', '')}' was not found in the "
                f"directory '{self.tenant}'.",
                base,
            )
        if "client_secret" not in form:
            return aad_error(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or "
                "'client_secret'.",
                base,
            )
        if not secrets.compare_digest(form["client_secret"], self.client_secret):
            return aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                f"the client secret value, not the client secret ID, for a secret added to app "
                f"'{self.client_id}'.",
                base,
            )
        scope = form.get("scope", "")
        if not scope.endswith("/.default") or " " in scope.strip():
            return aad_error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier.",
                base,
            )
        if scope.removesuffix("/.default").rstrip("/") != ARM_RESOURCE:
            return aad_error(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {scope.removesuffix('/.default')} was not found "
                f"in the tenant named {self.tenant}.",
                base,
            )
        now = time.time()
        token = self._access_token(now, now + self.expires_in)
        with self._lock:
            self._issued[token] = now + self.expires_in
        return Reply(
            200,
            {
                "token_type": "Bearer",
                "expires_in": self.expires_in,
                "ext_expires_in": self.expires_in,
                "access_token": token,
            },
        )

    def _access_token(self, issued_at: float, expiry: float) -> str:
        """A JWT with an app token's claims (azure-identity reads tid/appid/oid for its logs)."""
        header = {"typ": "JWT", "alg": "HS256"}
        claims = {
            "aud": ARM_RESOURCE,
            "iss": f"https://sts.windows.net/{self.tenant}/",
            "iat": int(issued_at),
            "nbf": int(issued_at),
            "exp": int(expiry),
            "appid": self.client_id,
            "idtyp": "app",
            "oid": self.client_id,
            "sub": self.client_id,
            "tid": self.tenant,
            "uti": secrets.token_urlsafe(16),
        }
        signed = f"{_base64url(header)}.{_base64url(claims)}"
        signature = hmac.new(self._signing_key, signed.encode(), hashlib.sha256).digest()
        return f"{signed}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


def _base64url(part: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
