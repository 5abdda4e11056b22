//! Colour: as `--color` says (see [`crate::output::color`]); by default only when the stream is a
//! terminal and NO_COLOR is unset (https://no-color.org).

use crate::output::{Stream, color};

/// Whether to colour output written to stdout (`stderr: false`) or stderr.
pub fn use_color(stderr: bool) -> bool {
    color(if stderr {
        Stream::Stderr
    } else {
        Stream::Stdout
    })
}

/// Minimal ANSI styling; a no-op when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    pub fn green(self, text: &str) -> String {
        self.paint("32", text)
    }
    pub fn red(self, text: &str) -> String {
        self.paint("31", text)
    }
    pub fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
}
