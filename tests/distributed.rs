//! `dbchunk plan`, `export --plan --partition K` and `dbchunk snapshot`:
//! workers as separate processes, as a scheduler would run them on other
//! machines, against the real servers.

use std::io::{BufRead, BufReader};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::util::db::with_params;
use crate::util::engine::{Db, Fill, Table, Ty};
use crate::util::procs::{finish, read_json, signal};
use crate::util::tables::{lite_id_v, numbered_test_table, test_table};
use crate::util::{dbchunk, export, Cmd, Run, TempDir};

/// `dbchunk plan` of `table` into `N` partitions, written to `plan.json`
/// in `dir`; the path, and the run (for its stderr).
fn plan(db: &Db, table: &str, n: usize, extra: &[&str], dir: &TempDir) -> PathBuf {
    let path = dir.join(&format!("plan-{table}-{n}.json"));
    dbchunk(["plan", "--url", &db.url(), "--table", table])
        .args(["--partitions", &n.to_string(), "-o"])
        .arg(&path)
        .args(extra)
        .success();
    path
}

/// `dbchunk export --url URL --plan PLAN`, the part not chosen yet.
fn from_plan(url: &str, plan: &Path) -> Cmd {
    dbchunk(["export", "--url", url, "--plan"]).arg(plan)
}

/// `export --plan PLAN --partition K` on `db`, to stdout.
fn part(db: &Db, plan: &Path, k: usize) -> Cmd {
    from_plan(&db.url(), plan).args(["--partition", &k.to_string()])
}

/// A worker exporting partition `k` of `plan` to `dir/part-K.csv`.
fn worker(db: &Db, plan: &Path, k: usize, dir: &TempDir, extra: &[&str]) -> Child {
    part(db, plan, k)
        .arg("-o")
        .arg(dir.join("part-{partition}.csv"))
        .args(extra)
        .spawn()
}

#[track_caller]
fn wait_ok(child: Child, what: &str) {
    finish(child, what).assert_code(0);
}

/// All `n` partitions at once, each its own process; the parts' bytes.
fn run_parts(db: &Db, plan: &Path, n: usize, dir: &TempDir, extra: &[&str]) -> Vec<Vec<u8>> {
    let workers: Vec<Child> = (1..=n).map(|k| worker(db, plan, k, dir, extra)).collect();
    for (k, child) in workers.into_iter().enumerate() {
        wait_ok(child, &format!("partition {} on {}", k + 1, db.name()));
    }
    (1..=n).map(|k| read_part(dir, k)).collect()
}

