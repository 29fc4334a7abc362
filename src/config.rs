//! `config.toml` (`$XDG_CONFIG_HOME/ccx/config.toml`): optional, every key has a default.
//! A bad key is named in one line and its default is used (the other keys still count); a file
//! that is not TOML at all is named with the line at fault, and every default is used. The
//! session shows that line in Claude's footer, and `ccx doctor` shows it too.

use crate::keys::CcxKey;

/// Where context rot is noticeable by default (from roughly 300–400k tokens).
pub const DEFAULT_ROT_ZONE: u64 = 300_000;

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
    /// Archive every project's Claude Code sessions in the background at each start
    /// (`crate::archive`); `auto_archive = false` turns it off.
    pub auto_archive: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ccx_key: CcxKey::default(),
            rot_zone_tokens: DEFAULT_ROT_ZONE,
            context_window: None,
            templates: crate::templates::TemplateConfig::default(),
            auto_archive: true,
        }
    }
}

impl Config {
    /// Reads the config file; returns the config and, if the file was bad, one line saying
    /// which keys are wrong and that their defaults are used.
    pub fn load() -> (Config, Option<String>) {
        let Some(path) = crate::paths::config_file() else {
            return (Config::default(), None);
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let (config, problems) = Config::parse_keeping_good(&text);
                let line = (!problems.is_empty())
                    .then(|| format!("{}: {}", path.display(), problems.join("; ")));
                (config, line)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Config::default(), None),
            Err(e) => (
                Config::default(),
                Some(format!(
                    "cannot read {}: {e}; using the defaults",
                    path.display()
                )),
            ),
        }
    }

    /// The config `text` describes, or every problem in it (one phrase each).
    pub fn parse(text: &str) -> Result<Config, String> {
        let (config, problems) = Config::parse_keeping_good(text);
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems.join("; "))
        }
    }

    /// The config with every good key of `text` applied and every bad one left at its
    /// default, and a phrase for each bad one naming it.
    fn parse_keeping_good(text: &str) -> (Config, Vec<String>) {
        let mut config = Config::default();
        let table: toml::Table = match text.parse() {
            Ok(table) => table,
            Err(e) => {
                let line = e
                    .span()
                    .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
                let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
                return (
                    config,
                    vec![format!(
                        "not valid TOML{at} ({}); using the defaults",
                        e.message().trim()
                    )],
                );
            }
        };
        let mut problems = Vec::new();
        for (key, value) in table {
            let applied = match key.as_str() {
                "ccx_key" => value
                    .as_str()
                    .ok_or_else(|| "expected a key name in quotes, like \"ctrl-g\"".to_string())
                    .and_then(CcxKey::parse)
                    .map(|k| config.ccx_key = k),
                "rot_zone_tokens" => tokens(&value).map(|n| config.rot_zone_tokens = n),
                "context_window" => tokens(&value).map(|n| config.context_window = Some(n)),
                "auto_archive" => value
                    .as_bool()
                    .ok_or_else(|| format!("expected true or false, got {value}"))
                    .map(|on| config.auto_archive = on),
                "templates" => value
                    .try_into::<crate::templates::TemplateConfig>()
                    .map(|t| config.templates = t)
                    .map_err(|e| e.message().trim().to_string()),
                _ => Err(
                    "not a ccx setting (they are ccx_key, rot_zone_tokens, context_window, \
                     auto_archive and [templates])"
                        .to_string(),
                ),
            };
            if let Err(why) = applied {
                problems.push(format!("key '{key}' is wrong ({why}); using its default"));
            }
        }
        (config, problems)
    }

    /// The context window `:context` measures against, decided one way for the whole session
    /// (every branch of it): the window Claude Code reports for the model the person runs (in
    /// its status line payload), else a model marked `[1m]`, else `context_window` from
    /// config.toml, else the model's own: 200k for the models whose window is that without
    /// `[1m]`, 1M for the others and while the model is not known yet.
    pub fn context_window(&self, reported: Option<u64>, model: Option<&str>) -> u64 {
        if let Some(n) = reported.filter(|n| *n > 0) {
            return n;
        }
        let model = model.map(str::to_ascii_lowercase);
        if model.as_deref().is_some_and(|m| m.contains("[1m]")) {
            return ONE_MILLION;
        }
        if let Some(n) = self.context_window {
            return n;
        }
        match model {
            Some(m) if SMALL_WINDOW_MODELS.iter().any(|p| m.starts_with(p)) => SMALL_WINDOW,
            _ => ONE_MILLION,
        }
    }
}

