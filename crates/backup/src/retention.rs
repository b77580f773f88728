//! Backup policy: the daily window for automatic backups (`backup-window HH:MM-HH:MM`, UTC,
//! at least 60 minutes), retention pruning of automatic backups
//! (`backup-retention-days`, 0–35) and the manual limit (`backup-manual-limit` per 24 h).

use crate::manifest::{Kind, Manifest, Status};

pub const MIN_WINDOW_MINUTES: u32 = 60;
pub const MAX_RETENTION_DAYS: u64 = 35;
const DAY: u64 = 86_400;

/// A daily UTC window; it may wrap past midnight (`23:30-00:30`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Minutes after midnight.
    pub start: u32,
    pub end: u32,
}

fn hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

impl Window {
    /// `HH:MM-HH:MM`; the empty string means no window (no automatic backups).
    pub fn parse(s: &str) -> Result<Option<Window>, String> {
        if s.is_empty() {
            return Ok(None);
        }
        let bad = || format!("invalid backup window '{s}': use HH:MM-HH:MM (UTC)");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let w = Window {
            start: hhmm(a).ok_or_else(bad)?,
            end: hhmm(b).ok_or_else(bad)?,
        };
        if w.minutes() < MIN_WINDOW_MINUTES {
            return Err(format!(
                "invalid backup window '{s}': it must be at least {MIN_WINDOW_MINUTES} minutes long"
            ));
        }
        Ok(Some(w))
    }

    pub fn minutes(&self) -> u32 {
        (self.end + 1440 - self.start) % 1440
    }

    /// Whether the Unix time `now` falls inside the window.
    pub fn contains(&self, now: u64) -> bool {
        let minute = ((now % DAY) / 60) as u32;
        (minute + 1440 - self.start) % 1440 < self.minutes()
    }
}

/// Whether an automatic backup is due at `now`: inside the window, and none in the
/// last 23 hours (one a day, whatever restarts happened).
pub fn automatic_due(window: &Window, last_automatic: Option<u64>, now: u64) -> bool {
    window.contains(now) && last_automatic.is_none_or(|t| now.saturating_sub(t) >= 23 * 3600)
}

/// The automatic backups older than `days` (0 prunes nothing: it turns automatic
/// backups off). Manual backups are never pruned.
pub fn to_prune(manifests: &[Manifest], days: u64, now: u64) -> Vec<String> {
    if days == 0 {
        return Vec::new();
    }
    manifests
        .iter()
        .filter(|m| {
            m.kind == Kind::Automatic
                && m.status != Status::Creating
                && now.saturating_sub(m.created_unix) > days * DAY
        })
        .map(|m| m.name.clone())
        .collect()
}

/// Refuses a manual backup when `limit` manual backups (not failed) were created in the
/// last 24 hours. `pending` counts manual backups queued but not yet in `manifests`.
pub fn check_manual_limit(
    manifests: &[Manifest],
    pending: usize,
    limit: u64,
    now: u64,
) -> Result<(), String> {
    let recent: Vec<u64> = manifests
        .iter()
        .filter(|m| {
            m.kind == Kind::Manual
                && m.status != Status::Failed
                && now.saturating_sub(m.created_unix) < DAY
        })
        .map(|m| m.created_unix)
        .collect();
    if (recent.len() + pending) as u64 >= limit {
        let next = recent
            .iter()
            .min()
            .map(|t| format!(" ({})", crate::manifest::rfc3339(t + DAY)))
            .unwrap_or_default();
        return Err(format!(
            "manual backup limit reached: {limit} manual backups in the last 24 hours (backup-manual-limit); the next one can be taken after the oldest of them is 24 hours old{next}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Source;

    fn m(name: &str, kind: Kind, created: u64, status: Status) -> Manifest {
        let mut m = Manifest::new(name, kind, Source::default(), "forkless", created);
        m.status = status;
        m
    }

    #[test]
    fn windows() {
        assert_eq!(Window::parse("").unwrap(), None);
        let w = Window::parse("03:00-04:00").unwrap().unwrap();
        assert!(w.contains(3 * 3600));
        assert!(w.contains(3 * 3600 + 59 * 60));
        assert!(!w.contains(4 * 3600));
        assert!(!w.contains(2 * 3600 + 59 * 60 + DAY));
        let wrap = Window::parse("23:30-00:30").unwrap().unwrap();
        assert_eq!(wrap.minutes(), 60);
        assert!(wrap.contains(23 * 3600 + 45 * 60));
        assert!(wrap.contains(10 * 60));
        assert!(!wrap.contains(12 * 3600));
        assert!(Window::parse("03:00-03:59")
            .unwrap_err()
            .contains("60 minutes"));
        assert!(Window::parse("3:00-04:00").is_err());
        assert!(Window::parse("03:00-24:00").is_err());
        assert!(Window::parse("03:00").is_err());
        assert!(automatic_due(&w, None, 3 * 3600));
        assert!(!automatic_due(&w, Some(3 * 3600), 3 * 3600 + 60));
        assert!(automatic_due(&w, Some(3 * 3600), DAY + 3 * 3600 + 60));
    }

    #[test]
    fn pruning_keeps_manual_and_recent() {
        let now = 100 * DAY;
        let list = vec![
            m(
                "old-auto",
                Kind::Automatic,
                now - 8 * DAY,
                Status::Available,
            ),
            m("new-auto", Kind::Automatic, now - DAY, Status::Available),
            m(
                "old-manual",
                Kind::Manual,
                now - 50 * DAY,
                Status::Available,
            ),
            m("old-failed", Kind::Automatic, now - 9 * DAY, Status::Failed),
        ];
        assert_eq!(to_prune(&list, 7, now), vec!["old-auto", "old-failed"]);
        assert!(to_prune(&list, 0, now).is_empty());
    }

    #[test]
    fn manual_limit() {
        let now = 10 * DAY;
        let list = vec![
            m("a", Kind::Manual, now - 100, Status::Available),
            m("b", Kind::Manual, now - DAY - 1, Status::Available),
            m("c", Kind::Manual, now - 50, Status::Failed),
            m("d", Kind::Automatic, now - 50, Status::Available),
        ];
        assert!(check_manual_limit(&list, 0, 2, now).is_ok());
        let e = check_manual_limit(&list, 1, 2, now).unwrap_err();
        assert!(e.contains("manual backup limit reached"), "{e}");
        assert!(check_manual_limit(&list, 0, 1, now).is_err());
    }
}
