//! `--format parquet`, judged by real readers: pyarrow and DuckDB, from the
//! Python that `DBCHUNK_TEST_PYTHON` names (scripts/test.sh makes it). For
//! each engine, the values they read equal dbchunk's NDJSON export of the
//! same table, and the schema has the logical types docs/types.md lists.

use std::path::Path;
use std::process::Command;

use crate::util::db::{mysql_exec, pg_exec, pg_url, sqlite_exec, PgDropOnExit};
use crate::util::engine::{Db, Fill, Table, Ty};
use crate::util::fixtures::pg_create_with_mood;
use crate::util::tables::lite_file;
use crate::util::{dbchunk, export, TempDir};

/// Reads a Parquet file with pyarrow and DuckDB and compares every value
/// with the NDJSON export (argv: parquet, ndjson, expected types as JSON).
const COMPARE: &str = r#"
import sys, json, struct, uuid, datetime, decimal, math
import pyarrow.parquet as pq, duckdb
D = decimal.Decimal
path, nd_path, expected = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
f = pq.ParquetFile(path)
problems = []
kinds = {}
for c in f.schema:
    actual = f"{c.physical_type} {c.logical_type}"
    kinds[c.name] = (c.physical_type, json.loads(c.logical_type.to_json())["Type"])
    want = expected.pop(c.name, None)
    if want is None or not actual.startswith(want):
        problems.append(f"type of {c.name}: {actual!r}, expected {want!r}")
for name in expected:
    problems.append(f"column {name} is missing")
names = [c.name for c in f.schema]
# Numbers as their exact digits: -0 keeps its sign, big integers their value.
nd = [json.loads(l, parse_float=D, parse_int=D) for l in open(nd_path, encoding="utf-8") if l.strip()]
EPOCH = datetime.datetime(1970, 1, 1)

def micros(dt):
    if dt.tzinfo is not None:
        dt = dt.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return (dt - EPOCH) // datetime.timedelta(microseconds=1)

def clock(text):
    h, m, s = text.split(":")
    whole, _, frac = s.partition(".")
    return ((int(h) * 60 + int(m)) * 60 + int(whole)) * 10**6 + int((frac + "000000")[:6])

def f32(v):
    return struct.unpack("<f", struct.pack("<f", float(v)))[0]

def same_float(a, b):
    return (math.isnan(a) and math.isnan(b)) or struct.pack("<d", a) == struct.pack("<d", b)

def from_parquet(v, name):
    physical, logical = kinds[name]
    if v is None:
        return None
    if logical == "Timestamp":
        return micros(v)
    if logical == "Time":
        return ((v.hour * 60 + v.minute) * 60 + v.second) * 10**6 + v.microsecond
    if logical == "Date":
        return v.isoformat()
    if logical == "UUID":
        return str(v if isinstance(v, uuid.UUID) else uuid.UUID(bytes=bytes(v)))
    if logical == "JSON":
        return json.loads(v, parse_float=D, parse_int=D)
    if physical in ("BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY") and logical == "None":
        return bytes(v).hex()
    if physical == "FLOAT":
        return f32(v)
    if physical == "DOUBLE":
        return float(v)
    if logical == "Decimal" and isinstance(v, float):
        return ("approx", v)  # DuckDB reads DECIMAL wider than 38 digits as DOUBLE
    if logical == "Decimal":
        return D(v)
    return v

def from_ndjson(v, name):
    physical, logical = kinds[name]
    if v is None:
        return None
    if logical == "Timestamp":
        return micros(datetime.datetime.fromisoformat(v))
    if logical == "Time":
        return clock(v)
    if physical == "FLOAT":
        return f32(v)
    if physical == "DOUBLE":
        return float(v)
    if logical == "Decimal":
        return D(v)
    if logical == "Int":
        return int(v)
    if physical == "BOOLEAN" and not isinstance(v, bool):
        return bool(int(v))  # SQLite and MySQL booleans are integers
    if logical == "JSON" and isinstance(v, str):
        try:
            return json.loads(v, parse_float=D, parse_int=D)  # SQLite JSON is text
        except ValueError:
            return v  # a JSON string value
    return v