const ONE_MILLION: u64 = 1_000_000;
const SMALL_WINDOW: u64 = 200_000;
/// Model ids (and their dated forms) whose context window is 200k unless run with `[1m]`, as
/// Claude Code 2.1.330's model table has them; later models have 1M.
const SMALL_WINDOW_MODELS: &[&str] = &[
    "claude-3",
    "claude-haiku-3",
    "claude-haiku-4-5",
    "claude-opus-4-0",
    "claude-opus-4-1",
    "claude-opus-4-2025",
    "claude-opus-4-5",
    "claude-opus-4-6",
    "claude-sonnet-4-0",
    "claude-sonnet-4-2025",
    "claude-sonnet-4-5",
    "claude-sonnet-4-6",
];

/// A token count: a whole number, not negative.
fn tokens(value: &toml::Value) -> Result<u64, String> {
    value
        .as_integer()
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| format!("expected a whole number of tokens, got {value}"))
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
        assert_eq!(c.context_window(None, None), 500_000);
        assert!(c.auto_archive, "archiving is on by default");
        assert!(!Config::parse("auto_archive = false").unwrap().auto_archive);
        assert!(Config::parse("auto_archive = \"no\"")
            .unwrap_err()
            .contains("expected true or false"));
    }

    /// Asserts that `problems` is one line, starting with `start` and ending with `end`.
    fn assert_one_problem(problems: &[String], start: &str, end: &str) {
        assert_eq!(problems.len(), 1, "{problems:?}");
        let problem = &problems[0];
        assert!(
            problem.starts_with(start) && problem.ends_with(end) && !problem.contains('\n'),
            "{problem}"
        );
    }

    #[test]
    fn a_bad_key_is_named_and_the_good_ones_still_count() {
        let (c, problems) =
            Config::parse_keeping_good("rot_zone_tokens = \"many\"\ncontext_window = 500000");
        assert_eq!(c.rot_zone_tokens, DEFAULT_ROT_ZONE);
        assert_eq!(c.context_window, Some(500_000));
        assert_one_problem(
            &problems,
            "key 'rot_zone_tokens' is wrong (expected a whole number",
            "using its default",
        );
        let (c, problems) = Config::parse_keeping_good("\u{0}garbage ]] = = \nccx_key = 1");
        assert_eq!(c.rot_zone_tokens, DEFAULT_ROT_ZONE);
        assert_one_problem(
            &problems,
            "not valid TOML at line 1 (",
            "using the defaults",
        );
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
        let t = crate::templates::Templates::new(c.templates.clone());
        assert_eq!(t.summary_request("turn #2"), "since turn #2");
        assert!(Config::parse("[templates]\nsumary = \"x\"")
            .unwrap_err()
            .contains("sumary"));
        assert!(Config::parse("[templates]\nsummary = 3").is_err());
    }

    #[test]
    fn one_window_per_session_from_claudes_report_then_config_then_model() {
        let c = Config::default();
        // What Claude Code reports for the model in use comes first.
        assert_eq!(
            c.context_window(Some(1_000_000), Some("claude-sonnet-4-5")),
            1_000_000
        );
        assert_eq!(
            c.context_window(Some(200_000), Some("claude-opus-5-5")),
            200_000
        );
        // Else the model's name and window.
        assert_eq!(
            c.context_window(None, Some("claude-sonnet-4-5[1m]")),
            1_000_000
        );
        assert_eq!(
            c.context_window(None, Some("claude-sonnet-4-5-20250929")),
            200_000
        );
        assert_eq!(c.context_window(None, Some("claude-opus-5-5")), 1_000_000);
        assert_eq!(c.context_window(None, None), 1_000_000);
        // The configured window stands in for an unreported one, never for `[1m]`.
        let set = Config::parse("context_window = 500000").unwrap();
        assert_eq!(set.context_window(None, Some("claude-sonnet-4-5")), 500_000);
        assert_eq!(set.context_window(None, None), 500_000);
        assert_eq!(set.context_window(None, Some("x[1m]")), 1_000_000);
        assert_eq!(set.context_window(Some(200_000), None), 200_000);
        // The size of the conversation no longer moves the window: each branch of a session
        // measures against the same one.
        assert_eq!(c.context_window(Some(0), Some("claude-opus-4-6")), 200_000);
    }
}
