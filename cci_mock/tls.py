"""HTTPS for the mock: a throwaway CA and server certificate, or the user's own pair.

kubectl (and client-go) send bearer tokens only over TLS, and CCI itself is
HTTPS-only, so the mock can listen with TLS too. The generated CA exists only for
this process: it is embedded in the kubeconfigs we write, never installed anywhere.
EC P-256 keys keep generation to a few milliseconds (RSA 2048 would cost ~100 ms
of every fixture start).
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cci_mock.core.clock import real_now

HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Certificates:
    """PEM files on disk (ssl needs files) plus the CA bytes for kubeconfigs."""

    cert_file: str
    key_file: str
    ca_pem: bytes  # what a client must trust: the generated CA, or the given cert itself
    temporary: str | None = None  # a generated folder of our own, removed once loaded

    def remove_temporary(self) -> None:
        """Delete the generated folder (the files are in memory once the server listens)."""
        if self.temporary:
            shutil.rmtree(self.temporary, ignore_errors=True)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def generate(directory: str | Path | None = None, hosts: tuple[str, ...] = HOSTS, *,
             temporary: bool = False) -> Certificates:
    """A fresh CA and a server certificate for ``hosts`` (names or IP addresses), written
    to ``directory`` (a new temporary directory if None) as ca.crt, server.crt, server.key.
    ``temporary``: the folder is ours to delete (:meth:`Certificates.remove_temporary`)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = real_now()  # clients check validity against real time, even in a frozen test
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=365)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cci-mock"),
                          x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder().subject_name(name("cci-mock CA")).issuer_name(name("cci-mock CA"))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder().subject_name(name(hosts[0])).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="cci-mock-tls-"))
    folder.mkdir(parents=True, exist_ok=True)
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    (folder / "ca.crt").write_bytes(ca_pem)
    (folder / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file = folder / "server.key"
    key_file.touch(mode=0o600)
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return Certificates(str(folder / "server.crt"), str(key_file), ca_pem,
                        temporary=str(folder) if temporary or not directory else None)


def from_files(cert_file: str, key_file: str, ca_file: str | None = None) -> Certificates:
    """The user's own pair; clients trust ``ca_file`` if given, else the certificate itself."""
    ca_pem = Path(ca_file or cert_file).read_bytes()
    return Certificates(cert_file, key_file, ca_pem)
