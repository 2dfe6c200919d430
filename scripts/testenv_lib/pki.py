"""Certificates and keys for one test control plane: a CA, the API server's serving
certificate, client certificates (admin, controller-manager) and service-account signing keys.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .config import MissingPrerequisiteError

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

# The first address of --service-cluster-ip-range: the in-cluster `kubernetes` Service.
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
KUBERNETES_SERVICE_IP = "10.0.0.1"
VALIDITY = datetime.timedelta(days=365)


@dataclass(frozen=True)
class Pki:
    """Paths of the files written by `generate`."""

    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def serving_cert(self) -> Path:
        return self.directory / "apiserver.crt"

    @property
    def serving_key(self) -> Path:
        return self.directory / "apiserver.key"

    def client_cert(self, name: str) -> Path:
        return self.directory / f"{name}.crt"

    def client_key(self, name: str) -> Path:
        return self.directory / f"{name}.key"

    @property
    def service_account_key(self) -> Path:
        return self.directory / "sa.key"

    @property
    def service_account_public_key(self) -> Path:
        return self.directory / "sa.pub"


# Client identities: file stem -> (user name, groups). system:masters bypasses RBAC; the
# controller-manager gets the identity that the bootstrap RBAC policy grants its role to.
CLIENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": ("lmfchart-admin", ("system:masters",)),
    "controller-manager": ("system:kube-controller-manager", ()),
}


def _require_cryptography() -> None:
    try:
        import cryptography  # noqa: F401
    except ImportError as error:
        raise MissingPrerequisiteError(
            "the Python package `cryptography` is needed to make the test certificates "
            "(pip install cryptography)"
        ) from error


def _write_key(path: Path, key: EllipticCurvePrivateKey) -> None:
    from cryptography.hazmat.primitives import serialization

    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    from cryptography.hazmat.primitives import serialization

    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def generate(directory: Path) -> Pki:
    """Write a fresh CA, serving and client certificates and service-account keys."""
    _require_cryptography()
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    pki = Pki(directory)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)

    def name(common_name: str, organizations: tuple[str, ...] = ()) -> x509.Name:
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        return x509.Name(attributes)

    def base(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey,
             is_ca: bool) -> x509.CertificateBuilder:
        """What the CA and every leaf certificate share: validity, constraints, key usage."""
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=is_ca,
                    crl_sign=is_ca, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("lmfchart-testenv-ca")
    ca_cert = (
        base(ca_name, ca_name, ca_key.public_key(), is_ca=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_cert(pki.ca_cert, ca_cert)
    _write_key(directory / "ca.key", ca_key)

    def leaf(subject: x509.Name, usage: x509.ObjectIdentifier,
             san: list[x509.GeneralName] | None) -> tuple[x509.Certificate,
                                                          EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            base(subject, ca_name, key.public_key(), is_ca=False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(ca_key, hashes.SHA256()), key

    serving_names: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address(KUBERNETES_SERVICE_IP)),
        x509.DNSName("localhost"),
        x509.DNSName("kubernetes"),
        x509.DNSName("kubernetes.default"),
        x509.DNSName("kubernetes.default.svc"),
        x509.DNSName("kubernetes.default.svc.cluster.local"),
    ]
    cert, key = leaf(name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH, serving_names)
    _write_cert(pki.serving_cert, cert)
    _write_key(pki.serving_key, key)

    for stem, (user, groups) in CLIENTS.items():
        cert, key = leaf(name(user, groups), ExtendedKeyUsageOID.CLIENT_AUTH, None)
        _write_cert(pki.client_cert(stem), cert)
        _write_key(pki.client_key(stem), key)

    # Service-account tokens are signed with RS256, the algorithm every client understands.
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pki.service_account_key.write_bytes(
        sa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    pki.service_account_key.chmod(0o600)
    pki.service_account_public_key.write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return pki
