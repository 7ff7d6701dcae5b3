//! `dbchunk plan` on tables big enough to be cut from a sample (PostgreSQL
//! `TABLESAMPLE`, MySQL's index estimates) instead of walking the key's
//! index: the parts still hold every row once, and stay balanced on
//! skewed keys; `--exact` still counts.

use crate::util::engine::{Db, Fill, Table, Ty};
use crate::util::{dbchunk, export, TempDir};

/// A dense block of keys (1..=dense) and a sparse tail (every 1000th key
/// from 30M on, `sparse` of them): big enough to be sampled, with 4
/// partitions, on each engine. PostgreSQL samples pages, so its rows are
/// wide; MySQL's estimates need rows, so its rows are narrow.
fn skewed(db: &Db, name: &str) -> u64 {
    let (dense, sparse, filler) = match db {
        Db::Pg => (36_000, 12_000, "repeat('x', 800)"),
        _ => (400_000, 100_000, "'x'"),
    };
    let table = Table::new(name).key("id", Ty::BigInt).col("v", Ty::Text);
    table.create(db);
    table.fill(db, 1..=dense, &[Fill::Id, Fill::Literal(filler)]);
    table.fill(
        db,
        30_000..=30_000 + sparse - 1,
        &[Fill::Literal("x * 1000"), Fill::Literal(filler)],
    );
    db.exec(&match db {
        Db::Pg => format!("ANALYZE {name}"),
        _ => format!("ANALYZE TABLE {name}"),
    });
    dense + sparse
}

fn plan(db: &Db, name: &str, extra: &[&str]) -> serde_json::Value {
    let run = dbchunk(["plan", "--url", &db.url(), "--table", name, "-n", "4"])
        .args(extra)
        .success();
    serde_json::from_slice(&run.stdout).unwrap()
}

/// Partition `k` of the plan in `dir/plan.json`, exported with a header.
fn part(db: &Db, dir: &TempDir, planned: &serde_json::Value, k: usize) -> Vec<u8> {
    let path = dir.join("plan.json");
    std::fs::write(&path, planned.to_string()).unwrap();
    dbchunk(["export", "--url", &db.url(), "--plan"])
        .arg(&path)
        .args(["--partition", &k.to_string()])
        .success()
        .stdout
}

#[test]
fn big_tables_are_cut_from_a_sample_and_stay_balanced() {
    let dir = TempDir::new("dist-sample");
    for db in Db::servers() {
        let name = format!("it_dist_sample_{}", db.tag());
        let _drop = db.drop_on_exit(&name);
        let total = skewed(&db, &name);
        let serial = export(&db.url(), &name).success().stdout;
        let planned = plan(&db, &name, &[]);
        assert_eq!(planned["counted"], false, "{}: {planned}", db.name());
        let mut joined = Vec::new();
        for k in 1..=4 {
            let bytes = part(&db, &dir, &planned, k);
            let body = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
            let rows = bytes[body..].iter().filter(|&&b| b == b'\n').count() as u64;
            assert!(
                (total * 3 / 16..=total * 5 / 16).contains(&rows),
                "{}: partition {k} holds {rows} rows, not {} ± 25% ({planned})",
                db.name(),
                total / 4
            );
            joined.extend_from_slice(if k == 1 { &bytes } else { &bytes[body..] });
        }
        assert!(
            joined == serial,
            "{}: the sampled parts do not join to the serial export",
            db.name()
        );
        // --exact walks and counts: each part within 5% of rows/N, as before.
        let exact = plan(&db, &name, &["--exact"]);
        assert_eq!(exact["counted"], true, "{}", db.name());
        assert_eq!(exact["rows"], total, "{}", db.name());
        let counted: Vec<u64> = (0..4)
            .map(|k| exact["partitions"][k]["rows"].as_u64().unwrap())
            .collect();
        assert_eq!(counted.iter().sum::<u64>(), total, "{}", db.name());
        assert!(
            counted.iter().all(|&n| n.abs_diff(total / 4) <= total / 80),
            "{}: {counted:?}",
            db.name()
        );
    }
}
