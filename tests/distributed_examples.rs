//! The examples of docs/distributed.md, run as the docs write them: each
//! test takes its fenced block from the docs themselves (so what is tested
//! cannot drift from what is shown), changes only what must change here —
//! the table's name, the URL (`DATABASE_URL`), paths into the test's
//! directory, the YAML's image and volumes — and runs it with bash against
//! the test PostgreSQL, inside the docs' "Holding the snapshot in a
//! script" block. After the plan and before the parts, rows are deleted,
//! changed and inserted: the parts must still join (headers aside, through
//! the real zstd tool) to the export taken before, and the snapshot must
//! be released when the script ends.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::distributed::join;
use crate::parquet::run_python;
use crate::util::engine::Db;
use crate::util::procs::{finish, read_json};
use crate::util::tables::numbered_test_table;
use crate::util::{dbchunk, decompress_file, export, TempDir, BIN};

const DOCS: &str = include_str!("../docs/distributed.md");

/// The body of the first fenced block after the line `heading` in
/// docs/distributed.md, which must be written in `lang`.
#[track_caller]
fn block(heading: &str, lang: &str) -> String {
    let mut lines = DOCS.lines().skip_while(|l| *l != heading);
    assert!(
        lines.next().is_some(),
        "docs/distributed.md has no line {heading:?}"
    );
    let fence = lines
        .find(|l| l.starts_with("```"))
        .unwrap_or_else(|| panic!("no fenced block after {heading:?} in docs/distributed.md"));
    assert_eq!(fence, format!("```{lang}"), "the block after {heading:?}");
    let body: Vec<&str> = lines.take_while(|l| !l.starts_with("```")).collect();
    body.join("\n") + "\n"
}

/// `text` with `from` replaced by `to`; `from` must be there (else the
/// docs changed in a way this test must follow).
#[track_caller]
fn replace(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "{from:?} is not in the docs' block any more:\n{text}"
    );
    text.replace(from, to)
}

/// `word` quoted for sh.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// One example's table, directory and the serial export of the table.
struct Example {
    dir: TempDir,
    table: String,
    _drop: crate::util::engine::DropOnExit,
    serial: Vec<u8>,
}

impl Example {
    /// A PostgreSQL table of 2,000 numbered rows, and a `bin/dbchunk`
    /// in the directory for the scripts' PATH.
    fn new(tag: &str) -> Example {
        let dir = TempDir::new(&format!("distex-{tag}"));
        let (table, drop) = numbered_test_table(&Db::Pg, &format!("it_distex_{tag}"), 2_000);
        std::fs::create_dir(dir.join("bin")).unwrap();
        std::os::unix::fs::symlink(BIN, dir.join("bin/dbchunk")).unwrap();
        let serial = export(&Db::Pg.url(), &table).success().stdout;
        Example {
            dir,
            table,
            _drop: drop,
            serial,
        }
    }

    /// The docs' "Holding the snapshot in a script" block, on this
    /// example's table, with `fan_out` where it says "fan the parts out".
    fn holding(&self, fan_out: &str) -> String {
        let script = block("### Holding the snapshot in a script", "bash");
        let script = replace(&script, "-t orders ", &format!("-t {} ", self.table));
        // The test changes rows once the plan is made (see `run`).
        let fan_out = format!("echo planned\nread -r _\n{fan_out}");
        replace(
            &script,
            "# ... fan the parts out, wait for them all ...",
            &fan_out,
        )
    }

    /// Runs `script` with bash in the example's directory, `DATABASE_URL`
    /// the test PostgreSQL; when it says it planned, deletes, changes and
    /// inserts rows, then lets it go on. It must succeed.
    #[track_caller]
    fn run(&self, script: &str) {
        let path = self.dir.join("example.sh");
        std::fs::write(&path, format!("set -euo pipefail\n{script}")).unwrap();
        let search = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![self.dir.join("bin")];
        paths.extend(std::env::split_paths(&search));
        let mut child = Command::new("timeout")
            .args(["300", "bash"])
            .arg(&path)
            .current_dir(self.dir.path())
            .env("PATH", std::env::join_paths(paths).unwrap())
            .env("DATABASE_URL", Db::Pg.url())
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start bash");
        let mut first = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut first)
            .unwrap();
        if first == "planned\n" {
            self.change_rows();
            child.stdin.take().unwrap().write_all(b"\n").unwrap();
        }
        let run = finish(child, &format!("bash {}:\n{script}", path.display()));
        run.assert_code(0);
        assert_eq!(first, "planned\n", "{}: {}", run.args, run.stderr);
    }

    #[track_caller]
    fn change_rows(&self) {
        let t = &self.table;
        Db::Pg.exec(&format!(
            "DELETE FROM {t} WHERE id % 7 = 0 OR id > 1900;
             UPDATE {t} SET v = 'changed' WHERE id % 11 = 0;
             INSERT INTO {t} SELECT g, 'new' FROM generate_series(5001, 5100) g;"
        ));
        assert!(
            export(&Db::Pg.url(), t).success().stdout != self.serial,
            "the rows changed"
        );
    }

    /// The plan the script made: its number of partitions, after checking
    /// that it is this table's and holds the script's snapshot.
    #[track_caller]
    fn partitions(&self) -> usize {
        let plan = read_json(&self.dir.join("plan.json"));
        assert_eq!(plan["table"], self.table.as_str());
        assert!(plan["snapshot"].is_string(), "no snapshot in {plan}");
        plan["partitions"].as_array().unwrap().len()
    }

    /// The `part-*.csv.zst` files in `dir`, `n` of them, decompressed
    /// with zstd and joined in order (headers aside), are the export taken
    /// before the rows changed; and the snapshot was released.
    #[track_caller]
    fn assert_parts(&self, dir: &Path, n: usize) {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("part-") && name.ends_with(".csv.zst"))
            .collect();
        names.sort();
        assert_eq!(names.len(), n, "parts in {}: {names:?}", dir.display());
        let parts: Vec<Vec<u8>> = names
            .iter()
            .map(|name| decompress_file("zstd", &dir.join(name)))
            .collect();
        assert!(
            join(&parts) == self.serial,
            "the parts in {} do not join to the export taken before the rows changed",
            dir.display()
        );
        dbchunk(["export", "--url", &Db::Pg.url(), "--partition", "1"])
            .arg("--plan")
            .arg(self.dir.join("plan.json"))
            .fails(1)
            .error_says(&["dbchunk snapshot"]);
    }
}