def same(a, b):
    if isinstance(a, str) and isinstance(b, D):
        return D(a) == b  # a number kept as its text (numeric without precision)
    if isinstance(a, tuple):
        return b is not None and math.isclose(a[1], float(b), rel_tol=1e-15)
    if isinstance(a, float) and isinstance(b, float):
        return same_float(a, b)
    return a == b and type(a) == type(b) or (isinstance(a, D) and isinstance(b, D) and a == b)

readers = {
    "pyarrow": [tuple(r[n] for n in names) for r in pq.read_table(path).to_pylist()],
    "duckdb": duckdb.sql(f"SELECT * FROM read_parquet('{path}')").fetchall(),
}
for reader, rows in readers.items():
    if len(rows) != len(nd):
        problems.append(f"{reader}: {len(rows)} rows, NDJSON has {len(nd)}")
        continue
    for i, (row, want) in enumerate(zip(rows, nd)):
        for name, value in zip(names, row):
            got, exp = from_parquet(value, name), from_ndjson(want[name], name)
            if not same(got, exp):
                problems.append(f"{reader}: row {i + 1}, {name}: {got!r} ({value!r}), NDJSON {exp!r}")
print("\n".join(problems))
sys.exit(1 if problems else 0)
"#;

/// The Python with pyarrow and DuckDB; missing is a failure, not a skip.
pub(crate) fn python() -> String {
    std::env::var("DBCHUNK_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "DBCHUNK_TEST_PYTHON is not set: it names a Python with pyarrow and duckdb, which \
             judge dbchunk's Parquet; scripts/test.sh makes one (target/test-venv)"
        )
    })
}

/// Runs Python `code` with `args`; its stdout, or a panic with its output.
#[track_caller]
pub(crate) fn run_python(code: &str, args: &[&str]) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .expect("running DBCHUNK_TEST_PYTHON");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Asserts that both readers see the NDJSON export's values in `parquet`,
/// with the given `column → "PHYSICAL Logical..."` types (prefixes).
#[track_caller]
fn assert_matches_ndjson(parquet: &Path, ndjson: &[u8], types: &[(&str, &str)]) {
    let nd_path = parquet.with_extension("ndjson");
    std::fs::write(&nd_path, ndjson).unwrap();
    let expected: serde_json::Map<String, serde_json::Value> = types
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    let expected = serde_json::Value::Object(expected).to_string();
    run_python(
        COMPARE,
        &[
            parquet.to_str().unwrap(),
            nd_path.to_str().unwrap(),
            &expected,
        ],
    );
}

/// Exports `table` as NDJSON and as Parquet with every strategy the
/// engine has (which must give the same bytes), and checks the Parquet
/// against the NDJSON.
#[track_caller]
fn check_engine(db: &Db, table: &str, types: &[(&str, &str)], dir: &TempDir) {
    let url = &db.url();
    let strategies = db.export_strategies().iter().filter(|s| **s != "auto");
    let ndjson = dbchunk(["export", "--url", url, "-t", table, "--format", "ndjson"])
        .success()
        .stdout;
    let mut first: Option<(String, Vec<u8>)> = None;
    for strategy in strategies {
        let path = dir.join(&format!("{table}_{strategy}.parquet"));
        dbchunk([
            "export", "--url", url, "-t", table, "--quiet", "--chunk", "2",
        ])
        .args(["--strategy", strategy, "-o", path.to_str().unwrap()])
        .success();
        let bytes = std::fs::read(&path).unwrap();
        match &first {
            None => {
                assert_matches_ndjson(&path, &ndjson, types);
                first = Some((strategy.to_string(), bytes));
            }
            Some((name, expected)) => assert!(
                *expected == bytes,
                "--strategy {strategy} wrote other Parquet bytes than --strategy {name}"
            ),
        }
    }
}