fn read_part(dir: &TempDir, k: usize) -> Vec<u8> {
    let path = dir.join(&format!("part-{k}.csv"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The parts in order, the header of all but the first left out.
pub(crate) fn join(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut all = parts[0].clone();
    for part in &parts[1..] {
        let body = part.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
        all.extend_from_slice(&part[body..]);
    }
    all
}

/// Data lines of a CSV part (its values hold no newline).
fn rows(part: &[u8]) -> usize {
    part.iter().filter(|&&b| b == b'\n').count() - 1
}

/// The parts join (headers aside) to the `serial` export, and part K
/// (1-based) holds a number of rows in `expected(K)`; with a counted
/// `planned`, that is the count the plan records for it.
#[track_caller]
fn assert_parts(
    what: &str,
    parts: &[Vec<u8>],
    serial: &[u8],
    planned: Option<&serde_json::Value>,
    expected: impl Fn(usize) -> RangeInclusive<usize>,
) {
    assert!(
        join(parts) == serial,
        "{what}: the parts do not join to the serial export"
    );
    for (i, part) in parts.iter().enumerate() {
        let (k, n) = (i + 1, rows(part));
        let range = expected(k);
        assert!(
            range.contains(&n),
            "{what}: partition {k} holds {n} rows, not {range:?}"
        );
        if let Some(planned) = planned {
            assert_eq!(planned["partitions"][i]["rows"], n, "{what}: partition {k}");
        }
    }
}

/// N = 4 workers, run at once as separate processes, write parts that
/// join (headers aside) to the serial export's bytes, on a composite key,
/// with every part holding about a quarter of the rows.
#[test]
fn parts_join_to_the_serial_export_on_every_engine() {
    let dir = TempDir::new("dist-join");
    for db in Db::all(&dir) {
        let (name, _drop) = test_table(&db, "it_dist_join");
        let table = Table::new(&name)
            .key("a", Ty::Int)
            .key("b", Ty::Varchar(20))
            .col("v", Ty::Text);
        table.create(&db).fill(
            &db,
            1..=20_000,
            &[Fill::Modulo(97), Fill::Prefixed("k"), Fill::Prefixed("v")],
        );
        // SQLite would split by its rowid: the composite key is named.
        let key = ["--key", "a,b"];
        let serial = export(&db.url(), &name).args(key).success().stdout;
        let path = plan(&db, &name, 4, &key, &dir);
        let planned = read_json(&path);
        assert_eq!(
            planned["key"],
            serde_json::json!(["a", "b"]),
            "{}",
            db.name()
        );
        let parts = run_parts(&db, &path, 4, &dir, &["--chunk", "700"]);
        // Cut at the planner's estimate, each part is within 5% of rows/N
        // (exactly 5,000 when the estimate is off enough to cut again at
        // counted positions), and the plan records each part's real count.
        assert_parts(db.name(), &parts, &serial, Some(&planned), |_| {
            4_750..=5_250
        });
        assert_eq!(parts.iter().map(|p| rows(p)).sum::<usize>(), 20_000);
    }
}

/// A dense block of keys and a sparse tail: equal key *widths* would put
/// nearly every row in the first part; the plan cuts where the rows are.
#[test]
fn skewed_keys_still_give_balanced_parts() {
    let dir = TempDir::new("dist-skew");
    for db in Db::all(&dir) {
        let (name, _drop) = test_table(&db, "it_dist_skew");
        let table = Table::id_v(&name);
        table.create(&db).numbered(&db, 15_000);
        table.fill(&db, 20_000..=24_999, &[Fill::Id, Fill::Prefixed("v")]);
        db.exec(&format!(
            "UPDATE {name} SET id = id * 1000 WHERE id >= 20000"
        ));
        let serial = export(&db.url(), &name).success().stdout;
        let path = plan(&db, &name, 4, &[], &dir);
        let parts = run_parts(&db, &path, 4, &dir, &[]);
        // 5000 ± 25%.
        assert_parts(db.name(), &parts, &serial, None, |_| 3_750..=6_250);
    }
}

/// `dbchunk snapshot`, its stdin kept open: its id on stdout.
fn hold_snapshot(url: &str) -> (Child, String) {
    let mut holder = dbchunk(["snapshot", "--url", url]).spawn_with_stdin();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let id = line.trim().to_string();
    assert!(!id.is_empty(), "dbchunk snapshot printed no id");
    (holder, id)
}

/// With a held snapshot, rows inserted, deleted and changed after it never
/// show in any part, from the plan's snapshot or one given by
/// `--snapshot`; once the holder is released (stdin closed, exit 0), the
/// snapshot is gone and a part cannot read in it.
#[test]
fn pg_rows_changed_after_a_held_snapshot_never_show() {
    let dir = TempDir::new("dist-snapshot");
    let db = Db::Pg;
    let (name, _drop) = numbered_test_table(&db, "it_dist_snapshot", 20_000);
    let before = export(&db.url(), &name).success().stdout;
    let (mut holder, id) = hold_snapshot(&db.url());
    let path = plan(&db, &name, 4, &["--snapshot", &id], &dir);
    assert_eq!(read_json(&path)["snapshot"], id.as_str());
    db.exec(&format!(
        "DELETE FROM {name} WHERE id BETWEEN 4000 AND 6000 OR id > 19000;
         UPDATE {name} SET v = 'changed' WHERE id % 100 = 0;
         INSERT INTO {name} SELECT g, 'new' FROM generate_series(30001, 31000) g;"
    ));
    assert!(
        export(&db.url(), &name).success().stdout != before,
        "the rows changed"
    );
    let parts = run_parts(&db, &path, 4, &dir, &[]);
    assert!(
        join(&parts) == before,
        "a part saw rows changed after the snapshot"
    );
    // The snapshot given to the export itself, here to a plan made without one.
    let unsnapped = plan(&db, &name, 2, &[], &dir);
    let first = part(&db, &unsnapped, 1)
        .args(["--snapshot", &id])
        .success()
        .stdout;
    assert!(
        before.starts_with(&first),
        "--snapshot reads in the snapshot"
    );
    drop(holder.stdin.take());
    wait_ok(holder, "the released snapshot holder");
    part(&db, &path, 2)
        .fails(1)
        .error_says(&[&id, "dbchunk snapshot"]);
}

/// SIGTERM releases the snapshot with exit 0; a holder whose connection
/// is cut fails loudly, since the snapshot is gone with it.
#[test]
fn pg_snapshot_holder_ends_on_sigterm_and_fails_when_its_connection_dies() {
    // Its stdin stays open: only the signal ends it.
    let (mut holder, _) = hold_snapshot(&Db::Pg.url());
    let stdin = holder.stdin.take();
    signal(&holder, "-TERM");
    wait_ok(holder, "the snapshot holder after SIGTERM");

    let app = "it_dist_holder";
    let url = with_params(&Db::Pg.url(), &format!("application_name={app}"));
    let (mut holder, id) = hold_snapshot(&url);
    let stdin2 = holder.stdin.take();
    Db::Pg.exec(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{app}'"
    ));
    let started = Instant::now();
    // A lost snapshot is a failure.
    let ended = finish(holder, "the holder whose connection died");
    assert!(started.elapsed() < Duration::from_secs(30), "noticed late");
    drop((stdin, stdin2));
    ended.assert_code(1);
    ended.error_says(&[&id, "lost"]);
}

/// A worker killed with -9 leaves no part that looks complete; run again
/// (afresh, or with --resume from its --state), the set completes.
#[test]
fn a_worker_killed_and_run_again_completes_the_set() {
    let dir = TempDir::new("dist-kill");
    let db = Db::My;
    let (name, _drop) = numbered_test_table(&db, "it_dist_kill", 20_000);
    let serial = export(&db.url(), &name).success().stdout;
    let path = plan(&db, &name, 4, &[], &dir);
    let slow = ["--chunk", "250", "--max-rate", "4000/s"];
    let state = dir.join("part-{partition}.state");
    let with_state = ["--state", state.to_str().unwrap()];
    for k in [2, 3] {
        let extra: Vec<&str> = match k {
            2 => slow.to_vec(),
            _ => slow.iter().chain(&with_state).copied().collect(),
        };
        let mut child = worker(&db, &path, k, &dir, &extra);
        std::thread::sleep(Duration::from_millis(600));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            !dir.join(&format!("part-{k}.csv")).exists(),
            "a killed part must not look complete"
        );
    }
    let mut rerun = vec![
        worker(&db, &path, 1, &dir, &[]),
        worker(&db, &path, 4, &dir, &[]),
    ];
    rerun.push(worker(&db, &path, 2, &dir, &[]));
    // As a scheduler's script would: --resume once a state was written
    // (a worker killed before its first chunk leaves none).
    let mut resume = vec!["--state", state.to_str().unwrap()];
    if dir.join("part-3.state").exists() {
        resume.push("--resume");
    }
    rerun.push(worker(&db, &path, 3, &dir, &resume));
    for child in rerun {
        wait_ok(child, "a rerun");
    }
    let parts: Vec<Vec<u8>> = (1..=4).map(|k| read_part(&dir, k)).collect();
    assert!(
        join(&parts) == serial,
        "the rerun set does not join to the serial export"
    );
}

/// Without --partition, Kubernetes' 0-based JOB_COMPLETION_INDEX and
/// Slurm's 1-based SLURM_ARRAY_TASK_ID pick the part; none, or one out
/// of range, is a usage error.
#[test]
fn the_schedulers_index_picks_the_part() {
    let dir = TempDir::new("dist-index");
    let name = "it_dist_index";
    let db = lite_id_v(&dir, name, 1_000);
    let path = plan(&db, name, 4, &[], &dir);
    let part = |vars: &[(&str, &str)]| {
        let mut cmd = from_plan(&db.url(), &path)
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("SLURM_ARRAY_TASK_ID");
        for (name, value) in vars {
            cmd = cmd.env(*name, *value);
        }
        cmd
    };
    let third = part(&[]).args(["--partition", "3"]).success().stdout;
    assert!(
        third.starts_with(b"id,v\n501,v501\n"),
        "{}",
        String::from_utf8_lossy(&third)
    );
    assert_eq!(
        part(&[("JOB_COMPLETION_INDEX", "2")]).success().stdout,
        third
    );
    assert_eq!(
        part(&[("SLURM_ARRAY_TASK_ID", "3")]).success().stdout,
        third
    );
    for (vars, says) in [
        (&[][..], "JOB_COMPLETION_INDEX"),
        (&[("JOB_COMPLETION_INDEX", "4")], "partitions 1..4"),
        (&[("SLURM_ARRAY_TASK_ID", "0")], "--array=1-N"),
    ] {
        part(vars).fails(2).error_says(&[says]);
    }
}

/// The plan is shared with every worker and machine: it holds neither
/// the password nor the URL.
#[test]
fn pg_plans_hold_no_password() {
    let (name, _drop) = numbered_test_table(&Db::Pg, "it_dist_secret", 100);
    let url = Db::Pg
        .url()
        .replacen("postgres@", "postgres:s3cr3t-dist-pw@", 1);
    assert!(
        url.contains("s3cr3t-dist-pw"),
        "the test URL names user postgres: {url}"
    );
    let run = dbchunk(["plan", "--url", &url, "--table", &name, "--partitions", "3"]).success();
    let text = run.stdout_str();
    assert!(text.contains("\"partitions\""), "{text}");
    assert!(
        !text.contains("s3cr3t-dist-pw") && !text.contains("127.0.0.1"),
        "{text}"
    );
}

/// Format options live in the plan, so every part is written alike; a
/// worker that asks for another is refused. The plan's query, columns and
/// filter reach every part.
#[test]
fn plans_carry_the_source_and_format_to_every_part() {
    let dir = TempDir::new("dist-format");
    let name = "it_dist_format";
    let db = lite_id_v(&dir, name, 1_000);
    let query = format!("SELECT id, v FROM {name}");
    let path = dir.join("query-plan.json");
    let source = [
        "--query", &query, "--key", "id", "--columns", "v,id", "--where", "id % 2 = 0", "--format",
        "ndjson",
    ];
    dbchunk(["plan", "--url", &db.url()])
        .args(source)
        .args(["--partitions", "3", "-o"])
        .arg(&path)
        .success();
    let serial = dbchunk(["export", "--url", &db.url()])
        .args(source)
        .success()
        .stdout;
    let joined: Vec<u8> = (1..=3)
        .flat_map(|k| part(&db, &path, k).success().stdout)
        .collect();
    assert!(joined == serial, "{}", String::from_utf8_lossy(&joined));
    assert!(serial.starts_with(b"{\"v\":\"v2\",\"id\":2}\n"));
    std::fs::write(dir.join("bad.json"), "{\"dbchunk_plan\": 7}").unwrap();
    for (url, plan, more, says) in [
        (
            db.url(),
            path.clone(),
            &["--format", "csv"][..],
            &["plan's ndjson"][..],
        ),
        (Db::My.url(), path.clone(), &[], &["is for SQLite"]),
        (
            db.url(),
            dir.join("none.json"),
            &[],
            &["cannot read the plan", "none.json"],
        ),
        (db.url(), dir.join("bad.json"), &[], &["is damaged"]),
    ] {
        from_plan(&url, &plan)
            .args(["--partition", "1"])
            .args(more)
            .fails(2)
            .error_says(says);
    }
}

/// MySQL/MariaDB cannot share a snapshot: `--snapshot` is refused there,
/// and a plan made with binary logging off says what it cannot check.
#[test]
fn mysql_plans_say_what_they_cannot_promise() {
    let db = Db::My;
    let (name, _drop) = numbered_test_table(&db, "it_dist_mysql", 100);
    dbchunk(["plan", "--url", &db.url(), "--table", &name, "-n", "2"])
        .args(["--snapshot", "00000003-0000001B-1"])
        .fails(2)
        .error_says(&["needs PostgreSQL"]);
    dbchunk(["snapshot", "--url", &db.url()])
        .fails(2)
        .error_says(&["needs PostgreSQL"]);
    let run = dbchunk(["plan", "--url", &db.url(), "--table", &name, "-n", "2"]).success();
    let plan: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let logging: String = db.text("SELECT @@log_bin").unwrap_or_default();
    if logging == "1" {
        assert!(plan["binlog"].is_string(), "{plan}");
    } else {
        assert!(plan["binlog"].is_null(), "{plan}");
        run.stderr_says(&["binary logging is off"]);
    }
}

/// Many `dbchunk import` processes load the parts of one dump into one
/// table at once: each batch commits on its own, each part has its own
/// --state, and a part loaded again with --on-conflict skip changes
/// nothing.
#[test]
fn four_imports_of_four_parts_at_once_load_one_table() {
    let dir = TempDir::new("dist-import");
    for db in Db::servers() {
        let (source, _drop_source) = test_table(&db, "it_dist_import_src");
        let (target, _drop_target) = test_table(&db, "it_dist_import_dst");
        Table::id_v(&source).create(&db).numbered(&db, 20_000);
        Table::id_v(&target).create(&db);
        let path = plan(&db, &source, 4, &[], &dir);
        run_parts(&db, &path, 4, &dir, &[]);
        let imports: Vec<Child> = (1..=4)
            .map(|k| {
                let input = dir.join(&format!("part-{k}.csv"));
                let state = dir.join(&format!("import-{}-{k}.state", db.tag()));
                crate::util::import(&db.url(), &target)
                    .args([
                        "--batch", "500", "--strategy", "insert", "--on-conflict", "skip",
                    ])
                    .arg("--input")
                    .arg(&input)
                    .arg("--state")
                    .arg(&state)
                    .spawn()
            })
            .collect();
        for child in imports {
            wait_ok(child, &format!("an import on {}", db.name()));
        }
        db.assert_same_table(&source, &target, "four imports at once");
        crate::util::import(&db.url(), &target)
            .args(["--on-conflict", "skip", "--input"])
            .arg(dir.join("part-2.csv"))
            .success();
        assert_eq!(db.count(&target), 20_000, "{}", db.name());
    }
}

/// A network namespace joined to this one by a veth pair: a worker run in
/// it sees only its own loopback and the host side's address, as a worker
/// on another machine sees only the network. Removed on drop, also when
/// the test fails (deleting the host end of the pair deletes the other).
struct Netns {
    name: String,
    veth: String,
    host: String,
}

/// `ip ARGS`, failing the test with what went wrong: a machine that does
/// not allow network namespaces cannot run this test, and says so.
#[track_caller]
fn ip(args: &[&str]) {
    let output = std::process::Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "`ip {}` did not start ({e}): this test needs iproute2",
                args.join(" ")
            )
        });
    assert!(
        output.status.success(),
        "`ip {}` failed: {}this test needs network namespaces (root or CAP_NET_ADMIN, \
         `ip netns add` allowed)",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Netns {
    fn new(tag: &str) -> Netns {
        let id = std::process::id();
        let subnet = id % 250 + 1;
        let netns = Netns {
            name: format!("dbchunk_{tag}_{id}"),
            veth: format!("vd{tag}{}", id % 100_000),
            host: format!("10.200.{subnet}.1"),
        };
        let peer = format!("{}p", netns.veth);
        let inside = format!("10.200.{subnet}.2/24");
        ip(&["netns", "add", &netns.name]);
        ip(&[
            "link", "add", &netns.veth, "type", "veth", "peer", "name", &peer,
        ]);
        ip(&["link", "set", &peer, "netns", &netns.name]);
        ip(&[
            "addr",
            "add",
            &format!("{}/24", netns.host),
            "dev",
            &netns.veth,
        ]);
        ip(&["link", "set", &netns.veth, "up"]);
        let exec = ["netns", "exec", &netns.name, "ip"];
        ip(&[&exec[..], &["addr", "add", &inside, "dev", &peer]].concat());
        ip(&[&exec[..], &["link", "set", &peer, "up"]].concat());
        ip(&[&exec[..], &["link", "set", "lo", "up"]].concat());
        netns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["link", "del", &self.veth])
            .output();
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// A TCP relay listening on `at` (port chosen by the system) that copies
/// every connection to and from `to`: the servers listen on 127.0.0.1
/// only, which the namespace cannot reach. The address it listens on.
fn relay(at: &str, to: String) -> String {
    let listener = std::net::TcpListener::bind((at, 0)).expect("listen on the veth address");
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = std::net::TcpStream::connect(&to) else {
                continue;
            };
            let (mut client_r, mut server_w) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut server_r, mut client_w) = (server, client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut client_r, &mut server_w);
                let _ = server_w.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut server_r, &mut client_w);
                let _ = client_w.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    address
}

