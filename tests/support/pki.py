"""Throw-away PKI for the test registries: a CA, a TLS server cert and a token-signing cert."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = dt.timedelta(days=2)
_BACKDATE = dt.timedelta(hours=1)


@dataclass(frozen=True)
class CertificateAuthority:
    """A self-signed CA: PEM certificate and PEM private key."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class ServerCertificate:
    """A TLS server certificate signed by ``ca_cert``."""

    cert: Path
    key: Path
    ca_cert: Path


@dataclass(frozen=True)
class TokenIssuerCertificate:
    """An RSA signing key for registry tokens and its certificate signed by ``ca_cert``."""

    cert: Path
    key: Path
    ca_cert: Path
    common_name: str


@dataclass(frozen=True)
class RegistryPki:
    """Everything the test registries need, in one directory."""

    directory: Path
    ca: CertificateAuthority
    server: ServerCertificate
    token_issuer: TokenIssuerCertificate


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hullscan tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_key(path: Path, key: CertificateIssuerPrivateKeyTypes) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    path.chmod(0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def load_certificate(path: Path) -> x509.Certificate:
    """Load the first PEM certificate in ``path``."""
    return x509.load_pem_x509_certificate(path.read_bytes())


SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def load_private_key(path: Path) -> SigningKey:
    """Load an unencrypted PEM RSA or EC private key."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise TypeError(f"unsupported key type in {path}: {type(key).__name__}")
    return key


def _builder(subject: x509.Name, public_key: CertificatePublicKeyTypes) -> x509.CertificateBuilder:
    """A builder with subject, key, serial, validity and SKI set (issuer set by the caller)."""
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(*, digital_signature: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _issue(
    ca: CertificateAuthority,
    builder: x509.CertificateBuilder,
) -> x509.Certificate:
    ca_cert = load_certificate(ca.cert)
    ca_key = load_private_key(ca.key)
    builder = builder.issuer_name(ca_cert.subject).add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
    )
    return builder.sign(ca_key, hashes.SHA256())


def make_ca(directory: Path, common_name: str = "hullscan test CA") -> CertificateAuthority:
    """Create a self-signed EC P-256 CA as ``ca.crt`` / ``ca.key`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    cert = (
        _builder(name, key.public_key())
        .issuer_name(name)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, cert_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    result = CertificateAuthority(cert=directory / "ca.crt", key=directory / "ca.key")
    _write_cert(result.cert, cert)
    _write_key(result.key, key)
    return result


def make_server_cert(
    directory: Path,
    ca: CertificateAuthority,
    *,
    dns_names: Sequence[str] = ("localhost",),
    ip_addresses: Sequence[str] = ("127.0.0.1",),
    stem: str = "server",
) -> ServerCertificate:
    """Create an EC P-256 TLS server certificate for the given SANs, signed by ``ca``."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    common_name = dns_names[0] if dns_names else ip_addresses[0]
    builder = (
        _builder(_name(common_name), key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
    )
    cert = _issue(ca, builder)
    result = ServerCertificate(
        cert=directory / f"{stem}.crt", key=directory / f"{stem}.key", ca_cert=ca.cert
    )
    _write_cert(result.cert, cert)
    _write_key(result.key, key)
    return result


def make_token_issuer(
    directory: Path,
    ca: CertificateAuthority,
    *,
    common_name: str = "hullscan test token issuer",
    stem: str = "token-issuer",
) -> TokenIssuerCertificate:
    """Create an RSA-2048 token-signing key (for RS256) with a certificate signed by ``ca``."""
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    builder = (
        _builder(_name(common_name), key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
    )
    cert = _issue(ca, builder)
    result = TokenIssuerCertificate(
        cert=directory / f"{stem}.crt",
        key=directory / f"{stem}.key",
        ca_cert=ca.cert,
        common_name=common_name,
    )
    _write_cert(result.cert, cert)
    _write_key(result.key, key)
    return result


def make_test_pki(directory: Path) -> RegistryPki:
    """Create a CA, a server cert for 127.0.0.1/localhost and a token issuer in ``directory``."""
    ca = make_ca(directory)
    return RegistryPki(
        directory=directory,
        ca=ca,
        server=make_server_cert(directory, ca),
        token_issuer=make_token_issuer(directory, ca),
    )


def libtrust_key_id(public_key: CertificatePublicKeyTypes) -> str:
    """Docker libtrust key ID: base32(sha256(DER SPKI)[:30]) in 12 colon-separated groups."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode("ascii")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def certificate_der_b64(path: Path) -> str:
    """Standard base64 of a PEM certificate's DER bytes, as used in a JWS ``x5c`` header."""
    der = load_certificate(path).public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode("ascii")
