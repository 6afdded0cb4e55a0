"""A publish after a close rewrites only the changed cycles, and ends where a build from scratch ends.

The marts are changed the way closes change them: a new cycle (items carried forward into it
with a new status, new items, a new counterparty, a new exception), an existing cycle rebuilt
(its exception resolved: statuses change, the exception row goes), and a cycle removed. The
snapshot updated in place must then hold what a snapshot built from scratch holds, and search
must find each item at its latest cycle.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb

from recon_pipeline.portal.search import search
from recon_pipeline.portal.snapshot import POINTER, publish_snapshot
from recon_pipeline.portal.snapshot_tables import CYCLE_TABLES
from recon_pipeline.scenario.synthetic_marts import create_synthetic_marts
from recon_pipeline.settings import load_settings
from recon_pipeline.warehouse.connection import Warehouse, open_warehouse

NEW_CYCLE = "2026-12-01"


def _close_a_new_cycle_and_rebuild_an_old_one(wh) -> None:
    # Payments 0..39 are carried into the new cycle; 20 of them are matched there now.
    wh.execute(f"""insert into marts.fct_payment_reconciliation
        select * replace (date '{NEW_CYCLE}' as pay_cycle,
                          case when cast(substr(payment_id, 5) as int) < 20 then 'matched' else recon_status end
                          as recon_status)
        from marts.fct_payment_reconciliation where cast(substr(payment_id, 5) as int) < 40""")
    # A payment seen for the first time, to a counterparty no earlier cycle had.
    wh.execute(f"""insert into marts.fct_payment_reconciliation
        select * replace ('PAY-NEW-000001' as payment_id, date '{NEW_CYCLE}' as pay_cycle,
                          'E2E-NEW-000001' as end_to_end_id, 'Brand New Supplier Ltd' as counterparty_name,
                          'exception' as recon_status)
        from marts.fct_payment_reconciliation where payment_id = 'PAY-000000001' limit 1""")
    wh.execute(f"""insert into marts.fct_exceptions
        select * replace ('ex_new_one' as exception_id, date '{NEW_CYCLE}' as pay_cycle, 'PAY-NEW-000001' as payment_id)
        from marts.fct_exceptions limit 1""")
    wh.execute(f"""insert into marts.rpt_close_summary
        select * replace (date '{NEW_CYCLE}' as pay_cycle) from marts.rpt_close_summary
        where pay_cycle = date '2026-01-01'""")
    # An exception opened on a payment of an old cycle whose own row did not change.
    wh.execute("""insert into marts.fct_exceptions
        select * replace ('ex_late_one' as exception_id, p.pay_cycle as pay_cycle, p.payment_id as payment_id)
        from marts.fct_exceptions, (select pay_cycle, payment_id from marts.fct_payment_reconciliation
                                    where payment_id = 'PAY-000000077') as p limit 1""")
    # An exception of an old cycle now names another payment in the new cycle: the first
    # payment no longer shows it.
    wh.execute(f"""insert into marts.fct_exceptions
        select * replace (date '{NEW_CYCLE}' as pay_cycle, 'PAY-000000088' as payment_id)
        from marts.fct_exceptions where payment_id = 'PAY-000000090'""")
    # A counterparty renamed on the bank's side in one cycle, and another everywhere: the
    # second's old name is no one's any more.
    wh.execute("update marts.fct_bank_line_reconciliation set counterparty_name = 'RENAMED PARTY AG' "
               "where pay_cycle = date '2026-02-01'")
    for mart in ("fct_payment_reconciliation", "fct_bank_line_reconciliation"):
        wh.execute(f"update marts.{mart} set counterparty_name = 'Renamed Party AG' "
                   "where lower(counterparty_name) = 'counterparty 7 gmbh'")
    # Cycle 2026-01-11 rebuilt after an operator resolved its exceptions.
    wh.execute("update marts.fct_payment_reconciliation set recon_status = 'resolved', exception_type = null "
               "where pay_cycle = date '2026-01-11' and recon_status = 'exception'")
    wh.execute("delete from marts.fct_exceptions where pay_cycle = date '2026-01-11'")
    # Cycle 2026-01-21's bank lines gone (a statement withdrawn and the cycle rebuilt).
    wh.execute("delete from marts.fct_bank_line_reconciliation where pay_cycle = date '2026-01-21'")


@contextlib.contextmanager
def _published(path) -> Iterator[Warehouse]:
    """A published snapshot, read-only, as the portal reads it."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield Warehouse("duckdb", con, str(path))
    finally:
        con.close()


def _home(tmp_path):
    return load_settings(environ={"RECON_HOME": str(tmp_path / "home")})