/// The PostgreSQL table of every type the Parquet tests read back (export)
/// and import: `{table}` and its enum type `{table}_mood`.
pub(crate) fn create_pg_types(table: &str) {
    pg_create_with_mood(
        table,
        &format!(
            "id integer PRIMARY KEY, si smallint, bi bigint, o oid,
             n numeric, ns numeric(12, 4), n18 numeric(18, 0), nw numeric(50, 10),
             r real, d double precision, b boolean,
             c char(4), vc varchar(20), t text, by bytea,
             dt date, tm time, ts timestamp, tz timestamptz, iv interval,
             j json, jb jsonb, u uuid, ia int[], e {table}_mood, ip inet"
        ),
    );
    pg_exec(&format!(
        r#"
INSERT INTO {table} VALUES
(1, -32768, -9223372036854775808, 4294967295,
    123456789012345678901234567890.123456789, 12.34, -999999999999999999,
    -1234567890123456789012345678901234567890.0123456789,
    'NaN', 'NaN', true, 'ab', 'v', E'a,b"c\r\nd\te😀', '\x00ff',
    '0001-01-01', '10:00:00.5', '2024-05-26 10:00:00.123456', '2024-05-26 10:00:00+02', '1 day 2 hours',
    '{{"a": [1, 2.5]}}', '{{"b": {{"c": null}}}}', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
    '{{1,NULL,3}}', 'happy', '192.168.0.1/24'),
(2, 32767, 9223372036854775807, 0, -0.000000000000000000000000000001, -1.5, 0, 0,
    'Infinity', '-Infinity', false, 'abcd', '', '', '\x',
    '9999-12-31', '23:59:59.999999', '1999-12-31 23:59:59', '1970-01-01 00:00:00+00', '-3 mons',
    '[]', '[1, "x"]', '00000000-0000-0000-0000-000000000000', '{{}}', 'sad', '::1'),
(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '-Infinity', '-0', NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(4, 1, 1, 1, 1e20, 0.0001, 1, 1.5, 0.1, 5e-324, true, ' x', 'NULL', E'\\.', '\xDEADBEEF',
    '2000-02-29', '00:00', '0001-01-01 00:00:00', '2024-05-26 10:00:00.123456-05:30', 'PT0S',
    'null', '"s"', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '{{-2147483648,2147483647}}', 'happy', '10.0.0.0/8');
"#
    ));
}

/// The MariaDB table of every type (inserted in a +02:00 session, so
/// `TIMESTAMP` values are converted).
pub(crate) fn create_mysql_types(table: &str) {
    mysql_exec(&format!(
        "SET time_zone = '+02:00';
         DROP TABLE IF EXISTS {table};
         CREATE TABLE {table} (id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT,
           mu MEDIUMINT UNSIGNED, ii INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
           de DECIMAL(10,2), dw DECIMAL(30,5), du DECIMAL(5,0) UNSIGNED, fl FLOAT, do DOUBLE,
           bt BIT(10), ch CHAR(6), vc VARCHAR(20), tx TEXT, bn BINARY(4), bl BLOB,
           dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(6) NULL, yr YEAR, js JSON,
           en ENUM('a','b c'), st SET('x','y','z')) DEFAULT CHARSET=utf8mb4;
         INSERT INTO {table} VALUES
         (1, -128, 255, -32768, 16777215, -2147483648, 4294967295, -9223372036854775808,
          18446744073709551615, -12345678.99, '-1234567890123456789012345.12345', 99999,
          2.5, 0.1, b'1010101010', 'ab', 'x', 'a,b \"q\" 😀', X'00FF', X'DEADBEEF',
          '1000-01-01', '10:00:00.5', '2024-05-26 10:00:00.123456', '2024-05-26 12:00:00.5',
          2024, '{{\"a\": [1, 2], \"b\": null}}', 'b c', 'x,z'),
         (2, 127, 0, 32767, 0, 2147483647, 0, 9223372036854775807, 0, 0.01, 0, 0,
          -1e38, 1e300, b'0', '', '', '', X'', X'', '9999-12-31', '23:59:59.999999',
          '2024-05-26 10:00:00', '1999-01-01 02:00:00', 1901, '[]', 'a', ''),
         (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
          NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);"
    ));
}

/// The SQLite table `t` of every declared type, in the file `db`.
pub(crate) fn create_sqlite_types(db: &Path) {
    sqlite_exec(
        db,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, i BIGINT, r REAL, n NUMERIC, v VARCHAR(10),
           b BLOB, flag BOOLEAN, d DATE, ts DATETIME, j JSON, x);
         INSERT INTO t VALUES
           (1, -9223372036854775808, 0.1, 104500, 'é', x'00ff', 1, '2024-01-02',
            '2024-01-02 10:00:00.5', '{\"a\": 1}', 'z'),
           (2, 9223372036854775807, -1e308, 54500.86, '', x'', 0, '1999-12-31',
            '1999-12-31T23:59:59', '[]', 5),
           (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);",
    );
}

