//! `:version`: ccx's version and the version of the Claude Code this session runs, as
//! `ccx --version` prints them.

meta_command! {
    Version; read: |ctx| Ok(crate::versions::version_line(ctx.claude.clone())),
    usage: ":version", summary: "ccx's version and Claude Code's",
    details: "Shows ccx's version and the version of the Claude Code this session runs, as \
              `ccx --version` prints them.",
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::FakeOps;
    use crate::meta::ops::Outcome;

    #[test]
    fn says_what_ccx_version_says() {
        let dir = tempfile::tempdir().unwrap();
        let claude =
            crate::test_support::script(dir.path(), "claude", "echo '2.1.330 (Claude Code)'");
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
            ops.error(":version now"),
            ":version takes no arguments, got 'now'"
        );
    }
}