/// `url` with its `host:port` swapped for `address`, and the `host:port`
/// it had.
fn via(url: &str, address: &str) -> (String, String) {
    let start = url
        .find('@')
        .map_or_else(|| url.find("://").unwrap() + 3, |i| i + 1);
    let end = start + url[start..].find('/').unwrap_or(url.len() - start);
    let target = url[start..end].to_string();
    (format!("{}{address}{}", &url[..start], &url[end..]), target)
}

/// A worker "on another machine": partition 2 exported from inside a
/// network namespace, reaching the server over a veth pair, is the same
/// bytes as partition 2 exported here. What a worker needs is the plan
/// file and a route to the server; nothing on the planning machine.
#[test]
fn a_worker_in_another_network_namespace_exports_its_part() {
    let dir = TempDir::new("dist-netns");
    let netns = Netns::new("d2");
    for db in Db::servers() {
        let (name, _drop) = test_table(&db, "it_dist_netns");
        Table::id_v(&name).create(&db).numbered(&db, 8_000);
        let path = plan(&db, &name, 4, &[], &dir);
        wait_ok(worker(&db, &path, 2, &dir, &[]), "partition 2 here");
        let here = read_part(&dir, 2);
        let (remote_url, server) = via(&db.url(), "HOST");
        let address = relay(&netns.host, server);
        let remote_url = remote_url.replace("HOST", &address);
        let there = dir.join(&format!("there-{}.csv", db.tag()));
        let output = std::process::Command::new("ip")
            .args(["netns", "exec", &netns.name, crate::util::BIN, "export"])
            .args(["--url", &remote_url, "--plan"])
            .arg(&path)
            .args(["--partition", "2", "-o"])
            .arg(&there)
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .output()
            .expect("start a worker in the namespace");
        let what = format!(
            "{}: partition 2 in namespace {} via {remote_url}",
            db.name(),
            netns.name
        );
        Run::from_output(&what, output).assert_code(0);
        let there = std::fs::read(&there).unwrap();
        assert_eq!(rows(&here), 2_000, "{}", db.name());
        assert!(
            there == here,
            "{}: the part exported in the namespace differs from the one exported here",
            db.name()
        );
    }
}