const INT8: &str = "INT32 Int(bitWidth=8, isSigned=true)";
const INT16: &str = "INT32 Int(bitWidth=16, isSigned=true)";
const INT32: &str = "INT32 Int(bitWidth=32, isSigned=true)";
const INT64: &str = "INT64 Int(bitWidth=64, isSigned=true)";
const STRING: &str = "BYTE_ARRAY String";
const JSON: &str = "BYTE_ARRAY JSON";
const BINARY: &str = "BYTE_ARRAY None";
const DATE: &str = "INT32 Date";
const TIME: &str = "INT64 Time(isAdjustedToUTC=false, timeUnit=microseconds)";
const TIMESTAMP: &str = "INT64 Timestamp(isAdjustedToUTC=false, timeUnit=microseconds";
const TIMESTAMP_UTC: &str = "INT64 Timestamp(isAdjustedToUTC=true, timeUnit=microseconds";

/// The Parquet types of [`create_pg_types`]'s columns.
const PG_TYPES: &[(&str, &str)] = &[
    ("id", INT32),
    ("si", INT16),
    ("bi", INT64),
    ("o", "INT32 Int(bitWidth=32, isSigned=false)"),
    ("n", STRING),
    ("ns", "INT64 Decimal(precision=12, scale=4)"),
    ("n18", "INT64 Decimal(precision=18, scale=0)"),
    ("nw", "FIXED_LEN_BYTE_ARRAY Decimal(precision=50, scale=10)"),
    ("r", "FLOAT None"),
    ("d", "DOUBLE None"),
    ("b", "BOOLEAN None"),
    ("c", STRING),
    ("vc", STRING),
    ("t", STRING),
    ("by", BINARY),
    ("dt", DATE),
    ("tm", TIME),
    ("ts", TIMESTAMP),
    ("tz", TIMESTAMP_UTC),
    ("iv", STRING),
    ("j", JSON),
    ("jb", JSON),
    ("u", "FIXED_LEN_BYTE_ARRAY UUID"),
    ("ia", JSON),
    ("e", STRING),
    ("ip", STRING),
];

/// The Parquet types of [`create_mysql_types`]'s columns.
const MY_TYPES: &[(&str, &str)] = &[
    ("id", INT32),
    ("ti", INT8),
    ("tu", "INT32 Int(bitWidth=8, isSigned=false)"),
    ("si", INT16),
    ("mu", "INT32 Int(bitWidth=32, isSigned=false)"),
    ("ii", INT32),
    ("iu", "INT32 Int(bitWidth=32, isSigned=false)"),
    ("bi", INT64),
    ("bu", "INT64 Int(bitWidth=64, isSigned=false)"),
    ("de", "INT64 Decimal(precision=10, scale=2)"),
    ("dw", "FIXED_LEN_BYTE_ARRAY Decimal(precision=30, scale=5)"),
    ("du", "INT32 Decimal(precision=5, scale=0)"),
    ("fl", "FLOAT None"),
    ("do", "DOUBLE None"),
    ("bt", STRING),
    ("ch", STRING),
    ("vc", STRING),
    ("tx", STRING),
    ("bn", BINARY),
    ("bl", BINARY),
    ("dt", DATE),
    ("tm", TIME),
    ("dtm", TIMESTAMP),
    ("ts", TIMESTAMP_UTC),
    ("yr", INT16),
    ("js", JSON),
    ("en", STRING),
    ("st", STRING),
];

