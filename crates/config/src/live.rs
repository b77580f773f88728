//! [`Config`]: the running configuration. CONFIG SET validates every pair first and
//! applies all or none (Redis 7.0), then publishes a new [`Settings`] and bumps the
//! generation so connections pick it up without locking.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

use crate::options::{OptionSpec, OPTIONS};
use crate::parse::{check_directive, parse_args, parse_config_file, ConfigError};
use crate::settings::Settings;

pub struct Config {
    values: RwLock<BTreeMap<&'static str, String>>,
    settings: RwLock<Arc<Settings>>,
    generation: AtomicU64,
    file: Option<PathBuf>,
}

impl Config {
    /// Defaults, then the file (if any), then `--directive value` arguments.
    pub fn load(file: Option<&Path>, args: &[String]) -> Result<Config, ConfigError> {
        let mut values: BTreeMap<&'static str, String> = OPTIONS
            .iter()
            .map(|o| (o.name, o.default.to_string()))
            .collect();
        let bad = |line: usize, text: String, reason: String| ConfigError::Bad {
            version: env!("CARGO_PKG_VERSION"),
            line,
            text,
            reason,
        };
        if let Some(path) = file {
            for (name, args, line, text) in parse_config_file(path)? {
                if name == "include" {
                    for inc in &args {
                        for (n, a, l, t) in parse_config_file(Path::new(inc))? {
                            let (spec, v) = check_directive(&n, &a).map_err(|r| bad(l, t, r))?;
                            values.insert(spec.name, v);
                        }
                    }
                    continue;
                }
                let (spec, v) = check_directive(&name, &args).map_err(|r| bad(line, text, r))?;
                values.insert(spec.name, v);
            }
        }
        let directives = parse_args(args).map_err(|r| bad(0, args.join(" "), r))?;
        for (name, a) in directives {
            let text = format!("{name} {}", a.join(" "));
            // `--save ""` reaches us as one empty argument, `--save` alone as none.
            let a = if a.is_empty() && name == "save" {
                vec![String::new()]
            } else {
                a
            };
            let (spec, v) = check_directive(&name, &a).map_err(|r| bad(0, text, r))?;
            values.insert(spec.name, v);
        }
        let settings = Arc::new(Settings::from_values(&values));
        Ok(Config {
            values: RwLock::new(values),
            settings: RwLock::new(settings),
            generation: AtomicU64::new(1),
            file: file.map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())),
        })
    }

    pub fn settings(&self) -> Arc<Settings> {
        self.settings.read().clone()
    }

    /// Moves whenever a setting changes.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Options accepted for redis.conf compatibility but not acted upon (see
    /// [`OptionSpec::inert`]) that are set to something other than Redis's default:
    /// (name, value), for a start-up warning.
    pub fn inert_in_use(&self) -> Vec<(&'static str, String)> {
        let values = self.values.read();
        OPTIONS
            .iter()
            .filter(|o| o.inert)
            .filter_map(|o| {
                let v = values.get(o.name)?;
                let default = o.canonical(&[o.default]).ok()?;
                (*v != default).then(|| (o.name, v.clone()))
            })
            .collect()
    }

    /// One option's canonical value.
    pub fn get_value(&self, name: &str) -> Option<String> {
        let spec = OptionSpec::find(name)?;
        self.values.read().get(spec.name).cloned()
    }

    /// CONFIG GET: every (name, value) whose name matches one of the glob `patterns`.
    pub fn get_matching(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let values = self.values.read();
        let mut out = Vec::new();
        let is_glob = |p: &[u8]| p.iter().any(|c| matches!(c, b'*' | b'?' | b'['));
        for o in OPTIONS {
            let names = std::iter::once(o.name).chain(o.alias);
            for name in names {
                if patterns.iter().any(|p| {
                    if is_glob(p) {
                        !o.hidden && snapkv_keyspace::glob::matches(p, name.as_bytes(), true)
                    } else {
                        p.eq_ignore_ascii_case(name.as_bytes())
                    }
                }) && !out.iter().any(|(n, _): &(String, String)| n == name)
                {
                    out.push((
                        name.to_string(),
                        values.get(o.name).cloned().unwrap_or_default(),
                    ));
                }
            }
        }
        out
    }

    /// CONFIG SET with any number of pairs: all validated, then all applied. Returns the
    /// names that changed; the error is the full Redis error line. `local_client`: the
    /// asking client is on loopback (what `enable-protected-configs local` allows).
    pub fn set(
        &self,
        pairs: &[(&str, &str)],
        local_client: bool,
    ) -> Result<Vec<&'static str>, String> {
        let protected_ok = crate::allows(&self.settings().enable_protected_configs, local_client);
        let mut staged: Vec<(&'static str, String)> = Vec::new();
        for (name, value) in pairs {
            let Some(spec) = OptionSpec::find(name) else {
                return Err(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                ));
            };
            let fail = |msg: &str| {
                format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {msg}")
            };
            if staged.iter().any(|(n, _)| *n == spec.name) {
                return Err(fail("duplicate parameter"));
            }
            if spec.immutable {
                return Err(fail("can't set immutable config"));
            }
            if spec.protected && !protected_ok {
                return Err(fail("can't set protected config"));
            }
            let v = spec.canonical(&[value]).map_err(|e| fail(&e))?;
            staged.push((spec.name, v));
        }
        let mut values = self.values.write();
        let mut changed = Vec::new();
        for (name, v) in staged {
            if values.get(name) != Some(&v) {
                changed.push(name);
            }
            values.insert(name, v);
        }
        *self.settings.write() = Arc::new(Settings::from_values(&values));
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(changed)
    }

    /// CONFIG REWRITE: rewrites the config file in place, keeping comments and unknown
    /// lines, updating changed options and appending new ones; written atomically.
    pub fn rewrite(&self) -> Result<(), String> {
        let Some(path) = &self.file else {
            return Err("ERR The server is running without a config file".into());
        };
        let old = std::fs::read_to_string(path).unwrap_or_default();
        let values = self.values.read();
        let mut written: Vec<&str> = Vec::new();
        let mut lines: Vec<String> = Vec::new();
        for line in old.lines() {
            let trimmed = line.trim();
            let name = trimmed
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            match OptionSpec::find(&name) {
                Some(spec) if !trimmed.starts_with('#') => {
                    if written.contains(&spec.name) {
                        continue;
                    }
                    written.push(spec.name);
                    lines.push(format_line(spec.name, values.get(spec.name)));
                }
                _ => lines.push(line.to_string()),
            }
        }
        let mut header = false;
        for o in OPTIONS {
            let v = values.get(o.name);
            if written.contains(&o.name) || v.map(String::as_str) == Some(o.default) {
                continue;
            }
            if !header {
                lines.push("# Generated by CONFIG REWRITE".into());
                header = true;
            }
            lines.push(format_line(o.name, v));
        }
        let tmp = path.with_extension("rewrite.tmp");
        let text = lines.join("\n") + "\n";
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| format!("ERR Rewriting config file: {e}"))
    }
}

