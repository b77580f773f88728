//! redis.conf files and `--directive value …` command lines, parsed like Redis's
//! `loadServerConfigFromString`: one directive per line, arguments split with
//! `sdssplitargs` rules, later lines override earlier ones, `include` is followed.

use std::path::Path;

use crate::options::OptionSpec;

/// (directive, arguments, line number, line text)
pub type Directive = (String, Vec<String>, usize, String);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Redis's fatal config error block.
    #[error("\n*** FATAL CONFIG FILE ERROR (snapkv {version}) ***\nReading the configuration file, at line {line}\n>>> '{text}'\n{reason}")]
    Bad {
        version: &'static str,
        line: usize,
        text: String,
        reason: String,
    },
    #[error("Fatal error, can't open config file '{path}': {err}")]
    Open { path: String, err: std::io::Error },
}

/// Directives from a file, as (name, args) pairs in order.
pub fn parse_config_file(path: &Path) -> Result<Vec<Directive>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|err| ConfigError::Open {
        path: path.display().to_string(),
        err,
    })?;
    parse_config_text(&text)
}

pub(crate) fn parse_config_text(text: &str) -> Result<Vec<Directive>, ConfigError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words = split(line).ok_or_else(|| ConfigError::Bad {
            version: env!("CARGO_PKG_VERSION"),
            line: i + 1,
            text: raw.to_string(),
            reason: "Unbalanced quotes in configuration line".into(),
        })?;
        let Some((name, args)) = words.split_first() else {
            continue;
        };
        out.push((
            name.to_ascii_lowercase(),
            args.to_vec(),
            i + 1,
            raw.to_string(),
        ));
    }
    Ok(out)
}

/// `--port 7000 --save "" --maxmemory 1gb` → directives, the way redis-server turns its
/// arguments into config text (a `--name` starts a directive, the words after it are its
/// arguments).
pub fn parse_args(args: &[String]) -> Result<Vec<(String, Vec<String>)>, String> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for a in args {
        if let Some(name) = a.strip_prefix("--") {
            if name.is_empty() {
                return Err("Invalid option '--'".into());
            }
            out.push((name.to_ascii_lowercase(), Vec::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push(a.clone());
        } else {
            return Err(format!("Invalid argument '{a}': expected --directive"));
        }
    }
    Ok(out)
}

fn split(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                let q = c;
                in_word = true;
                loop {
                    match chars.next()? {
                        '\\' if q == '"' => match chars.next()? {
                            'n' => cur.push('\n'),
                            't' => cur.push('\t'),
                            'r' => cur.push('\r'),
                            o => cur.push(o),
                        },
                        ch if ch == q => break,
                        ch => cur.push(ch),
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Some(out)
}

/// Validates one directive against the table: the option and its canonical value.
pub(crate) fn check_directive(
    name: &str,
    args: &[String],
) -> Result<(&'static OptionSpec, String), String> {
    let spec = OptionSpec::find(name).ok_or("Bad directive or wrong number of arguments")?;
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    if refs.is_empty() {
        return Err("wrong number of arguments".into());
    }
    spec.canonical(&refs).map(|v| (spec, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_args() {
        let d = parse_config_text("# c\nport 7000\nsave \"\"\nbind 127.0.0.1 ::1\n").unwrap();
        assert_eq!(d[0].0, "port");
        assert_eq!(d[1].1, vec![String::new()]);
        assert_eq!(d[2].1.len(), 2);
        let a = parse_args(&["--port".into(), "7000".into(), "--save".into(), "".into()]).unwrap();
        assert_eq!(
            a,
            vec![
                ("port".into(), vec!["7000".into()]),
                ("save".into(), vec!["".into()])
            ]
        );
    }
}
