//! `config.toml` (`$XDG_CONFIG_HOME/ccx/config.toml`): optional, every key has a default.
//! A bad file is reported in one line and the defaults are used.

use crate::keys::CcxKey;
use serde::Deserialize;

/// Where context rot is noticeable by default (from roughly 300–400k tokens).
pub const DEFAULT_ROT_ZONE: u64 = 300_000;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ConfigFile {
    ccx_key: Option<String>,
    rot_zone_tokens: Option<u64>,
    context_window: Option<u64>,
    templates: Option<crate::templates::TemplateConfig>,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The key that opens ccx's editor at any time (default Ctrl-]).
    pub ccx_key: CcxKey,
    /// Context size from which quality is expected to drop.
    pub rot_zone_tokens: u64,
    /// The model's context window; None: inferred from the model and the sizes seen.
    pub context_window: Option<u64>,
    /// `[templates]`: replacements for the texts ccx sends to Claude (see `templates`).
    pub templates: crate::templates::TemplateConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ccx_key: CcxKey::default(),
            rot_zone_tokens: DEFAULT_ROT_ZONE,
            context_window: None,
            templates: crate::templates::TemplateConfig::default(),
        }
    }
}

impl Config {
    /// Reads the config file; returns the config and, if the file was bad, one line saying why.
    pub fn load() -> (Config, Option<String>) {
        let Some(path) = crate::paths::config_file() else {
            return (Config::default(), None);
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => match Config::parse(&text) {
                Ok(config) => (config, None),
                Err(e) => (
                    Config::default(),
                    Some(format!("{}: {e}; using defaults", path.display())),
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Config::default(), None),
            Err(e) => (
                Config::default(),
                Some(format!(
                    "cannot read {}: {e}; using defaults",
                    path.display()
                )),
            ),
        }
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let mut config = Config::default();
        if let Some(key) = file.ccx_key {
            config.ccx_key = CcxKey::parse(&key)?;
        }
        if let Some(n) = file.rot_zone_tokens {
            config.rot_zone_tokens = n;
        }
        config.context_window = file.context_window;
        if let Some(templates) = file.templates {
            config.templates = templates;
        }
        Ok(config)
    }

    /// The context window to measure against: configured, else 1M for a model marked `[1m]`
    /// or once a context beyond 200k has been seen, else 200k.
    pub fn window_for(&self, model: Option<&str>, largest_seen: u64) -> u64 {
        if let Some(n) = self.context_window {
            return n;
        }
        let one_million = model.is_some_and(|m| m.to_ascii_lowercase().contains("[1m]"));
        if one_million || largest_seen > 200_000 {
            1_000_000
        } else {
            200_000
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.rot_zone_tokens, DEFAULT_ROT_ZONE);
        assert_eq!(c.ccx_key, CcxKey::default());
        let c = Config::parse(
            "ccx_key = \"ctrl-g\"\nrot_zone_tokens = 250000\ncontext_window = 500000",
        )
        .unwrap();
        assert_eq!(c.ccx_key.byte, 7);
        assert_eq!(c.rot_zone_tokens, 250_000);
        assert_eq!(c.window_for(None, 0), 500_000);
    }

    #[test]
    fn bad_files_name_the_problem() {
        assert!(Config::parse("nope = 1").unwrap_err().contains("nope"));
        assert!(Config::parse("ccx_key = \"x\"").is_err());
        assert!(Config::parse("rot_zone_tokens = \"many\"").is_err());
    }

    #[test]
    fn template_overrides() {
        let c =
            Config::parse("[templates]\nsummary = \"since {since}\"\npull = \"#{job}\"").unwrap();
        assert_eq!(c.templates.summary.as_deref(), Some("since {since}"));
        assert_eq!(c.templates.brief, None);
        let t = crate::templates::Templates::from_config(&c);
        assert_eq!(t.summary_request("turn #2"), "since turn #2");
        assert!(Config::parse("[templates]\nsumary = \"x\"")
            .unwrap_err()
            .contains("sumary"));
        assert!(Config::parse("[templates]\nsummary = 3").is_err());
    }

    #[test]
    fn window_is_inferred() {
        let c = Config::default();
        assert_eq!(c.window_for(Some("claude-sonnet-4-5"), 10), 200_000);
        assert_eq!(c.window_for(Some("claude-sonnet-4-5[1m]"), 10), 1_000_000);
        assert_eq!(c.window_for(None, 350_000), 1_000_000);
    }
}