/// A counted plan places its cuts at the planner's estimate and counts
/// only the rows past the last one: each part's planned rows are still
/// the rows it holds, and an estimate off by more than the last part can
/// absorb (5%) is cut again at counted positions, evenly.
#[test]
fn pg_counted_plans_count_every_part_when_the_estimate_is_off() {
    let dir = TempDir::new("dist-estimate");
    let db = Db::Pg;
    let (name, _drop) = numbered_test_table(&db, "it_dist_estimate", 20_000);
    db.exec(&format!("ANALYZE {name}"));
    // The estimate stays 20000 (ANALYZE's, scaled by the table's pages).
    for (deleted, expected) in [
        (200, [5_000, 5_000, 5_000, 4_800]),
        (2_000, [4_500, 4_500, 4_500, 4_500]),
    ] {
        db.exec(&format!(
            "DELETE FROM {name} WHERE id > {}",
            20_000 - deleted
        ));
        let path = plan(&db, &name, 4, &[], &dir);
        let planned = read_json(&path);
        assert_eq!(planned["rows"], 20_000 - deleted);
        let serial = export(&db.url(), &name).success().stdout;
        let parts = run_parts(&db, &path, 4, &dir, &[]);
        let what = format!("{deleted} deleted");
        assert_parts(&what, &parts, &serial, Some(&planned), |k| {
            expected[k - 1]..=expected[k - 1]
        });
        db.exec(&format!(
            "INSERT INTO {name} SELECT g, 'v' || g FROM generate_series({}, 20000) g",
            20_001 - deleted
        ));
    }
}
