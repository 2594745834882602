"""The tamper-evident audit chains: ``hub audit verify`` finds a row changed by hand, a removed
row, a row moved out of order and a row inserted; the sealer links late rows; retention prunes
with a signed checkpoint; on PostgreSQL a trigger refuses UPDATE and DELETE of audit rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import JSON, String, func, select, text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from core.audit_chain import CHECKPOINT_INFO, prune_audit, seal_all, verify
from core.audit_chain import seal as seal_module
from core.clock import now
from core.models import Audit, AuditChainHead, TenantAudit, Ticket, User
from hub.cli import app

runner = CliRunner()
T = "/api/v1/support/tickets/"
NEW = {"subject": "Billing twice", "description": "Charged twice in May.", "category": "Billing"}


@pytest.fixture
def cli_env(settings, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HUB_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("HUB_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HUB_SECRET_KEY", settings.secret_key)
    return settings


def _trail(org) -> None:  # type: ignore[no-untyped-def]
    """Ticket rows and tenant rows, through the API."""
    for n in range(3):
        tid = org.end_user.post(T, json={**NEW, "subject": f"Issue {n}"}).json()["id"]
        org.agent.patch(f"{T}{tid}/", json={"priority": "High"})
    for n in range(3):
        r = org.admin.post(
            "/api/v1/admin/members/",
            json={"email": f"m{n}-{org.tenant[1]}@x.example", "role": "agent"},
        )
        assert r.status_code == 201, r.text


@contextmanager
def _by_hand(hub) -> Iterator:  # type: ignore[no-untyped-def]
    """A transaction that goes around the application (and, on PostgreSQL, its trigger): what
    someone with database access could do."""
    with hub.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        yield conn


def _verify(slug: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", *(["--tenant", slug] if slug else [])])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _rows(hub, model, tenant_id) -> list:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        return list(
            s.scalars(select(model).where(model.tenant_id == tenant_id).order_by(model.seq))
        )


def test_sealed_chains_verify_and_unsealed_rows_are_counted(hub, cli_env, org, other_org) -> None:  # type: ignore[no-untyped-def]
    _trail(org)
    _trail(other_org)
    code, out = _verify(org.tenant[1])
    assert code == 0, out
    assert "unsealed" in out and "0 sealed" in out
    r = runner.invoke(app, ["audit", "seal"])
    assert r.exit_code == 0, r.output
    code, out = _verify()
    assert code == 0, out
    assert f"{org.tenant[1]} ticket:" in out and f"{other_org.tenant[1]} tenant:" in out
    assert "0 unsealed" in out and "BROKEN" not in out
    rows = _rows(hub, Audit, org.tenant[0])
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert all(b.prev_hash == a.row_hash for a, b in zip(rows, rows[1:], strict=False))
    # A row written after sealing waits unsealed, then joins the chain where it ended.
    org.admin.post("/api/v1/admin/members/", json={"email": "late@x.example", "role": "agent"})
    code, out = _verify(org.tenant[1])
    assert code == 0 and "1 unsealed" in out, out
    with hub.session() as s:
        assert seal_all(s, tenant_id=org.tenant[0]) == 1
    assert _verify(org.tenant[1])[0] == 0


def test_verify_finds_a_row_changed_by_hand(hub, cli_env, org, other_org) -> None:  # type: ignore[no-untyped-def]
    _trail(org)
    _trail(other_org)
    with hub.session() as s:
        seal_all(s)
    victim = _rows(hub, Audit, org.tenant[0])[2]
    with _by_hand(hub) as conn:
        conn.execute(update(Audit).where(Audit.id == victim.id).values(new_value="Low"))
    code, out = _verify(org.tenant[1])
    assert code == 1
    assert f"row {victim.id} (seq 3) was changed" in out, out
    # The other tenant's chains are untouched.
    assert _verify(other_org.tenant[1])[0] == 0


def test_verify_finds_a_removed_row_and_removed_last_rows(hub, cli_env, org) -> None:  # type: ignore[no-untyped-def]
    _trail(org)
    with hub.session() as s:
        seal_all(s)
    rows = _rows(hub, TenantAudit, org.tenant[0])
    assert len(rows) >= 3
    with _by_hand(hub) as conn:
        conn.execute(TenantAudit.__table__.delete().where(TenantAudit.id == rows[1].id))
    code, out = _verify(org.tenant[1])
    assert code == 1 and f"seq 2..2 missing: removed before row {rows[2].id}" in out, out
    with _by_hand(hub) as conn:
        conn.execute(TenantAudit.__table__.delete().where(TenantAudit.id != rows[0].id))
    code, out = _verify(org.tenant[1])
    assert code == 1 and f"seq 2..{len(rows)} missing: the last rows were removed" in out, out


def test_verify_finds_a_reordered_and_an_inserted_row(hub, cli_env, org) -> None:  # type: ignore[no-untyped-def]
    _trail(org)
    with hub.session() as s:
        seal_all(s)
    a, b = _rows(hub, Audit, org.tenant[0])[1:3]
    with _by_hand(hub) as conn:  # swap two rows' places in the chain
        conn.execute(update(Audit).where(Audit.id == a.id).values(seq=-1))
        conn.execute(update(Audit).where(Audit.id == b.id).values(seq=a.seq))
        conn.execute(update(Audit).where(Audit.id == a.id).values(seq=b.seq))
    code, out = _verify(org.tenant[1])
    assert code == 1
    assert f"row {b.id} (seq {a.seq}) does not follow its predecessor" in out, out
    with _by_hand(hub) as conn:  # put them back: intact again
        conn.execute(update(Audit).where(Audit.id == b.id).values(seq=-1))
        conn.execute(update(Audit).where(Audit.id == a.id).values(seq=a.seq))
        conn.execute(update(Audit).where(Audit.id == b.id).values(seq=b.seq))
    assert _verify(org.tenant[1])[0] == 0
    last = _rows(hub, Audit, org.tenant[0])[-1]
    with _by_hand(hub) as conn:  # a forged row appended after the head, linked correctly
        conn.execute(
            Audit.__table__.insert().values(
                tenant_id=org.tenant[0],
                ticket_id=last.ticket_id,
                action="Status Change",
                old_value="Open",
                new_value="Closed",
                created_at=now(),
                seq=last.seq + 1,
                prev_hash=last.row_hash,
                row_hash="0" * 64,
            )
        )
    code, out = _verify(org.tenant[1])
    assert code == 1 and "was changed" in out, out


def test_prune_leaves_a_signed_checkpoint_that_verifies(hub, cli_env, org) -> None:  # type: ignore[no-untyped-def]
    _trail(org)
    with hub.session() as s:
        seal_all(s)
        cut = now() + timedelta(seconds=1)
        total = s.scalar(
            select(func.count()).select_from(Audit).where(Audit.tenant_id == org.tenant[0])
        )
    keys = hub.keyring.derive_all(CHECKPOINT_INFO)
    # A later row stays: only what is older than the cut goes.
    with hub.session() as s:
        s.execute(update(Ticket).values(subject="x"))  # no audit: a plain write
        s.commit()
    from core import clock

    clock.set_clock(lambda: cut + timedelta(minutes=5))
    org.admin.post("/api/v1/admin/members/", json={"email": "kept@x.example", "role": "agent"})
    with hub.session() as s:
        gone = prune_audit(s, org.tenant[0], cut, hub.keyring)
        s.commit()
    assert gone["ticket"] == total and gone["tenant"] >= 3
    kept = _rows(hub, TenantAudit, org.tenant[0])
    # The invitation's row; a token.used row too when the five minutes cross a clock hour.
    kept = [r for r in kept if r.action != "token.used"]
    assert [r.target_email for r in kept] == ["kept@x.example"]
    with hub.read_session() as s:
        assert all(rep.ok for rep in verify(s, org.tenant[0], keys))
    assert _verify(org.tenant[1])[0] == 0
    with _by_hand(hub) as conn:  # a checkpoint edited by hand no longer verifies
        conn.execute(update(AuditChainHead).values(pruned_count=AuditChainHead.pruned_count + 1))
    code, out = _verify(org.tenant[1])
    assert code == 1 and "checkpoint" in out, out


def test_postgresql_refuses_update_and_delete_of_audit_rows(hub, org) -> None:  # type: ignore[no-untyped-def]
    if hub.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    _trail(org)
    with hub.session() as s:
        seal_all(s)
    for model in (Audit, TenantAudit):
        with pytest.raises(DBAPIError, match="append-only"):
            with hub.engine.begin() as conn:
                conn.execute(update(model).values(action="x"))
        with pytest.raises(DBAPIError, match="append-only"):
            with hub.engine.begin() as conn:
                conn.execute(model.__table__.delete())
        with pytest.raises(DBAPIError, match="append-only"):  # a sealed row stays sealed
            with hub.engine.begin() as conn:
                conn.execute(update(model).values(seq=None, row_hash=None, prev_hash=None))


def test_deleting_a_ticket_keeps_its_trail(hub, cli_env, org) -> None:  # type: ignore[no-untyped-def]
    tid = org.end_user.post(T, json=NEW).json()["id"]
    with hub.session() as s:
        seal_all(s)
        before = s.scalar(select(func.count()).select_from(Audit).where(Audit.ticket_id == tid))
        s.execute(text("DELETE FROM support_tickets WHERE id = :id"), {"id": tid})
        s.commit()
        after = s.scalar(select(func.count()).select_from(Audit).where(Audit.ticket_id == tid))
    assert before and after == before
    assert _verify(org.tenant[1])[0] == 0


# ------------------------------------------------------------------ redaction by an erasure


def _person(hub, org, make_member, name: str):  # type: ignore[no-untyped-def]
    first = name.split()[0].lower()
    member = make_member(org.tenant, "agent", email=f"{first}-{org.tenant[1]}@x.example")
    with hub.session() as s:
        user = s.get(User, member.user_id)
        user.full_name = name
    return member


def _naming(hub, tenant_id, needles: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """The tenant's audit rows (both trails) holding a needle in a text or JSON column."""
    found = []
    with hub.engine.connect() as conn:
        for model in (Audit, TenantAudit):
            t = model.__table__
            cols = [c for c in t.c if isinstance(c.type, String | JSON)]
            for row in conn.execute(select(t.c.id, *cols).where(t.c.tenant_id == tenant_id)):
                blob = json.dumps([str(v) for v in row[1:]]).lower()
                found += [f"{model.__tablename__} {row[0]}: {n}" for n in needles if n in blob]
    return found


