//! How wide the output may be, and long messages wrapped to it at spaces with their indentation
//! kept. Output to a pipe or a file is not wrapped (a log keeps one message per line, for grep)
//! unless `COLUMNS` asks for a width, which is also how tests pin wrapped output.

use std::io::IsTerminal;

/// Below this many columns for the text itself, wrapping would make a message unreadable: lines
/// are then left whole for the terminal to fold.
const NARROWEST_TEXT: usize = 20;

/// `COLUMNS` when it is a number, else the width of stdout when it is a terminal, else none.
pub fn output_width() -> Option<usize> {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|value| value.trim().parse::<usize>().ok())
        .filter(|columns| *columns > 0);
    from_env.or_else(|| {
        let stdout = std::io::stdout();
        if !stdout.is_terminal() {
            return None;
        }
        terminal_size::terminal_size_of(&stdout).map(|(width, _)| usize::from(width.0))
    })
}

/// `text`'s first line after `first`, every other line (and every continuation) after `rest`; a
/// line's own leading spaces are kept. Wrapped as [`wrap_lines`] does.
pub fn wrap_hanging(text: &str, first: &str, rest: &str, width: Option<usize>) -> Vec<String> {
    let (head, tail) = text.split_once('\n').unwrap_or((text, ""));
    let body = head.trim_start();
    let initial = format!("{first}{}", &head[..head.len() - body.len()]);
    let mut out = wrap_one(body, &initial, rest, width);
    out.extend(wrap_lines(tail, rest, width));
    out
}

/// Each line of `text` prefixed with `indent` and, when `width` is known, wrapped at spaces so no
/// line is wider than it. A line's own leading spaces are kept on its continuation lines; a word
/// longer than the line (a URL, an id) is left whole rather than cut.
pub fn wrap_lines(text: &str, indent: &str, width: Option<usize>) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let body = line.trim_start();
        let prefix = format!("{indent}{}", &line[..line.len() - body.len()]);
        out.extend(wrap_one(body, &prefix, &prefix, width));
    }
    out
}

/// One line of text (no leading spaces) after `initial`, continued after `subsequent`.
fn wrap_one(body: &str, initial: &str, subsequent: &str, width: Option<usize>) -> Vec<String> {
    let widest_prefix = initial.chars().count().max(subsequent.chars().count());
    match width {
        Some(width) if width >= widest_prefix + NARROWEST_TEXT && !body.is_empty() => {
            let options = textwrap::Options::new(width)
                .initial_indent(initial)
                .subsequent_indent(subsequent)
                .break_words(false)
                // Ids and URLs have hyphens; `paper-` at a line's end reads as another word.
                .word_splitter(textwrap::WordSplitter::NoHyphenation);
            textwrap::wrap(body, options)
                .into_iter()
                .map(|piece| piece.into_owned())
                .collect()
        }
        Some(_) | None => vec![format!("{initial}{body}").trim_end().to_owned()],
    }
}

#[cfg(test)]
mod tests {
    use super::{wrap_hanging, wrap_lines};

    #[test]
    fn a_hanging_first_line_and_the_rest_under_it() {
        let text = "  failed   check (3 ms): assertion failed:\n  expected (equals): \"5\"";
        assert_eq!(
            wrap_hanging(text, "12:00:01  ", "           ", Some(36)),
            [
                "12:00:01    failed   check (3 ms):",
                "           assertion failed:",
                "             expected (equals): \"5\"",
            ]
        );
        assert_eq!(wrap_hanging("one", "> ", "  ", None), ["> one"]);
    }

    #[test]
    fn wraps_at_spaces_and_keeps_the_indentation() {
        let text = "the account is not the one the runbook expects: ask the owner\n  \
                    stderr: key rejected with status 401 by the broker";
        assert_eq!(
            wrap_lines(text, "    ", Some(40)),
            [
                "    the account is not the one the",
                "    runbook expects: ask the owner",
                "      stderr: key rejected with status",
                "      401 by the broker",
            ]
        );
    }

    #[test]
    fn a_long_word_is_never_cut() {
        let url = "https://paper-api.alpaca.markets/v2/account/configurations/long";
        let lines = wrap_lines(&format!("see {url} now"), "  ", Some(30));
        assert_eq!(lines, ["  see", &format!("  {url}"), "  now"]);
    }

    #[test]
    fn without_a_width_lines_are_only_indented() {
        assert_eq!(
            wrap_lines("one line\n\n  two", "> ", None),
            ["> one line", ">", ">   two"]
        );
    }

    #[test]
    fn too_narrow_a_width_leaves_lines_whole() {
        let text = "a message that would otherwise be cut into single words";
        assert_eq!(
            wrap_lines(text, "          ", Some(25)),
            [format!("          {text}")]
        );
    }
}
