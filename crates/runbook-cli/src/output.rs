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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_and_never_override_no_color_and_the_terminal_test() {
        let set = Some(std::ffi::OsString::from("1"));
        assert!(color_for(ColorWhen::Always, Stream::Stdout, set.clone()));
        assert!(!color_for(ColorWhen::Never, Stream::Stderr, None));
        // Whether the test's stdout is a terminal depends on who runs it; NO_COLOR does not.
        assert!(!color_for(ColorWhen::Auto, Stream::Stdout, set));
    }
}