/// The Parquet types of [`create_sqlite_types`]'s columns.
const LITE_TYPES: &[(&str, &str)] = &[
    ("id", INT64),
    ("i", INT64),
    ("r", "DOUBLE None"),
    ("n", "DOUBLE None"),
    ("v", STRING),
    ("b", BINARY),
    ("flag", "BOOLEAN None"),
    ("d", DATE),
    ("ts", TIMESTAMP),
    ("j", JSON),
    ("x", STRING),
];

#[test]
fn pq_postgres_types_match_ndjson_from_every_strategy() {
    let dir = TempDir::new("pq_pg_types");
    let table = "it_pq_pg_types";
    let _drop = PgDropOnExit(format!(
        "DROP TABLE IF EXISTS {table}; DROP TYPE IF EXISTS {table}_mood;"
    ));
    create_pg_types(table);
    check_engine(&Db::Pg, table, PG_TYPES, &dir);
    let url = pg_url();
    // A value Parquet's DATE cannot hold stops the export with one line
    // naming the column, and leaves no file.
    pg_exec(&format!("UPDATE {table} SET dt = 'infinity' WHERE id = 2"));
    let out = dir.join("inf.parquet");
    let run = dbchunk([
        "export",
        "--url",
        &url,
        "-t",
        table,
        "-o",
        out.to_str().unwrap(),
    ])
    .fails(1);
    run.error_says(&["column \"dt\"", "infinity"]);
    assert!(!out.exists());
}

#[test]
fn pq_mysql_types_match_ndjson_from_every_strategy() {
    let dir = TempDir::new("pq_my_types");
    let table = "it_pq_my_types";
    let _drop = Db::My.drop_on_exit(table);
    create_mysql_types(table);
    check_engine(&Db::My, table, MY_TYPES, &dir);
}

#[test]
fn pq_sqlite_types_match_ndjson_from_every_strategy() {
    let dir = TempDir::new("pq_sqlite_types");
    let db = dir.join("t.db");
    create_sqlite_types(&db);
    check_engine(&Db::Lite(db), "t", LITE_TYPES, &dir);
}

/// Table `t` of `rows` rows `(id, 'name ID')` in a new SQLite file.
fn sqlite_rows(dir: &TempDir, rows: u64) -> String {
    let db = Db::lite(dir);
    let table = Table::new("t").key("id", Ty::Int).col("name", Ty::Text);
    table
        .create(&db)
        .fill(&db, 1..=rows, &[Fill::Id, Fill::Prefixed("name ")]);
    db.url()
}

