"""Email fixtures: the plugin's SMTP server and a relay sink on free ports, a real Dovecot, and a
tenant with the plugin enabled and configured through the admin API."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from core.services import channel_keys
from hub import outbox
from plugins.email.delivery import address_book
from plugins.email.smtp_server import IntakeController
from tests.plugins.email.fake_dns import Zone, run_dns
from tests.services import free_port, port_open, require
from tests.smtp_sink import Sink, run_sink

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mail"


@pytest.fixture
def sink() -> Iterator[Sink]:
    with run_sink() as box:
        yield box


@pytest.fixture
def smtp_server(hub) -> Iterator[tuple[str, int]]:  # type: ignore[no-untyped-def]
    """The plugin's intake server on a free port."""
    port = free_port()
    controller = IntakeController(hub, "127.0.0.1", port)
    controller.start()
    yield "127.0.0.1", port
    controller.stop()


@dataclass
class MailTenant:
    """A tenant with the email plugin on: its support address, members and helpers."""

    org: Any
    address: str
    hub: Any

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.org.tenant[0]

    def configure(self, **settings: Any) -> None:
        """Save settings through the admin API; the addresses are then verified on the
        operator's word (as ``hub channels verify`` does), so that they take mail. The
        verification by mail itself is tested in ``test_address_ownership``."""
        resp = self.org.admin.patch("/api/v1/admin/plugins/email/", json={"settings": settings})
        assert resp.status_code == 200, resp.text
        if "addresses" in settings:
            verify_addresses(self.hub, self.tenant_id, resp.json()["settings"]["addresses"])

    def deliver(self) -> int:
        return outbox.drain(self.hub)


def verify_addresses(hub: Any, tenant_id: uuid.UUID, addresses: list[str]) -> None:
    """Verify a tenant's claims of these addresses as the operator would."""
    with hub.session() as s:
        for address in addresses:
            channel_keys.mark_verified(s, tenant_id, "email", address)
    address_book(hub).invalidate()


def enable_email(org: Any, hub: Any, sink: Sink | None, address: str) -> MailTenant:
    resp = org.admin.post("/api/v1/admin/plugins/email/enable/")
    assert resp.status_code == 200, resp.text
    tenant = MailTenant(org=org, address=address, hub=hub)
    settings: dict[str, Any] = {"addresses": [address], "from_name": "Acme Support"}
    if sink is not None:
        settings.update(relay_host=sink.host, relay_port=sink.port, relay_tls="none")
    tenant.configure(**settings)
    return tenant


@pytest.fixture(scope="session")
def _dns_server() -> Iterator[tuple[Zone, str]]:
    with run_dns() as server:
        yield server


@pytest.fixture(autouse=True)
def dns_zone(_dns_server: tuple[Zone, str], monkeypatch: pytest.MonkeyPatch) -> Zone:
    """Every email test resolves SPF, DKIM and DMARC records from a local DNS server (names it
    does not know are NXDOMAIN, never looked up elsewhere); a test adds what it needs."""
    zone, address = _dns_server
    zone.clear()
    monkeypatch.setenv("HUB_DNS_NAMESERVERS", address)
    return zone


@pytest.fixture
def mail_tenant(org, hub, sink) -> MailTenant:  # type: ignore[no-untyped-def]
    return enable_email(org, hub, sink, f"support@{org.tenant[1]}.test")


@pytest.fixture
def other_mail_tenant(other_org, hub, sink) -> MailTenant:  # type: ignore[no-untyped-def]
    return enable_email(other_org, hub, sink, f"help@{other_org.tenant[1]}.test")


def make_mail(
    *,
    sender: str,
    to: str,
    subject: str = "Printer on fire",
    body: str = "Help!",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{message_id or uuid.uuid4().hex + '@client.test'}>"
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg.as_bytes()


# ------------------------------------------------------------------ Dovecot


@dataclass
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    root: Path
    tls_port: int = 0
    cert: Path | None = None


DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = {uid}
first_valid_gid = {gid}
default_login_user = {login_user}
default_internal_user = {internal_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _self_signed(root: Path) -> Path:
    """A certificate for 127.0.0.1 (the test trusts it as its own CA)."""
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    os.chmod(key, 0o644)
    return cert


@contextmanager
def run_dovecot(*, tls: bool) -> Iterator[Dovecot]:
    """A real Dovecot IMAP server on free ports, plaintext auth from a passwd-file; with
    ``tls`` it also offers STARTTLS and implicit TLS with a self-signed certificate."""
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None
    )
    require(binary is not None, "dovecot is not installed (apt-get install -y dovecot-imapd)")
    assert binary is not None
    if tls:
        require(shutil.which("openssl") is not None, "openssl is not installed")
    # Not under pytest's tmp_path: that is mode 0700, and Dovecot's auth process runs as the
    # unprivileged "dovecot" user, which must read the passwd-file.
    tmp = Path(tempfile.mkdtemp(prefix="hub-dovecot-"))
    root = tmp / "dovecot"
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir(parents=True)
    port, tls_port = free_port(), (free_port() if tls else 0)
    user, password = "support@acme.test", "imap-pass-123"
    (root / "passwd").write_text(f"{user}:{{PLAIN}}{password}\n")
    login_user = "dovenull" if _user_exists("dovenull") else "nobody"
    internal_user = "dovecot" if _user_exists("dovecot") else "nobody"
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        # Dovecot never gives mail to uid 0: mailboxes belong to its own unprivileged user.
        import pwd

        entry = pwd.getpwnam(internal_user)
        uid, gid = entry.pw_uid, entry.pw_gid
        for sub in ("mail", "home"):
            os.chown(root / sub, uid, gid)
    cert = _self_signed(root) if tls else None
    ssl_conf = (
        f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{root / 'key.pem'}" if tls else "ssl = no"
    )
    conf = root / "dovecot.conf"
    conf.write_text(
        DOVECOT_CONF.format(
            root=root,
            port=port,
            tls_port=tls_port,
            uid=uid,
            gid=gid,
            ssl=ssl_conf,
            login_user=login_user,
            internal_user=internal_user,
        )
    )
    os.chmod(tmp, 0o755)
    os.chmod(root, 0o755)
    os.chmod(root / "passwd", 0o644)
    proc = subprocess.Popen(
        [binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        for _ in range(200):
            if port_open("127.0.0.1", port) or proc.poll() is not None:
                break
            time.sleep(0.05)  # waiting for a process to listen, not for application time
        log = root / "dovecot.log"
        require(
            port_open("127.0.0.1", port),
            f"dovecot did not start: {proc.stdout.read().decode() if proc.poll() else ''}"
            f" {log.read_text() if log.exists() else ''}",
        )
        yield Dovecot("127.0.0.1", port, user, password, root, tls_port, cert)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if not os.environ.get("HUB_KEEP_DOVECOT"):
            shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """Dovecot with plaintext IMAP only."""
    with run_dovecot(tls=False) as server:
        yield server


@pytest.fixture
def dovecot_tls() -> Iterator[Dovecot]:
    """Dovecot with STARTTLS on the plain port and implicit TLS on ``tls_port``."""
    with run_dovecot(tls=True) as server:
        yield server
