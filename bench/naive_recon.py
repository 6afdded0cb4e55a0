"""The reconciliation script people write first: pandas, join on the reference, done.

Why it is here: `make bench` shows recon's figures next to this script's, on the same
generated files, so "is the pipeline worth its cost?" has a number. It is deliberately
naive and WRONG in the ways first scripts are: it checks no amount, ignores currency and
account, keeps no carry-forward between days, cannot see splits, batches, returns or
truncated references, and silently drops whatever it cannot parse. It is never used by recon.

    python bench/naive_recon.py <folder with statements/ and events/>
"""
from __future__ import annotations

import glob
import json
import os
import re
import sys
import time
import xml.etree.ElementTree as ET

import pandas as pd

_E2E = re.compile(r"/EREF/([^/\n]+)")
_LINE61 = re.compile(r":61:(\d{6})(\d{4})?(R?[CD])[A-Z]?([\d,]+)")


def read_events(folder: str) -> pd.DataFrame:
    frames = []
    for path in sorted(glob.glob(os.path.join(folder, "events", "*.jsonl*"))):
        try:
            frame = pd.read_json(path, lines=True, dtype=False)
        except ValueError:
            continue  # a bad file: skipped, nobody told
        if "payload" in frame:   # kcat -J envelopes: the event is the payload string
            frame = pd.DataFrame([json.loads(p) for p in frame["payload"] if isinstance(p, str)])
        frames.append(frame)
    events = pd.concat(frames, ignore_index=True).drop_duplicates("event_id")
    return events[events["event_type"] == "payment.sent"].drop_duplicates("payment_id")


def read_camt(path: str) -> list[dict]:
    rows = []
    for _event, el in ET.iterparse(path):
        if not el.tag.endswith("Ntry"):
            continue
        values = {child.tag.rsplit("}", 1)[-1]: child for child in el.iter()}
        amount = float(values["Amt"].text) if "Amt" in values else 0.0
        if values.get("CdtDbtInd") is not None and values["CdtDbtInd"].text == "DBIT":
            amount = -amount
        ref = values.get("EndToEndId")
        rows.append({"reference": ref.text if ref is not None else None, "amount": amount})
        el.clear()
    return rows


def read_mt940(path: str) -> list[dict]:
    text = open(path, encoding="utf-8", errors="replace").read()
    rows = []
    for block in text.split(":61:")[1:]:
        m = _LINE61.match(":61:" + block)
        if not m:
            continue
        amount = float(m.group(4).replace(",", "."))
        ref = _E2E.search(block.replace("\n", ""))
        rows.append({"reference": ref.group(1) if ref else None,
                     "amount": -amount if m.group(3).endswith("D") else amount})
    return rows


def read_statements(folder: str) -> pd.DataFrame:
    rows: list[dict] = []
    for path in sorted(glob.glob(os.path.join(folder, "statements", "*"))):
        try:
            rows += read_camt(path) if path.endswith(".xml") else read_mt940(path)
        except (ET.ParseError, UnicodeDecodeError):
            continue
    return pd.DataFrame(rows, columns=["reference", "amount"])


def reconcile(folder: str) -> dict:
    payments = read_events(folder)
    lines = read_statements(folder)
    merged = payments.merge(lines.dropna(subset=["reference"]), left_on="end_to_end_id",
                            right_on="reference", how="outer", indicator=True)
    return {
        "payments": int(len(payments)), "bank_lines": int(len(lines)),
        "matched": int((merged["_merge"] == "both").sum()),
        "unmatched_payments": int((merged["_merge"] == "left_only").sum()),
        "unmatched_bank_lines": int((merged["_merge"] == "right_only").sum()
                                    + lines["reference"].isna().sum()),
    }


def main() -> int:
    t0 = time.perf_counter()
    result = reconcile(sys.argv[1])
    result["seconds"] = round(time.perf_counter() - t0, 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
