//! Tables holding every type an engine has, with edge values: made once
//! here, read by the export, import and Parquet tests.

use super::db::{pg_exec, sqlite_exec};
use super::{sqlite_url, TempDir};

/// Doubles whose shortest decimal form is long or awkward (thirds, roots,
/// the last normal ones, the largest): each must come back bit for bit.
pub const AWKWARD_DOUBLES: [f64; 8] = [
    0.1,
    1.0 / 3.0,
    std::f64::consts::SQRT_2,
    1e300,
    2.2250738585072014e-308,
    123456789.12345679,
    -0.30000000000000004,
    f64::MAX,
];

/// Makes table `name` anew on the test PostgreSQL with `columns`, which
/// may use the enum type `name_mood` ('sad', 'happy') made anew with it.
pub fn pg_create_with_mood(name: &str, columns: &str) {
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {name}; DROP TYPE IF EXISTS {name}_mood;
         CREATE TYPE {name}_mood AS ENUM ('sad', 'happy');
         CREATE TABLE {name} ({columns})"
    ));
}

/// Creates table `name` (and enum type `name_mood`) with a column of every
/// type dbchunk must render, and five rows of edge values (ids 1..5).
pub fn pg_every_type(name: &str) {
    pg_create_with_mood(
        name,
        &format!(
            "id integer PRIMARY KEY,
             si smallint, i integer, bi bigint,
             n numeric, ns numeric(12, 4),
             r real, d double precision,
             b boolean,
             c char(6), vc varchar(20), t text,
             by bytea,
             dt date, tm time, ts timestamp, tz timestamptz, iv interval,
             j json, jb jsonb,
             u uuid,
             ia int[], ta text[],
             e {name}_mood,
             ip inet"
        ),
    );
    pg_exec(&format!(
        r#"
INSERT INTO {name} VALUES
(1, -32768, -2147483648, -9223372036854775808,
    123456789012345678901234567890.123456789, 12.34,
    'NaN', 'NaN', true,
    'ab', 'v', E'a,b"c\r\nd\te\\f😀',
    '\x00ff',
    '0001-01-01', '10:00:00.5', '2024-05-26 10:00:00.123456', '2024-05-26 10:00:00+02', '1 day 2 hours',
    '{{"a": [1, 2]}}', '{{"b": {{"c": null}}}}',
    'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
    '{{1,NULL,3}}', '{{"x,y","q\"z",NULL}}',
    'happy', '192.168.0.1/24'),
(2, 32767, 2147483647, 9223372036854775807,
    -0.000000000000000000000000000001, -1.5,
    'Infinity', '-Infinity', false,
    'abcdef', '', '',
    '\x',
    '9999-12-31', '23:59:59.999999', '1999-12-31 23:59:59', '1970-01-01 00:00:00+00', '-3 mons',
    '[]', '[1, "x"]',
    '00000000-0000-0000-0000-000000000000',
    '{{}}', '{{}}',
    'sad', '2001:db8::/32'),
(3, 0, 0, 0, 0, 0, '-Infinity', '-0', NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(4, 1, 1, 1, 1e20, 0.0001, 0.1, 0.1, true,
    '  x', 'NULL', E'\\.',
    '\xDEADBEEF',
    '2000-02-29', '00:00', '2024-01-01 00:00:00', '2024-05-26 10:00:00.123456-05:30', '1 year 2 mons 3 days 04:05:06.789',
    'null', '"s"',
    'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
    '{{{{1,2}},{{3,4}}}}', '{{"",NULL}}',
    'happy', '10.0.0.0/8'),
(5, NULL, NULL, NULL, 'NaN', 99999999.9999, 3.4028235e38, 5e-324, false,
    '', E'tab\there', E'\u00e9\u00e8 🚀 "quoted"',
    '\x0a0d',
    '2024-02-29', '12:34:56', '0001-01-01 00:00:00', '9999-12-31 23:59:59.999999+00', '0 seconds',
    '{{"nested": {{"deep": [true, false, null, 1.5e10]}}}}', '{{"k": "v\nw"}}',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '{{-2147483648,2147483647}}', '{{"with space","back\\slash",""}}',
    'sad', '255.255.0.0/16');
"#
    ));
}

/// A SQLite file `source.db` in `dir` with `table`: `rows` rows of awkward
/// values (quotes, commas, newlines inside fields, tabs, non-ASCII, NULLs,
/// floats, blobs); its URL.
pub fn sqlite_awkward(dir: &TempDir, table: &str, rows: u32) -> String {
    let path = dir.join("source.db");
    sqlite_exec(
        &path,
        &format!(
            "CREATE TABLE {table}(id INTEGER PRIMARY KEY, name TEXT, note TEXT, x REAL, b BLOB);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
             INSERT INTO {table} SELECT i, 'name ' || i || ', \"q\"',
               CASE i % 4 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'l1' || char(10) || 'l2\\t'
               ELSE 'é ' || i END,
               i / 7.0, CASE WHEN i % 3 = 0 THEN NULL ELSE randomblob(4) END FROM n;"
        ),
    );
    sqlite_url(&path)
}