def _erase(org, member) -> dict:  # type: ignore[no-untyped-def]
    r = org.admin.post(f"/api/v1/admin/people/{member.user_id}/erasure/", json={"confirm": True})
    assert r.status_code == 200, r.text
    return r.json()


def test_verify_passes_after_erasures_of_old_and_new_rows(  # type: ignore[no-untyped-def]
    hub, cli_env, org, make_member, monkeypatch
) -> None:
    """Rows sealed before redaction existed (no salt) and rows sealed since both lose the
    erased person's address and name, and both chains still verify; a second erasure that
    redacts a row the first one did (a ticket naming both people) keeps them verifying."""
    carla = _person(hub, org, make_member, "Carla Quistgaard")
    dora = _person(hub, org, make_member, "Dora Fennimore")
    both = {**NEW, "subject": "Carla Quistgaard and Dora Fennimore"}
    with monkeypatch.context() as m:  # sealed as before migration 0050: no salt
        m.setattr(seal_module, "secrets", SimpleNamespace(token_hex=lambda n: None))
        _trail(org)
        assert carla.post(T, json=both).status_code == 201
        for who in (carla, dora):
            r = org.admin.post(
                "/api/v1/admin/members/", json={"email": who.email, "role": "manager"}
            )
            assert r.status_code in (200, 201), r.text
        with hub.session() as s:
            seal_all(s)
    for who in (carla, dora):  # sealed since: salted
        org.admin.post("/api/v1/admin/members/", json={"email": who.email, "role": "agent"})
    with hub.session() as s:
        seal_all(s)
    rows = _rows(hub, TenantAudit, org.tenant[0])
    named = [r for r in rows if r.target_email == carla.email]
    assert {r.salt is None for r in named} == {True, False}  # old rows and new ones
    needles = [carla.email.lower(), "carla quistgaard", "quistgaard"]
    assert {f.split()[0] for f in _naming(hub, org.tenant[0], needles)} == {
        "support_ticket_audit",
        "tenant_audit",
    }
    first = _erase(org, carla)
    assert first["counts"]["audit_rows_redacted"] >= 3
    assert _naming(hub, org.tenant[0], needles) == []
    assert "fennimore" in " ".join(_naming(hub, org.tenant[0], ["fennimore"]))
    code, out = _verify(org.tenant[1])
    assert code == 0, out
    _erase(org, dora)
    assert _naming(hub, org.tenant[0], [*needles, dora.email.lower(), "fennimore"]) == []
    code, out = _verify(org.tenant[1])
    assert code == 0 and "0 unsealed" in out, out
    with hub.read_session() as s:
        details = [
            r.details
            for r in s.scalars(select(TenantAudit).where(TenantAudit.action == "person.erased"))
        ]
    assert len(details) == 2 and "restated" in details[1]["redaction"]