fn format_line(name: &str, value: Option<&String>) -> String {
    let v = value.map(String::as_str).unwrap_or("");
    if v.is_empty() {
        format!("{name} \"\"")
    } else if matches!(name, "save" | "client-output-buffer-limit" | "bind") {
        format!("{name} {v}")
    } else if v.contains(' ') || v.contains('"') {
        format!(
            "{name} \"{}\"",
            v.replace('\\', "\\\\").replace('"', "\\\"")
        )
    } else {
        format!("{name} {v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_is_all_or_nothing() {
        let c = Config::load(None, &[]).unwrap();
        let g = c.generation();
        let err = c
            .set(&[("maxmemory", "10mb"), ("hz", "x")], true)
            .unwrap_err();
        assert_eq!(
            err,
            "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"
        );
        assert_eq!(c.get_value("maxmemory").unwrap(), "0");
        c.set(&[("maxmemory", "10mb"), ("hz", "20")], true).unwrap();
        assert_eq!(c.settings().maxmemory, 10 << 20);
        assert!(c.generation() > g);
        assert!(c
            .set(&[("port", "1")], true)
            .unwrap_err()
            .contains("can't set immutable config"));
        assert!(c
            .set(&[("nope", "1")], true)
            .unwrap_err()
            .starts_with("ERR Unknown option"));
    }

    #[test]
    fn where_files_go_is_protected_as_in_redis() {
        let protected = "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config";
        let c = Config::load(None, &[]).unwrap();
        assert_eq!(c.set(&[("dir", "/tmp")], true).unwrap_err(), protected);
        assert!(c
            .set(&[("dbfilename", "x.rdb")], true)
            .unwrap_err()
            .ends_with("can't set protected config"));
        assert!(c
            .set(&[("enable-protected-configs", "yes")], true)
            .unwrap_err()
            .ends_with("can't set immutable config"));
        let local =
            Config::load(None, &["--enable-protected-configs".into(), "local".into()]).unwrap();
        assert_eq!(local.set(&[("dir", "/tmp")], false).unwrap_err(), protected);
        local.set(&[("dbfilename", "x.rdb")], true).unwrap();
        let yes = Config::load(None, &["--enable-protected-configs".into(), "yes".into()]).unwrap();
        yes.set(&[("dbfilename", "x.rdb")], false).unwrap();
        assert_eq!(yes.get_value("dbfilename").unwrap(), "x.rdb");
    }

    #[test]
    fn args_override_file_and_rewrite_keeps_comments() {
        let dir = std::env::temp_dir().join(format!("snapkv-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("r.conf");
        std::fs::write(&f, "# keep me\nport 7000\nhz 20\n").unwrap();
        let c = Config::load(Some(&f), &["--hz".into(), "30".into()]).unwrap();
        assert_eq!(c.settings().port, 7000);
        assert_eq!(c.settings().hz, 30);
        c.set(&[("maxmemory", "1mb")], true).unwrap();
        c.rewrite().unwrap();
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            text.contains("# keep me")
                && text.contains("hz 30")
                && text.contains("maxmemory 1048576")
        );
        let Err(bad) = Config::load(None, &["--port".into(), "x".into()]) else {
            panic!("bad port accepted")
        };
        assert!(bad
            .to_string()
            .contains("argument couldn't be parsed into an integer"));
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[cfg(test)]
mod example_file {
    use super::*;

    /// The shipped example must stay a valid config that equals the defaults.
    #[test]
    fn redis_conf_example_loads_and_matches_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../redis.conf.example");
        let c = Config::load(Some(&path), &[]).unwrap_or_else(|e| panic!("{e}"));
        let d = Config::load(None, &[]).unwrap_or_else(|e| panic!("{e}"));
        for o in OPTIONS {
            assert_eq!(c.get_value(o.name), d.get_value(o.name), "{}", o.name);
        }
    }
}
