#!/usr/bin/env python3
"""Write a table to a Parquet file with ConnectorX and pyarrow: the Arrow route users take.

The peer dbchunk's Parquet export is compared against in scripts/bench.sh
(issue 16). It is the two calls the ConnectorX documentation shows: the whole
result read into one Arrow table (ConnectorX's Rust reader, PostgreSQL's
binary protocol, one connection: no partition_on), then written by pyarrow
with zstd inside the file, as dbchunk does by default. Memory therefore grows
with the table: that is how this route works, not a mistake of the script.

    python connectorx_parquet.py --url postgresql://postgres@127.0.0.1:5432/bench \
        --table pgbench_accounts --output accounts.parquet
"""

import argparse

import connectorx as cx
import pyarrow.parquet as pq


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="ConnectorX connection string")
    ap.add_argument("--table", required=True)
    ap.add_argument("--output", required=True, help="the Parquet file to write")
    args = ap.parse_args()
    table = cx.read_sql(args.url, f"SELECT * FROM {args.table}", return_type="arrow")
    pq.write_table(table, args.output, compression="zstd")


if __name__ == "__main__":
    main()
