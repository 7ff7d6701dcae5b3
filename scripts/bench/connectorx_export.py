#!/usr/bin/env python3
"""Write a table to a Parquet or CSV file with ConnectorX and pyarrow: the Arrow route users take.

The peer dbchunk's exports are compared against in scripts/bench.sh: its
Parquet export (issue 16) and its CSV export (issue 11). It is the calls the
ConnectorX and pyarrow documentation show: the whole result read into one
Arrow table (ConnectorX's Rust reader, one connection: no partition_on;
PostgreSQL's binary protocol, MySQL's text protocol), then written by pyarrow:
Parquet with zstd inside the file, as dbchunk does by default, or CSV with a
header line (pyarrow.csv.write_csv). The format follows the output's
extension. Memory therefore grows with the table: that is how this route
works, not a mistake of the script. pyarrow's CSV writer refuses binary
columns that are not UTF-8, so for CSV those are turned into hex strings
first, in Python, as a user of this route has to (dbchunk writes bytes as
hex too).

    python connectorx_export.py --url postgresql://postgres@127.0.0.1:5432/bench \
        --table pgbench_accounts --output accounts.parquet
    python connectorx_export.py --url mysql://root@127.0.0.1:3306/bench \
        --table pgbench_accounts --output accounts.csv
"""

import argparse

import connectorx as cx
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq


def binary_as_hex(table):
    """`table` with every binary column replaced by its values in hex (pyarrow has no hex kernel)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            hexed = pa.array([None if v is None else v.hex() for v in table.column(i).to_pylist()], pa.string())
            table = table.set_column(i, pa.field(field.name, pa.string()), hexed)
    return table


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="ConnectorX connection string")
    ap.add_argument("--table", required=True)
    ap.add_argument("--output", required=True, help="the file to write: NAME.parquet or NAME.csv")
    args = ap.parse_args()
    parquet = args.output.endswith(".parquet")
    if not parquet and not args.output.endswith(".csv"):
        ap.error(f"--output {args.output}: name a .parquet or a .csv file")
    table = cx.read_sql(args.url, f"SELECT * FROM {args.table}", return_type="arrow")
    if parquet:
        pq.write_table(table, args.output, compression="zstd")
    else:
        pcsv.write_csv(binary_as_hex(table), args.output)


if __name__ == "__main__":
    main()
