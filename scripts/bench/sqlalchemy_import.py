#!/usr/bin/env python3
"""Load a CSV file into an existing table with SQLAlchemy 2, in batches.

The import baseline of scripts/bench.sh: the table is reflected, each CSV
field is converted to its column's Python type (an empty field is NULL), and
every --batch rows go to the server with one executemany
(``conn.execute(table.insert(), rows)``), each batch in its own transaction.

    python sqlalchemy_import.py --url postgresql+psycopg2://postgres@127.0.0.1:5432/bench \
        --table typed_import --input typed.csv --batch 5000

Accepted input forms: PostgreSQL's COPY CSV (booleans t/f, bytea as \\x hex,
timestamps with a space and a +00 offset) and dbchunk's CSV (true/false or
1/0, hex without a prefix, ISO 8601 with T and +00:00).
"""

import argparse
import csv
import datetime
import decimal
import json
import sys
import uuid

from sqlalchemy import MetaData, Table, null, types

from sqlalchemy_engine import make_engine

csv.field_size_limit(1 << 30)


def parse_bool(s):
    return s.lower() in ("t", "true", "1", "yes", "y", "on")


def parse_bytes(s):
    return bytes.fromhex(s[2:] if s.startswith("\\x") else s)


def datetime_parser(naive_utc):
    def parse(s):
        value = datetime.datetime.fromisoformat(s)
        if naive_utc and value.tzinfo is not None:
            # MySQL drivers drop the offset: send the UTC clock (the session is in UTC).
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value

    return parse


def converter(column_type, dialect_name):
    """The function that turns a CSV field into a value for this column type."""
    t = column_type
    if isinstance(t, types.Boolean):
        return parse_bool
    if isinstance(t, types.Integer):
        return int
    if isinstance(t, types.Float):
        return float
    if isinstance(t, types.Numeric):
        return decimal.Decimal
    if isinstance(t, types.DateTime):
        return datetime_parser(dialect_name in ("mysql", "mariadb"))
    if isinstance(t, types.Date):
        return datetime.date.fromisoformat
    if isinstance(t, types.Time):
        return datetime.time.fromisoformat
    if isinstance(t, types._Binary):
        return parse_bytes
    if isinstance(t, types.JSON):
        return json.loads
    if isinstance(t, types.Uuid):
        return uuid.UUID if getattr(t, "as_uuid", True) else str
    return str


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="SQLAlchemy URL, e.g. mysql+pymysql://root@127.0.0.1/db")
    ap.add_argument("--table", required=True, help="existing table to load into")
    ap.add_argument("--input", required=True, help="CSV file with a header line")
    ap.add_argument("--batch", type=int, default=5000, help="rows per executemany (default 5000)")
    args = ap.parse_args()

    engine = make_engine(args.url)
    table = Table(args.table, MetaData(), autoload_with=engine)
    rows = 0
    with open(args.input, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        convs = [converter(table.c[name].type, engine.dialect.name) for name in header]
        # An empty field is NULL; a JSON column needs null(), or SQLAlchemy stores the JSON value null.
        empties = [null() if isinstance(table.c[name].type, types.JSON) else None for name in header]
        named = list(zip(header, convs, empties))
        insert = table.insert()
        batch = []
        with engine.connect() as conn:
            for record in reader:
                batch.append({name: (conv(v) if v != "" else empty) for (name, conv, empty), v in zip(named, record)})
                if len(batch) >= args.batch:
                    conn.execute(insert, batch)
                    conn.commit()
                    rows += len(batch)
                    batch = []
            if batch:
                conn.execute(insert, batch)
                conn.commit()
                rows += len(batch)
    print(f"sqlalchemy_import: {rows} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
