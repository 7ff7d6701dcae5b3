#!/usr/bin/env python3
"""Export a table to CSV on stdout with SQLAlchemy 2: the script users write today.

The baseline dbchunk is compared against in scripts/bench.sh. It streams the
result (``stream_results=True, yield_per=5000``: a server-side cursor on
psycopg2, an unbuffered SSCursor on pymysql), so its memory stays flat, and
writes each row with the csv module. Values are given the usual text forms
(booleans true/false, ISO timestamps, bytes as hex, JSON re-serialised), so
the output is comparable to what dbchunk writes; NULL becomes an empty field.

    python sqlalchemy_export.py --url postgresql+psycopg2://postgres@127.0.0.1:5432/bench \
        --table pgbench_accounts > accounts.csv
    python sqlalchemy_export.py --url mysql+pymysql://root@127.0.0.1:3306/bench --table typed
    python sqlalchemy_export.py --url sqlite:///target/bench/typed.db --table typed
"""

import argparse
import csv
import datetime
import decimal
import json
import sys
import uuid

from sqlalchemy import text

from sqlalchemy_engine import make_engine


def fmt(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    return value


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="SQLAlchemy URL, e.g. postgresql+psycopg2://user@host/db")
    ap.add_argument("--table", required=True, help="table to export")
    ap.add_argument("--yield-per", type=int, default=5000, help="rows per fetch (default 5000)")
    args = ap.parse_args()

    engine = make_engine(args.url)
    quoted = engine.dialect.identifier_preparer.quote(args.table)
    out = csv.writer(sys.stdout, lineterminator="\n")
    rows = 0
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=args.yield_per).execute(
            text(f"SELECT * FROM {quoted}")
        )
        out.writerow(result.keys())
        for row in result:
            out.writerow([fmt(v) for v in row])
            rows += 1
    sys.stdout.flush()
    print(f"sqlalchemy_export: {rows} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