/// "GNU parallel (here or over ssh)": the line without `--sshlogin` (on
/// this machine, as the docs say it then runs), in the held snapshot.
#[test]
fn the_gnu_parallel_line_exports_the_parts_in_the_held_snapshot() {
    let example = Example::new("parallel");
    let line = block("### GNU parallel (here or over ssh)", "bash");
    let line = replace(&line, "--sshlogin 4/node1,4/node2 ", "");
    let line = replace(&line, "-t orders ", &format!("-t {} ", example.table));
    example.run(&example.holding(&line));
    example.assert_parts(example.dir.path(), example.partitions());
}

/// "Slurm job array": the script, its shared directory the test's, run
/// once per task with `SLURM_ARRAY_TASK_ID` from its `--array` (all at
/// once, as `sbatch --array` would), then task 1 again (a requeued task:
/// its `--state` says it is done, and it exits 0).
#[test]
fn the_slurm_script_exports_the_parts_in_the_held_snapshot() {
    let example = Example::new("slurm");
    let dir = example.dir.path().to_str().unwrap();
    let script = block("### Slurm job array", "bash");
    let array = script
        .lines()
        .find_map(|l| l.strip_prefix("#SBATCH --array="))
        .expect("#SBATCH --array= in the Slurm script");
    let array = array.split_whitespace().next().unwrap();
    let (first, last) = array.split_once('-').expect("--array=FIRST-LAST");
    std::fs::write(
        example.dir.join("slurm.sh"),
        replace(&script, "/shared/orders", dir),
    )
    .unwrap();
    let fan_out = format!(
        "pids=()\n\
         for task in $(seq {first} {last}); do\n\
         \x20 SLURM_ARRAY_TASK_ID=$task bash slurm.sh & pids+=($!)\n\
         done\n\
         for pid in \"${{pids[@]}}\"; do wait \"$pid\"; done\n\
         SLURM_ARRAY_TASK_ID={first} bash slurm.sh\n"
    );
    example.run(&example.holding(&fan_out));
    let n = example.partitions();
    assert_eq!(
        array,
        format!("1-{n}"),
        "the array is the plan's partitions"
    );
    example.assert_parts(example.dir.path(), n);
}

/// "Kubernetes Indexed Job": the manifest read with PyYAML, and its
/// container's command and args run once per index with
/// `JOB_COMPLETION_INDEX` = 0..completions-1 and the container's env (the
/// URL the test's; the secret left out: the test server trusts), the
/// `plan` volume (the ConfigMap made from plan.json) the script's
/// directory and `out` (the claim) an empty one. The manifest itself is
/// not applied to any cluster.
#[test]
fn the_kubernetes_indexed_jobs_container_exports_the_parts_in_the_held_snapshot() {
    let example = Example::new("k8s");
    let yaml = block("### Kubernetes Indexed Job", "yaml");
    let json = run_python(
        "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.argv[1])))",
        &[&yaml],
    );
    let job: serde_json::Value = serde_json::from_str(&json).expect("the manifest as JSON");
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    let completions = job["spec"]["completions"].as_u64().expect("completions");
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    let container = &pod["containers"][0];
    let mut command: Vec<String> = ["command", "args"]
        .iter()
        .flat_map(|field| container[field].as_array().expect(field).clone())
        .map(|word| word.as_str().expect("a string").to_string())
        .collect();

    let out = example.dir.join("out");
    std::fs::create_dir(&out).unwrap();
    for mount in container["volumeMounts"].as_array().expect("volumeMounts") {
        let local = match mount["name"].as_str() {
            Some("plan") => example.dir.path(),
            Some("out") => out.as_path(),
            other => panic!("a volume this test does not provide: {other:?}"),
        };
        let at = format!("{}/", mount["mountPath"].as_str().unwrap());
        let local = format!("{}/", local.display());
        command = command.iter().map(|w| w.replace(&at, &local)).collect();
    }
    let mut env = vec![];
    for var in container["env"].as_array().expect("env") {
        match (var["name"].as_str().unwrap(), var["value"].as_str()) {
            ("DATABASE_URL", Some(_)) => env.push(format!("DATABASE_URL={}", quote(&Db::Pg.url()))),
            (name, Some(value)) => env.push(format!("{name}={}", quote(value))),
            (_, None) => {} // from a secret
        }
    }
    let command: Vec<String> = command.iter().map(|w| quote(w)).collect();
    let fan_out = format!(
        "pids=()\n\
         for index in $(seq 0 {}); do\n\
         \x20 JOB_COMPLETION_INDEX=$index {} {} & pids+=($!)\n\
         done\n\
         for pid in \"${{pids[@]}}\"; do wait \"$pid\"; done\n",
        completions - 1,
        env.join(" "),
        command.join(" ")
    );
    example.run(&example.holding(&fan_out));
    let n = example.partitions();
    assert_eq!(
        completions, n as u64,
        "completions are the plan's partitions"
    );
    assert_eq!(job["spec"]["parallelism"], n, "one pod per part at once");
    example.assert_parts(&out.join("orders"), n);
}
