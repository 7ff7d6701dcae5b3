//! MySQL/MariaDB parts cannot share a snapshot, so a plan records where
//! the binary log stood and each part warns when it moved. The machine's
//! server has binary logging off: this runs against the throwaway MariaDB
//! that scripts/test.sh starts with it on (`DBCHUNK_TEST_TLS_MYSQL_URL`).

use crate::util::db::{mysql_exec_at, DropOnExitAt};
use crate::util::{dbchunk, TempDir};

fn binlog_url() -> String {
    std::env::var("DBCHUNK_TEST_TLS_MYSQL_URL").unwrap_or_else(|_| {
        panic!(
            "DBCHUNK_TEST_TLS_MYSQL_URL is not set: run scripts/test.sh, which starts a \
             throwaway MariaDB with binary logging on for this test"
        )
    })
}

#[test]
fn mysql_parts_warn_when_the_binlog_moved_since_the_plan() {
    let url = binlog_url();
    let dir = TempDir::new("dist-binlog");
    let name = "it_dist_binlog";
    let _drop = DropOnExitAt {
        url: url.clone(),
        sql: format!("DROP TABLE IF EXISTS {name}"),
    };
    mysql_exec_at(
        &url,
        &format!(
            "DROP TABLE IF EXISTS {name}; CREATE TABLE {name} (id INT PRIMARY KEY, v TEXT); \
             INSERT INTO {name} VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')"
        ),
    );
    let plan = dir.join("plan.json");
    let made = dbchunk(["plan", "--url", &url, "--table", name, "-n", "2", "-o"])
        .arg(&plan)
        .success();
    assert!(
        !made.stderr.contains("binary logging is off"),
        "{}",
        made.stderr
    );
    let planned: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    let position = planned["binlog"].as_str().unwrap_or_default().to_string();
    assert!(position.contains(':'), "no binlog position in {planned}");
    let part = |k: &str| {
        dbchunk(["export", "--url", &url, "--plan"])
            .arg(&plan)
            .args(["--partition", k])
            .success()
    };
    let still = part("1");
    assert!(!still.stderr.contains("moved"), "{}", still.stderr);
    assert_eq!(still.stdout_str(), "id,v\n1,a\n2,b\n");
    mysql_exec_at(&url, &format!("INSERT INTO {name} VALUES (5, 'e')"));
    let moved = part("2");
    assert!(
        moved
            .stderr
            .contains("the binary log moved since the plan was made")
            && moved.stderr.contains(&position),
        "{}",
        moved.stderr
    );
    assert_eq!(moved.stdout_str(), "id,v\n3,c\n4,d\n5,e\n");
}
