//! Differential tests: every corpus file in `tests/corpus/` runs against snapkv and a real
//! redis-server 7.0 started here; every reply must be identical (modulo the corpus's
//! normalisation prefixes).

use snapkv_e2e::{corpus, Server};

#[test]
fn corpus_matches_real_redis() {
    let snapkv = Server::snapkv(&[]);
    let redis = Server::redis(&[]);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files in {}", dir.display());
    let mut mismatches = Vec::new();
    let mut total = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read corpus");
        total += corpus::count_commands(&text);
        // Fresh connections and an empty keyspace for every file.
        let mut a = vec![snapkv.conn(), snapkv.conn()];
        let mut b = vec![redis.conn(), redis.conn()];
        a[0].cmd(&["FLUSHALL"]);
        b[0].cmd(&["FLUSHALL"]);
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        mismatches.extend(corpus::run(&name, &text, &mut a, &mut b));
    }
    let report: Vec<String> = mismatches.iter().map(|m| m.to_string()).collect();
    assert!(
        report.is_empty(),
        "{} of {total} commands differ from redis-server:\n{}",
        report.len(),
        report.join("\n")
    );
    eprintln!("{total} corpus commands matched redis-server");
}
