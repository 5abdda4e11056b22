//! What every command's output obeys, chosen once from the global flags: when to colour
//! (`--color`), and how much to say (`-q`, `-v`).
//!
//! Process-wide, set in `main` before any command runs and never changed: every renderer asks
//! "colour on this stream?" or "quiet?", and threading one immutable choice through every command,
//! observer and renderer would add parameters, not safety.

use std::io::IsTerminal;
use std::sync::OnceLock;

use crate::args::{ColorWhen, GlobalArgs};

/// How much a command says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// `-q`: only errors and the final result line.
    Quiet,
    /// The default.
    Normal,
    /// `-v` (1), `-vv` (2), `-vvv` (3 or more): traces at info, debug, trace.
    Verbose(u8),
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    color: ColorWhen,
    verbosity: Verbosity,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Records the global flags; the first call wins.
pub fn init(global: &GlobalArgs) {
    let verbosity = if global.quiet {
        Verbosity::Quiet
    } else if global.verbose > 0 {
        Verbosity::Verbose(global.verbose)
    } else {
        Verbosity::Normal
    };
    let _ = SETTINGS.set(Settings {
        color: global.color,
        verbosity,
    });
}

fn settings() -> Settings {
    SETTINGS.get().copied().unwrap_or(Settings {
        color: ColorWhen::Auto,
        verbosity: Verbosity::Normal,
    })
}

pub fn verbosity() -> Verbosity {
    settings().verbosity
}

/// `-q` was given.
pub fn quiet() -> bool {
    verbosity() == Verbosity::Quiet
}

/// Which stream a text goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Whether to colour text written to `stream`: `--color always` and `never` decide alone (a flag
/// on the command line overrides NO_COLOR, as https://no-color.org asks); `auto` colours a
/// terminal, unless NO_COLOR is set to something.
pub fn color(stream: Stream) -> bool {
    color_for(settings().color, stream, std::env::var_os("NO_COLOR"))
}

fn color_for(when: ColorWhen, stream: Stream, no_color: Option<std::ffi::OsString>) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            let terminal = match stream {
                Stream::Stdout => std::io::stdout().is_terminal(),
                Stream::Stderr => std::io::stderr().is_terminal(),
            };
            terminal && no_color.is_none_or(|value| value.is_empty())
        }
    }
}

/// `--color` as clap's own help and usage errors need it, before the arguments are parsed: the
/// last `--color WHEN` or `--color=WHEN` before `--` (an invalid one is left to clap to report).
pub fn clap_color(args: impl IntoIterator<Item = std::ffi::OsString>) -> clap::ColorChoice {
    let mut choice = clap::ColorChoice::Auto;
    let mut args = args.into_iter().skip(1);
    while let Some(arg) = args.next() {
        let Some(arg) = arg.to_str() else {
            continue;
        };
        let value = match arg {
            "--" => break,
            "--color" => args.next().and_then(|value| value.into_string().ok()),
            other => other.strip_prefix("--color=").map(str::to_owned),
        };
        choice = match value.as_deref() {
            Some("always") => clap::ColorChoice::Always,
            Some("never") => clap::ColorChoice::Never,
            Some("auto") => clap::ColorChoice::Auto,
            Some(_) | None => choice,
        };
    }
    choice
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_sees_the_color_flag_before_parsing() {
        let choice = |args: &[&str]| clap_color(args.iter().map(std::ffi::OsString::from));
        assert_eq!(choice(&["runbook", "--help"]), clap::ColorChoice::Auto);
        assert_eq!(
            choice(&["runbook", "lint", "--color", "never", "--help"]),
            clap::ColorChoice::Never
        );
        assert_eq!(
            choice(&["runbook", "--color=always", "x", "--color=bogus"]),
            clap::ColorChoice::Always
        );
        assert_eq!(
            choice(&["runbook", "run", "--", "--color=always"]),
            clap::ColorChoice::Auto
        );
    }

    #[test]
    fn always_and_never_override_no_color_and_the_terminal_test() {
        let set = Some(std::ffi::OsString::from("1"));
        assert!(color_for(ColorWhen::Always, Stream::Stdout, set.clone()));
        assert!(!color_for(ColorWhen::Never, Stream::Stderr, None));
        // Whether the test's stdout is a terminal depends on who runs it; NO_COLOR does not.
        assert!(!color_for(ColorWhen::Auto, Stream::Stdout, set));
    }
}