def _contents(path) -> dict[str, list]:
    """Every portal table as a sorted list of rows, items by (kind, id) rather than by number."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for name, _, _ in CYCLE_TABLES:
            out[name] = sorted(map(repr, con.execute(f"select * from portal.{name}").fetchall()))
        out["resolutions"] = sorted(map(repr, con.execute("select * from portal.resolutions").fetchall()))
        out["items"] = sorted(map(repr, con.execute("select * exclude (item_no) from portal.items").fetchall()))
        for name, key in (("search_keys", "s.search_key"), ("search_amounts", "s.amount_abs"),
                          ("search_names", "n.name_key")):
            names = "join portal.names as n on n.name_no = s.name_no" if name == "search_names" else ""
            out[name] = sorted(map(repr, con.execute(
                f"select {key}, i.kind, i.item_id from portal.{name} as s {names} "
                "join portal.items as i on i.item_no = s.item_no").fetchall()))
        out["names"] = sorted(r[0] for r in con.execute("select name_key from portal.names").fetchall())
        snap = Warehouse("duckdb", con, str(path))
        # Up to the cap a search gives the same items in the same order; past it, "the first 100
        # found" may be another 100 (the README says so).
        for q in ("counterparty 12 g", "counterparty 7 g", "pay-00000001", "renamed party", "pay-000000088"):
            out[f"search {q!r}"] = [(r["kind"], r["item_id"], str(r["pay_cycle"])) for r in search(snap, q)]
        out["search 'pay-0000' is capped"] = len(search(snap, "pay-0000"))
        out["distinct item numbers"] = con.execute("select count(distinct item_no) = count(*) from portal.items").fetchall()
        return out
    finally:
        con.close()


def test_a_close_rewrites_only_its_cycles_and_ends_where_a_build_from_scratch_ends(tmp_path):
    settings = _home(tmp_path)
    with open_warehouse(settings) as wh:
        create_synthetic_marts(wh, payments=3000, bank_lines=3000)
        first = publish_snapshot(wh, settings)
        assert first.how.startswith("built in full (no snapshot published yet)")
        _close_a_new_cycle_and_rebuild_an_old_one(wh)
        updated = publish_snapshot(wh, settings)
        # payments: the new cycle, the rebuilt one and counterparty 7's two; exceptions: the new and rebuilt
        # cycles and PAY-77's; bank lines: the one withdrawn, the one renamed and counterparty 7's two; the
        # close summary: the new cycle.
        assert updated.how.startswith("updated in place: 12 table cycle(s)"), updated.how
        (settings.portal_dir / POINTER).unlink()  # the next publish cannot copy: built from scratch
        scratch = publish_snapshot(wh, settings)
        assert scratch.how.startswith("built in full")
    assert _contents(updated.where) == _contents(scratch.where)

    # What a finance user sees: the carried-forward payment at its new cycle, the new payment and
    # counterparty found, a resolved payment no longer an exception.
    with _published(updated.where) as snap:
        [carried] = search(snap, "PAY-000000003")
        assert str(carried["pay_cycle"]) == NEW_CYCLE and carried["cycle_count"] == 2
        assert carried["first_cycle"] < carried["pay_cycle"]
        assert [r["item_id"] for r in search(snap, "e2e-new-000001")] == ["PAY-NEW-000001"]
        assert [r["item_id"] for r in search(snap, "brand new supp")] == ["PAY-NEW-000001"]
        assert search(snap, "brand new supp")[0]["exception_id"] == "ex_new_one"
        assert search(snap, "PAY-000000077")[0]["exception_id"] == "ex_late_one"
        row = snap.fetchone("select recon_status, exception_id from portal.items where kind = 'payment' "
                            "and pay_cycle = date '2026-01-11' and recon_status = 'resolved' limit 1")
        assert row is not None and row[1] is None


def test_a_publish_that_would_rewrite_most_rows_builds_from_scratch(tmp_path):
    settings = _home(tmp_path)
    with open_warehouse(settings) as wh:
        create_synthetic_marts(wh, payments=500, bank_lines=500)
        publish_snapshot(wh, settings)
        wh.execute("update marts.fct_payment_reconciliation set amount = amount + 1")  # every row of every cycle
        again = publish_snapshot(wh, settings)
        assert again.how.startswith("built in full (") and "payments rows rewritten" in again.how, again.how
        # A row without a cycle cannot be matched to its cycle's fingerprint, before or after a fix.
        wh.execute("update marts.fct_payment_reconciliation set pay_cycle = null where payment_id = 'PAY-000000001'")
        assert publish_snapshot(wh, settings).how == "built in full (a mart has, or had, rows without a pay cycle)"
        wh.execute("update marts.fct_payment_reconciliation set pay_cycle = date '2026-01-02' "
                   "where payment_id = 'PAY-000000001'")
        fixed = publish_snapshot(wh, settings)
        assert fixed.how == "built in full (a mart has, or had, rows without a pay cycle)"
        with _published(fixed.where) as snap:
            assert snap.fetchall("select cycle_count from portal.items where item_id = 'PAY-000000001'") == [(1,)]
        wh.execute("alter table marts.fct_bank_line_reconciliation add column note varchar")
        changed = publish_snapshot(wh, settings)
        assert changed.how == "built in full (the columns of bank_lines changed)"
        assert "note" in {r[0] for r in wh.fetchall(
            "select column_name from (describe select * from marts.fct_bank_line_reconciliation)")}
    with _published(changed.where) as snap:
        assert "note" in {r[0] for r in snap.fetchall("describe portal.bank_lines")}


def test_a_snapshot_copy_that_cannot_be_updated_is_built_from_scratch(tmp_path):
    settings = _home(tmp_path)
    with open_warehouse(settings) as wh:
        create_synthetic_marts(wh, payments=300, bank_lines=300)
        first = publish_snapshot(wh, settings)
        damaged = duckdb.connect(first.where)  # a published file damaged behind recon's back
        damaged.execute("drop table portal.search_amounts")
        damaged.close()
        wh.execute("update marts.fct_payment_reconciliation set recon_status = 'matched' "
                   "where pay_cycle = date '2026-01-01'")
        again = publish_snapshot(wh, settings)
    assert again.how.startswith("built in full (the in-place update failed: Catalog Error"), again.how
    assert not list(settings.portal_dir.glob("*.building*"))
    with _published(again.where) as snap:
        assert [r["item_id"] for r in search(snap, "PAY-000000000")] == ["PAY-000000000"]
        assert search(snap, "PAY-000000000")[0]["recon_status"] == "matched"