#[test]
fn pq_stdout_row_groups_and_codecs() {
    let dir = TempDir::new("pq_stdout_groups");
    let url = sqlite_rows(&dir, 3000);
    // To stdout: the file is written front to back. Row groups are cut
    // at their size, mid-chunk: a SQLite export never reads a chunk again
    // (only an export that can lose its connection cuts at chunk ends).
    let out = dbchunk(["export", "--url", &url, "-t", "t", "--format", "parquet"])
        .args(["--row-group-size", "8KiB", "--strategy", "cursor"])
        .success()
        .stdout;
    let path = dir.join("stdout.parquet");
    std::fs::write(&path, &out).unwrap();
    let meta = run_python(
        "import sys, pyarrow.parquet as pq\n\
         m = pq.ParquetFile(sys.argv[1]).metadata\n\
         print(m.num_rows, m.num_row_groups, m.row_group(0).column(0).compression)",
        &[path.to_str().unwrap()],
    );
    let fields: Vec<&str> = meta.split_whitespace().collect();
    assert_eq!(fields[0], "3000", "{meta}");
    assert!(
        fields[1].parse::<u32>().unwrap() > 1,
        "one row group: {meta}"
    );
    assert_eq!(fields[2], "ZSTD", "zstd is the default: {meta}");
    for (codec, recorded) in [
        ("none", "UNCOMPRESSED"),
        ("snappy", "SNAPPY"),
        ("gzip", "GZIP"),
        ("zstd:9", "ZSTD"),
    ] {
        let path = dir.join(&format!("{}.parquet", codec.replace(':', "_")));
        export(&url, "t")
            .arg("-o")
            .arg(&path)
            .args(["--parquet-compression", codec, "--row-group-size", "8KiB"])
            .args(["--chunk", "500"])
            .success();
        let meta = run_python(
            "import sys, pyarrow.parquet as pq\n\
             t = pq.read_table(sys.argv[1])\n\
             m = pq.ParquetFile(sys.argv[1]).metadata\n\
             print(m.row_group(0).column(1).compression, t.num_rows, t.column('name')[2999], \
                   m.num_row_groups)",
            &[path.to_str().unwrap()],
        );
        assert_eq!(
            meta.trim(),
            format!("{recorded} 3000 name 3000 11"),
            "{codec}"
        );
    }
    // --limit, --columns and --where go through the same schema.
    let path = dir.join("some.parquet");
    export(&url, "t")
        .arg("-o")
        .arg(&path)
        .args(["--columns", "name", "--where", "id > 10", "--limit", "5"])
        .success();
    let seen = run_python(
        "import sys, pyarrow.parquet as pq\nprint(pq.read_table(sys.argv[1]).to_pylist())",
        &[path.to_str().unwrap()],
    );
    assert_eq!(
        seen.trim(),
        "[{'name': 'name 11'}, {'name': 'name 12'}, {'name': 'name 13'}, {'name': 'name 14'}, \
         {'name': 'name 15'}]"
    );
}

#[test]
fn pq_flags_it_cannot_honour_are_refused_by_name() {
    let dir = TempDir::new("pq_refused");
    let url = sqlite_rows(&dir, 3);
    let out = dir.join("x.parquet");
    let out = out.to_str().unwrap();
    for (extra, flag) in [
        (&["--null", "NULL"][..], "--null"),
        (&["--no-header"][..], "--no-header"),
        (&["--state", "s.json"][..], "--state"),
        (&["--parquet-compression", "lz4"][..], "lz4"),
        (&["--row-group-size", "big"][..], "--row-group-size"),
    ] {
        dbchunk(["export", "--url", &url, "-t", "t", "-o", out])
            .args(extra)
            .current_dir(dir.path())
            .fails(2)
            .error_says(&[flag]);
    }
    let run = dbchunk([
        "export",
        "--url",
        &pg_url(),
        "-t",
        "t",
        "--format",
        "parquet",
    ])
    .args(["--parallel", "2"])
    .fails(2);
    run.error_says(&["--parallel"]);
    dbchunk([
        "export", "--url", &url, "-t", "t", "--row-group-size", "1MB",
    ])
    .fails(2)
    .error_says(&["--format parquet"]);
    assert_eq!(dir.entries(), ["test.db"]);
}

#[test]
fn pq_failed_export_leaves_no_parquet() {
    let dir = TempDir::new("pq_failed");
    // Row 2 holds text in a DATE column: Parquet's DATE cannot hold it.
    let db = lite_file(
        &dir,
        "bad.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, d DATE);
         INSERT INTO t VALUES (1, '2024-01-01'), (2, 'someday');",
    );
    let out = dir.join("out.parquet");
    dbchunk(["export", "--url", &db.url(), "-t", "t"])
        .args(["-o", out.to_str().unwrap()])
        .fails(1)
        .error_says(&["row 2", "column \"d\"", "someday"]);
    assert_eq!(dir.entries(), ["bad.db"]);
}
