//! The real Redis tools against snapkv: redis-benchmark and redis-cli (non-interactive and
//! interactive through a pseudo-terminal) must work unchanged.

use std::io::Write;
use std::process::{Command, Stdio};

use snapkv_e2e::Server;

#[test]
fn redis_benchmark_runs_without_errors() {
    let s = Server::snapkv(&[]);
    let out = Command::new("redis-benchmark")
        .args([
            "-p",
            &s.port.to_string(),
            "-n",
            "20000",
            "-c",
            "20",
            "-P",
            "4",
        ])
        .args(["-t", "set,get,incr,mset", "-q", "--csv"])
        .output()
        .expect("redis-benchmark is installed (tests/run.sh installs redis-tools)");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    for t in ["SET", "GET", "INCR", "MSET"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("\"{t}")))
            .unwrap_or_else(|| panic!("no {t} result in:\n{text}"));
        let rps: f64 = line
            .split(',')
            .nth(1)
            .unwrap()
            .trim_matches('"')
            .parse()
            .unwrap();
        assert!(rps > 1000.0, "{t}: {rps} req/s");
    }
    assert!(!text.to_lowercase().contains("error"), "{text}");
}

#[test]
fn redis_cli_non_interactive() {
    let s = Server::snapkv(&[]);
    let cli = |args: &[&str]| {
        let out = Command::new("redis-cli")
            .args(["-p", &s.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli is installed");
        String::from_utf8_lossy(&out.stdout)
            .trim_end_matches('\n')
            .to_string()
    };
    assert_eq!(cli(&["SET", "greeting", "hello world"]), "OK");
    assert_eq!(cli(&["GET", "greeting"]), "hello world");
    assert_eq!(cli(&["GET", "missing"]), "");
    assert_eq!(
        cli(&["NOPE"]),
        "ERR unknown command 'NOPE', with args beginning with: "
    );
    // Commands on stdin, one per line.
    let mut child = Command::new("redis-cli")
        .args(["-p", &s.port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"SET a 1\nGET a\nPING\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "OK\n1\nPONG\n");
}

/// redis-cli in a real terminal (tmux answers its terminal queries, as a person's
/// terminal would): the prompt, typed commands, replies, hints need COMMAND DOCS.
#[test]
fn redis_cli_interactive() {
    let s = Server::snapkv(&[]);
    let port = s.port.to_string();
    let session = format!("snapkv-cli-{}", std::process::id());
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(args)
            .output()
            .expect("tmux is installed (tests/run.sh installs it)")
    };
    let started = tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "160",
        "-y",
        "40",
        &format!("redis-cli -p {port}"),
    ]);
    assert!(started.status.success(), "{started:?}");
    std::thread::sleep(std::time::Duration::from_millis(500));
    for line in ["SET k interactive", "GET k", "INCR k", "PING"] {
        tmux(&["send-keys", "-t", &session, line, "Enter"]);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let screen =
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &session]).stdout).into_owned();
    tmux(&["kill-session", "-t", &session]);
    assert!(
        screen.contains(&format!("127.0.0.1:{port}> SET k interactive")),
        "{screen}"
    );
    assert!(screen.contains("\"interactive\""), "{screen}");
    assert!(
        screen.contains("(error) ERR value is not an integer or out of range"),
        "{screen}"
    );
    assert!(screen.contains("PONG"), "{screen}");
}