def test_verify_tells_a_forged_redaction_from_the_erasures(hub, cli_env, org, make_member) -> None:  # type: ignore[no-untyped-def]
    """A row marked as redacted by hand (even with a real redaction's id), or a redacted row
    edited afterwards, is reported as changed."""
    carla = _person(hub, org, make_member, "Carla Quistgaard")
    _trail(org)
    assert carla.post(T, json={**NEW, "subject": "Carla Quistgaard's laptop"}).status_code == 201
    rid = _erase(org, carla)
    assert _verify(org.tenant[1])[0] == 0
    rows = _rows(hub, Audit, org.tenant[0])
    redacted = [r for r in rows if r.redacted_by]
    other = next(r for r in rows if not r.redacted_by and r.new_value)
    assert redacted and rid["pseudonym"] in (redacted[0].new_value or "")
    with _by_hand(hub) as conn:  # a forged redaction, under the real one's id
        conn.execute(
            update(Audit)
            .where(Audit.id == other.id)
            .values(new_value="[removed]", salt=None, redacted_by=redacted[0].redacted_by)
        )
    code, out = _verify(org.tenant[1])
    assert code == 1 and f"row {other.id} (seq {other.seq}) was changed" in out, out
    with _by_hand(hub) as conn:  # undone: intact again
        conn.execute(
            update(Audit)
            .where(Audit.id == other.id)
            .values(new_value=other.new_value, salt=other.salt, redacted_by=None)
        )
    assert _verify(org.tenant[1])[0] == 0
    victim = redacted[0]
    with _by_hand(hub) as conn:  # a redacted row edited afterwards
        conn.execute(update(Audit).where(Audit.id == victim.id).values(new_value="Closed"))
    code, out = _verify(org.tenant[1])
    assert code == 1 and f"row {victim.id} (seq {victim.seq}) was changed" in out, out


