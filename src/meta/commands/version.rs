//! `:version`: ccx's version and the version of the Claude Code this session runs, as
//! `ccx --version` prints them.

use super::{read_text, CommandSpec, MetaCommand, Parsed, Parser};
use crate::meta::args::{no_args, split_args, MetaError, Word};
use crate::meta::ops::{Outcome, SessionOps};

pub static SPEC: CommandSpec = CommandSpec {
    name: "version",
    aliases: &[],
    usage: ":version",
    summary: "ccx's version and Claude Code's",
    details: "Shows ccx's version and the version of the Claude Code this session runs, as \
              `ccx --version` prints them.",
    needs_session: false,
    flags: &[],
    parser: Parser::Words(parse),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version;

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    no_args(SPEC.name, &split_args(SPEC.name, words, &[])?)?;
    Ok(Box::new(Version))
}

impl MetaCommand for Version {
    fn spec(&self) -> &'static CommandSpec {
        &SPEC
    }

    fn run(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, |ctx| Ok(crate::versions::version_line(ctx.claude.clone())))
    }
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::FakeOps;
    use crate::meta::ops::Outcome;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn says_what_ccx_version_says() {
        let dir = tempfile::tempdir().unwrap();
        let claude = dir.path().join("claude");
        std::fs::write(&claude, "#!/bin/sh\necho '2.1.330 (Claude Code)'\n").unwrap();
        std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut ops = FakeOps::new();
        ops.claude = Some(claude.clone());
        let want = format!("ccx {} (Claude Code 2.1.330)", env!("CARGO_PKG_VERSION"));
        // A script just written may be busy for a moment while another test's child forks.
        let mut shown = ops.run(":version");
        for _ in 0..50 {
            if shown == Outcome::Text(want.clone()) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
            shown = ops.run(":version");
        }
        assert_eq!(shown, Outcome::Text(want));
        assert_eq!(
            crate::versions::version_line(Some(claude)),
            format!("ccx {} (Claude Code 2.1.330)", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn says_when_claude_is_missing() {
        let mut ops = FakeOps::new();
        ops.claude = Some("/nonexistent/claude".into());
        assert_eq!(
            ops.run(":version"),
            Outcome::Text(format!(
                "ccx {} (Claude Code missing: no executable there: /nonexistent/claude)",
                env!("CARGO_PKG_VERSION")
            ))
        );
        assert_eq!(
            ops.run(":version now"),
            Outcome::Error(":version takes no arguments, got 'now'".into())
        );
    }
}
