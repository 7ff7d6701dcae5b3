//! `dbchunk completions SHELL` and `dbchunk man` print what a shell or
//! `man` reads, on stdout, with nothing on stderr.

use crate::util::dbchunk;

#[test]
fn completion_scripts_know_the_subcommands_and_flags() {
    let bash = dbchunk(["completions", "bash"]).success();
    let script = bash.stdout_str();
    assert!(script.contains("_dbchunk()"), "{script}");
    assert!(script.contains("dbchunk,export)"), "{script}");
    assert!(script.contains("--table"), "{script}");
    assert!(script.contains("--incremental"), "{script}");
    assert!(bash.stderr.is_empty(), "{}", bash.stderr);
    for shell in ["zsh", "fish"] {
        let run = dbchunk(["completions", shell]).success();
        assert!(run.stdout_str().contains("dbchunk"), "{shell}");
        assert!(run.stdout_str().contains("table"), "{shell}");
    }
    dbchunk(["completions", "tcsh"]).fails(2);
}

#[test]
fn the_man_page_is_roff() {
    let run = dbchunk(["man"]).success();
    let page = run.stdout_str();
    assert!(page.starts_with('.'), "{page}");
    assert!(
        page.lines().any(|l| l.starts_with(".TH dbchunk 1")),
        "{page}"
    );
    assert!(page.contains("export"), "{page}");
}