def test_postgresql_lets_through_only_the_sanctioned_redaction(hub, org, make_member) -> None:  # type: ignore[no-untyped-def]
    """The redaction's UPDATE needs the transaction's setting and may change only the columns
    that can name a person; what it lets through, verify still judges."""
    if hub.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    _trail(org)
    with hub.session() as s:
        seal_all(s)
    row = _rows(hub, TenantAudit, org.tenant[0])[0]
    redaction = {"target_email": "", "salt": None, "redacted_by": "f" * 32}
    where = TenantAudit.id == row.id
    with pytest.raises(DBAPIError, match="append-only"):  # without the setting
        with hub.engine.begin() as conn:
            conn.execute(update(TenantAudit).where(where).values(**redaction))
    for wrong in ({"action": "x"}, {"row_hash": "0" * 64}, {"salt": row.salt}):
        with pytest.raises(DBAPIError, match="append-only"):  # beyond the personal columns
            with hub.engine.begin() as conn:
                conn.execute(text("SELECT set_config('hub.audit_redact', 'on', true)"))
                conn.execute(update(TenantAudit).where(where).values(**{**redaction, **wrong}))
    with hub.engine.begin() as conn:
        conn.execute(text("SELECT set_config('hub.audit_redact', 'on', true)"))
        conn.execute(update(TenantAudit).where(where).values(**redaction))
    keys = hub.keyring.derive_all(CHECKPOINT_INFO)
    with hub.read_session() as s:
        tenant_report = verify(s, org.tenant[0], keys)[1]
    assert tenant_report.finding is not None and tenant_report.finding.row_id == row.id
