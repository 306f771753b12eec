//! The hub's one typed configuration: defaults, then a TOML file, then `KADIAN_*`
//! environment variables (e.g. `KADIAN_BODY_LIMIT=2097152`), then the command line's
//! `--data` and `--listen`. Unknown keys are errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Everything the hub can be told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Directory of the sled store (created if missing).
    pub data: PathBuf,
    /// Address to listen on, e.g. `0.0.0.0:8080`.
    pub listen: String,
    /// Largest JSON request body in bytes; larger answers 413.
    pub body_limit: usize,
    /// Largest evidence JPEG in bytes; larger answers 413.
    pub evidence_limit: usize,
    /// How long a login lasts, in seconds.
    pub session_secs: u64,
    /// Most incidents per page (`limit=` is capped to this).
    pub max_page: usize,
    /// Most passages one plate search returns.
    pub max_timeline: usize,
    /// Longest edge of a thumbnail in pixels.
    pub thumb_px: u32,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// sled page cache in MiB.
    pub cache_mb: u64,
    /// Mark the session cookie `Secure` (set when the hub is behind TLS).
    pub secure_cookie: bool,
    /// Hours to investigate a tip from when it was received (DOMAIN.md: 2 days).
    pub tip_deadline_hours: u32,
    /// Hours before its deadline an open tip is marked due soon.
    pub tip_due_soon_hours: u32,
    /// Yuan per verified case, paid to its first real-name reporter.
    pub reward_yuan: u32,
    /// Days to pay a reward from the verdict (DOMAIN.md: 10).
    pub reward_due_days: u32,
    /// Longest tip time window the cross-check scans, in hours.
    pub tip_max_window_hours: u32,
    /// County adjacency for the cross-check: county → bordering counties (either
    /// side may list the pair). `[neighbours]` in TOML.
    pub neighbours: BTreeMap<String, Vec<String>>,
    /// Seconds between keep-alive comments on the live incident stream, so proxies
    /// and tablets on rural links do not drop an idle connection.
    pub sse_keepalive_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data: PathBuf::from("hub-data"),
            listen: "127.0.0.1:8080".into(),
            body_limit: 4 << 20,
            evidence_limit: 16 << 20,
            session_secs: 12 * 3600,
            max_page: 200,
            max_timeline: 5000,
            thumb_px: 320,
            workers: 0,
            cache_mb: 256,
            secure_cookie: false,
            tip_deadline_hours: 48,
            tip_due_soon_hours: 12,
            reward_yuan: 1000,
            reward_due_days: 10,
            tip_max_window_hours: 7 * 24,
            neighbours: BTreeMap::new(),
            sse_keepalive_secs: 15,
        }
    }
}

impl Config {
    /// Defaults, overridden by `file` (if any), then by `KADIAN_*` variables of `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let defaults = match toml::Value::try_from(Config::default()) {
            Ok(toml::Value::Table(t)) => t,
            _ => return Err(ConfigError::Invalid("defaults do not serialise".into())),
        };
        let mut table = defaults.clone();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.into(),
                source,
            })?;
            let from_file: toml::Table = text.parse().map_err(|e: toml::de::Error| {
                ConfigError::Invalid(format!("{}: {e}", path.display()))
            })?;
            table.extend(from_file);
        }
        for (k, v) in env {
            let Some(key) = k.strip_prefix("KADIAN_") else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            let value = match defaults.get(&key) {
                Some(toml::Value::Integer(_)) => toml::Value::Integer(
                    v.parse()
                        .map_err(|_| ConfigError::Invalid(format!("{k}: not an integer: {v}")))?,
                ),
                Some(toml::Value::Boolean(_)) => toml::Value::Boolean(
                    v.parse()
                        .map_err(|_| ConfigError::Invalid(format!("{k}: not true/false: {v}")))?,
                ),
                Some(_) => toml::Value::String(v),
                // Other Kadian programs share the prefix: not ours, not an error.
                None => {
                    tracing::debug!(variable = %k, "ignoring environment variable the hub does not know");
                    continue;
                }
            };
            table.insert(key, value);
        }
        let config = Config::deserialize(toml::Value::Table(table))
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.body_limit < 1024 || self.evidence_limit < 1024 {
            return Err(ConfigError::Invalid(
                "body_limit and evidence_limit must be at least 1024".into(),
            ));
        }
        if self.sse_keepalive_secs == 0 {
            return Err(ConfigError::Invalid(
                "sse_keepalive_secs must be positive".into(),
            ));
        }
        if self.max_page == 0 || self.thumb_px < 16 || self.session_secs == 0 {
            return Err(ConfigError::Invalid(
                "max_page, thumb_px (>= 16) and session_secs must be positive".into(),
            ));
        }
        if self.tip_deadline_hours == 0
            || self.reward_due_days == 0
            || self.tip_max_window_hours == 0
            || self.tip_due_soon_hours >= self.tip_deadline_hours
        {
            return Err(ConfigError::Invalid(
                "tip_deadline_hours, reward_due_days and tip_max_window_hours must be positive, \
                 tip_due_soon_hours below tip_deadline_hours"
                    .into(),
            ));
        }
        for (county, list) in &self.neighbours {
            for c in std::iter::once(county).chain(list) {
                crate::api::County::parse(c)
                    .map_err(|e| ConfigError::Invalid(format!("neighbours: {e}: {c:?}")))?;
            }
        }
        Ok(())
    }

    /// The tip line's deadlines and amounts.
    pub fn tip_rules(&self) -> crate::tips::Rules {
        let h = |n: u32| chrono::Duration::hours(i64::from(n));
        crate::tips::Rules {
            investigate: h(self.tip_deadline_hours),
            warn: h(self.tip_due_soon_hours),
            reward_yuan: self.reward_yuan,
            pay_within: chrono::Duration::days(i64::from(self.reward_due_days)),
        }
    }

    pub fn session_lifetime(&self) -> Duration {
        Duration::from_secs(self.session_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_defaults_file_env() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("hub.toml");
        std::fs::write(&f, "body_limit = 2048\nmax_page = 7\n").unwrap();
        let env = vec![
            ("KADIAN_MAX_PAGE".to_string(), "9".to_string()),
            ("PATH".into(), "x".into()),
        ];
        let c = Config::load(Some(&f), env).unwrap();
        assert_eq!(c.body_limit, 2048);
        assert_eq!(c.max_page, 9);
        assert_eq!(c.thumb_px, Config::default().thumb_px);
    }

    #[test]
    fn reads_the_neighbours_table() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("hub.toml");
        std::fs::write(
            &f,
            "reward_yuan = 800\n[neighbours]\n\"滦平县\" = [\"承德县\", \"兴隆县\"]\n",
        )
        .unwrap();
        let c = Config::load(
            Some(&f),
            vec![("KADIAN_REWARD_DUE_DAYS".into(), "5".into())],
        )
        .unwrap();
        assert_eq!(c.reward_yuan, 800);
        assert_eq!(c.reward_due_days, 5);
        assert_eq!(c.neighbours["滦平县"], vec!["承德县", "兴隆县"]);
        std::fs::write(&f, "tip_due_soon_hours = 48\n").unwrap();
        assert!(Config::load(Some(&f), Vec::new()).is_err());
    }

    #[test]
    fn rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("hub.toml");
        std::fs::write(&f, "body_limt = 2048\n").unwrap();
        assert!(Config::load(Some(&f), Vec::new()).is_err());
        assert!(Config::load(None, vec![("KADIAN_MAX_PAGE".into(), "many".into())]).is_err());
    }
}
