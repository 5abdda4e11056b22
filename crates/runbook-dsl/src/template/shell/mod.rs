//! Where each `{{reference}}` sits in a shell command, which decides how the engine may expand it.
//!
//! A small recursive-descent scanner over the POSIX shell grammar's quoting layers: single and
//! double quotes, backslashes, `$( )`, backticks, `${ }`, `$(( ))`, comments and here-documents.
//! Each nesting level gets its own context: `"$(printf %s {{x}})"` is unquoted inside the command
//! substitution even though the substitution itself is double-quoted. It also keeps the words of
//! each simple command, so it can tell when a reference is an argument that a command parses as
//! shell code again (`eval`, `sh -c`, `ssh host ...`).
//!
//! Why not a full parser such as yash-syntax: it keeps command substitutions as unparsed text (so
//! each would be re-parsed with offsets mapped back), it rejects incomplete commands that `sh`
//! would report better itself, and walking its full AST exhaustively is much more code than the
//! quoting layers this analysis needs. Only the quoting layers decide how a value expands.

pub use commands::{CommandWord, command_words};

use super::{Part, Template};
use reparse::{reparsing_command, stdin_shell};

/// Where a reference sits in a shell command, which decides how it may be expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellContext {
    /// Outside any quotes (at any nesting level): expanded as `"${RUNBOOK_REF_n}"`.
    Unquoted,
    /// Inside double quotes (or a `${...}` word inside them): expanded as `${RUNBOOK_REF_n}`.
    DoubleQuoted,
    /// Nothing expands inside single quotes: a lint error.
    SingleQuoted,
    /// The body of a here-document with an unquoted delimiter: expanded as `${RUNBOOK_REF_n}` (quotes
    /// there are literal text).
    HereDoc,
    /// The body of a here-document with a quoted delimiter (`<<'EOF'`): nothing expands, a lint
    /// error.
    QuotedHereDoc,
    /// Inside `$(( ))`: expanded as `${RUNBOOK_REF_n}` (quotes are not allowed there); the value is
    /// evaluated as an arithmetic expression.
    Arithmetic,
    /// Right after a backslash (`\{{x}}`): the backslash would escape the expansion's first
    /// character, so it would not expand. A lint error.
    Escaped,
}

/// One reference in a shell command: its context, and the command that would parse its value as
/// shell code again, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellUse {
    pub context: ShellContext,
    /// `eval`, `sh -c`, `ssh`, ...: the value becomes shell syntax again.
    pub reparsed_by: Option<String>,
}

/// The shell context of each reference in `template`, in order.
pub fn shell_contexts(template: &Template) -> Vec<ShellContext> {
    shell_uses(template)
        .into_iter()
        .map(|found| found.context)
        .collect()
}

/// Every reference in `template`, in order, with where it sits.
pub fn shell_uses(template: &Template) -> Vec<ShellUse> {
    scan(template).0
}

/// Reads `template` as a shell command once: where each of its values sits (a call's result is
/// inserted exactly like a reference's value), and the simple commands it holds.
fn scan(template: &Template) -> (Vec<ShellUse>, Vec<commands::Words>) {
    let mut tokens = Vec::new();
    let mut count = 0;
    for part in &template.parts {
        match part {
            Part::Literal(text) => tokens.extend(text.chars().map(Tok::Char)),
            Part::Ref(_) | Part::Call(_) => {
                tokens.push(Tok::Ref(count));
                count += 1;
            }
        }
    }
    let mut found = vec![
        ShellUse {
            context: ShellContext::Unquoted,
            reparsed_by: None,
        };
        count
    ];
    let mut scanner = Scanner::new(tokens, &mut found);
    scanner.command(End::Eof);
    let commands = std::mem::take(&mut scanner.commands);
    (found, commands)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Char(char),
    Ref(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Eof,
    /// The `)` closing a `$(`.
    Paren,
}

struct HereDoc {
    delimiter: Vec<Tok>,
    strip_tabs: bool,
    quoted: bool,
}

/// The words of the simple command being read at one nesting level.
#[derive(Default)]
struct Frame {
    words: Vec<String>,
    /// The references in each of `words`, in order.
    refs_of_words: Vec<Vec<usize>>,
    /// Whether each of `words` holds an expansion (`$x`, `$(...)`, backticks): made at run time.
    dynamic_words: Vec<bool>,
    word_dynamic: bool,
    word: String,
    in_word: bool,
    word_refs: Vec<usize>,
    /// References in the words of the current simple command.
    command_refs: Vec<usize>,
    /// References of the command before a `|`: code if this command is a shell reading stdin.
    piped_refs: Vec<usize>,
    case_depth: usize,
    paren_depth: usize,
}

struct Scanner<'a> {
    toks: Vec<Tok>,
    pos: usize,
    found: &'a mut [ShellUse],
    frames: Vec<Frame>,
    pending: Vec<HereDoc>,
    /// Every simple command read, as its words (see [`commands`]).
    commands: Vec<commands::Words>,
}

impl<'a> Scanner<'a> {
    fn new(toks: Vec<Tok>, found: &'a mut [ShellUse]) -> Self {
        Scanner {
            toks,
            pos: 0,
            found,
            frames: Vec::new(),
            pending: Vec::new(),
            commands: Vec::new(),
        }
    }

    fn peek(&self) -> Option<Tok> {
        self.toks.get(self.pos).copied()
    }

    fn peek_char(&self, ahead: usize) -> Option<char> {
        match self.toks.get(self.pos + ahead) {
            Some(Tok::Char(c)) => Some(*c),
            Some(Tok::Ref(_)) | None => None,
        }
    }

    fn bump(&mut self) -> Option<Tok> {
        let tok = self.peek();
        self.pos += 1;
        tok
    }

    /// Records a reference; `in_word` when it is part of a word of the current simple command.
    fn record(&mut self, index: usize, context: ShellContext, in_word: bool) {
        if let Some(slot) = self.found.get_mut(index) {
            slot.context = context;
        }
        if in_word && let Some(frame) = self.frames.last_mut() {
            frame.in_word = true;
            frame.word_refs.push(index);
            frame.command_refs.push(index);
        }
    }

    fn word_text(&mut self, text: &str) {
        if let Some(frame) = self.frames.last_mut() {
            frame.in_word = true;
            frame.word.push_str(text);
        }
    }

    /// The word being read holds an expansion: its text is known only at run time.
    fn word_is_dynamic(&mut self) {
        if let Some(frame) = self.frames.last_mut() {
            frame.word_dynamic = true;
        }
    }

    fn end_word(&mut self) {
        let Some(frame) = self.frames.last_mut() else {
            return;
        };
        if !frame.in_word {
            return;
        }
        let word = std::mem::take(&mut frame.word);
        frame.in_word = false;
        if frame.words.is_empty() {
            match word.as_str() {
                "case" => frame.case_depth += 1,
                "esac" => frame.case_depth = frame.case_depth.saturating_sub(1),
                _ => {}
            }
        }
        frame.words.push(word);
        let at = frame.words.len() - 1;
        let refs = std::mem::take(&mut frame.word_refs);
        frame.refs_of_words.push(refs.clone());
        frame
            .dynamic_words
            .push(std::mem::take(&mut frame.word_dynamic));
        let reparsed = reparsing_command(&frame.words, at);
        if let Some(command) = reparsed {
            for index in refs {
                if let Some(slot) = self.found.get_mut(index) {
                    slot.reparsed_by = Some(command.clone());
                }
            }
        }
    }

    /// Ends a simple command; returns the references in its words.
    fn end_command(&mut self) -> Vec<usize> {
        self.end_word();
        let Some(frame) = self.frames.last_mut() else {
            return Vec::new();
        };
        let piped = std::mem::take(&mut frame.piped_refs);
        if !frame.words.is_empty()
            && let Some(shell) = stdin_shell(&frame.words)
        {
            for index in piped {
                if let Some(slot) = self.found.get_mut(index) {
                    slot.reparsed_by = Some(format!("| {shell}"));
                }
            }
        }
        let words = std::mem::take(&mut frame.words);
        let refs = std::mem::take(&mut frame.refs_of_words);
        let dynamic = std::mem::take(&mut frame.dynamic_words);
        let command_refs = std::mem::take(&mut frame.command_refs);
        if !words.is_empty() {
            self.commands.push(commands::Words {
                words,
                refs,
                dynamic,
            });
        }
        command_refs
    }

    /// A list of commands, up to the end of input or the `)` closing a `$(`.
    fn command(&mut self, end: End) {
        self.frames.push(Frame::default());
        while let Some(tok) = self.bump() {
            let c = match tok {
                Tok::Ref(index) => {
                    self.record(index, ShellContext::Unquoted, true);
                    continue;
                }
                Tok::Char(c) => c,
            };
            match c {
                '\\' => match self.bump() {
                    Some(Tok::Char('\n')) | None => {}
                    Some(Tok::Char(next)) => self.word_text(&next.to_string()),
                    Some(Tok::Ref(index)) => self.record(index, ShellContext::Escaped, true),
                },
                '\'' => {
                    let text = self.single_quoted();
                    self.word_text(&text);
                }
                '"' => {
                    let text = self.double_quoted();
                    self.word_text(&text);
                }
                '`' => {
                    self.backtick(false);
                    self.word_text("");
                    self.word_is_dynamic();
                }
                '$' => {
                    self.dollar(false);
                    self.word_text("");
                    self.word_is_dynamic();
                }
                '#' if !self.frames.last().is_some_and(|frame| frame.in_word) => {
                    // To the end of the line; a reference in a comment does nothing.
                    while let Some(tok) = self.peek() {
                        match tok {
                            Tok::Char('\n') => break,
                            Tok::Char(_) | Tok::Ref(_) => self.pos += 1,
                        }
                    }
                }
                ' ' | '\t' => self.end_word(),
                '\n' => {
                    let _ = self.end_command();
                    self.heredoc_bodies();
                }
                '|' => {
                    // `||` runs the next command on failure; a single `|` feeds it our output.
                    let or = matches!(self.peek(), Some(Tok::Char('|')));
                    if or {
                        self.pos += 1;
                    }
                    let refs = self.end_command();
                    if !or && let Some(frame) = self.frames.last_mut() {
                        frame.piped_refs = refs;
                    }
                }
                ';' | '&' => {
                    let _ = self.end_command();
                }
                '(' => {
                    let _ = self.end_command();
                    if let Some(frame) = self.frames.last_mut() {
                        frame.paren_depth += 1;
                    }
                }
                ')' => {
                    let _ = self.end_command();
                    let Some(frame) = self.frames.last_mut() else {
                        break;
                    };
                    if frame.paren_depth > 0 {
                        frame.paren_depth -= 1;
                    } else if frame.case_depth == 0 && end == End::Paren {
                        break;
                    }
                }
                '<' => {
                    self.end_word();
                    match (self.peek_char(0), self.peek_char(1)) {
                        // `<<<`: a here-string (bash), an ordinary word follows. Kept as a
                        // word: `bash <<< WORD` runs WORD as code.
                        (Some('<'), Some('<')) => {
                            self.pos += 2;
                            if let Some(frame) = self.frames.last_mut() {
                                frame.words.push("<<<".to_owned());
                                frame.refs_of_words.push(Vec::new());
                                frame.dynamic_words.push(false);
                            }
                        }
                        (Some('<'), _) => {
                            self.pos += 1;
                            self.heredoc_operator();
                        }
                        _ => {}
                    }
                }
                '>' => self.end_word(),
                other => self.word_text(&other.to_string()),
            }
        }
        let _ = self.end_command();
        self.frames.pop();
    }

    /// After `'`: up to the closing `'`. Returns the literal text.
    fn single_quoted(&mut self) -> String {
        let mut text = String::new();
        while let Some(tok) = self.bump() {
            match tok {
                Tok::Char('\'') => break,
                Tok::Char(c) => text.push(c),
                Tok::Ref(index) => self.record(index, ShellContext::SingleQuoted, true),
            }
        }
        text
    }

    /// After `"`: up to the closing `"`. Returns the literal text (without expansions).
    fn double_quoted(&mut self) -> String {
        let mut text = String::new();
        while let Some(tok) = self.bump() {
            match tok {
                Tok::Char('"') => break,
                Tok::Char('\\') => match self.bump() {
                    Some(Tok::Char(c)) => text.push(c),
                    Some(Tok::Ref(index)) => self.record(index, ShellContext::Escaped, true),
                    None => {}
                },
                Tok::Char('$') => {
                    self.dollar(true);
                    self.word_is_dynamic();
                }
                Tok::Char('`') => {
                    self.backtick(true);
                    self.word_is_dynamic();
                }
                Tok::Char(c) => text.push(c),
                Tok::Ref(index) => self.record(index, ShellContext::DoubleQuoted, true),
            }
        }
        text
    }

    /// After `$`: a command substitution, arithmetic, a braced parameter, or nothing special.
    fn dollar(&mut self, quoted: bool) {
        match (self.peek_char(0), self.peek_char(1)) {
            (Some('('), Some('(')) => {
                self.pos += 2;
                self.arithmetic();
            }
            (Some('('), _) => {
                self.pos += 1;
                self.command(End::Paren);
            }
            (Some('{'), _) => {
                self.pos += 1;
                self.braced(quoted);
            }
            _ => {}
        }
    }

    /// After `${`: up to the closing `}`; a word inside keeps the surrounding quoting.
    fn braced(&mut self, quoted: bool) {
        let outer = if quoted {
            ShellContext::DoubleQuoted
        } else {
            ShellContext::Unquoted
        };
        while let Some(tok) = self.bump() {
            match tok {
                Tok::Char('}') => break,
                Tok::Char('\\') => {
                    if let Some(Tok::Ref(index)) = self.bump() {
                        self.record(index, ShellContext::Escaped, true);
                    }
                }
                Tok::Char('\'') if !quoted => {
                    self.single_quoted();
                }
                Tok::Char('"') => {
                    self.double_quoted();
                }
                Tok::Char('$') => self.dollar(quoted),
                Tok::Char('`') => self.backtick(quoted),
                Tok::Char(_) => {}
                Tok::Ref(index) => self.record(index, outer, true),
            }
        }
    }

    /// After `$((`: up to the matching `))`.
    fn arithmetic(&mut self) {
        let mut depth = 0usize;
        while let Some(tok) = self.bump() {
            match tok {
                Tok::Char('(') => depth += 1,
                Tok::Char(')') if depth > 0 => depth -= 1,
                Tok::Char(')') => {
                    if self.peek_char(0) == Some(')') {
                        self.pos += 1;
                    }
                    break;
                }
                Tok::Char('$') => self.dollar(true),
                Tok::Char('`') => self.backtick(true),
                Tok::Char(_) => {}
                Tok::Ref(index) => self.record(index, ShellContext::Arithmetic, true),
            }
        }
    }

    /// After `` ` ``: the text up to the closing backtick, with the backslashes the shell removes
    /// removed, is a command of its own.
    fn backtick(&mut self, quoted: bool) {
        let mut inner = Vec::new();
        while let Some(tok) = self.bump() {
            match tok {
                Tok::Char('`') => break,
                Tok::Char('\\') => match self.peek() {
                    Some(Tok::Char(c)) if matches!(c, '$' | '`' | '\\') || (quoted && c == '"') => {
                        inner.push(Tok::Char(c));
                        self.pos += 1;
                    }
                    Some(Tok::Char(_)) | Some(Tok::Ref(_)) | None => inner.push(Tok::Char('\\')),
                },
                Tok::Char(_) | Tok::Ref(_) => inner.push(tok),
            }
        }
        let mut scanner = Scanner::new(inner, self.found);
        scanner.command(End::Eof);
        let inner_commands = scanner.commands;
        self.commands.extend(inner_commands);
    }

    /// After `<<`: `-`, blanks, then the delimiter word; the body starts on the next line.
    fn heredoc_operator(&mut self) {
        let strip_tabs = self.peek_char(0) == Some('-');
        if strip_tabs {
            self.pos += 1;
        }
        while matches!(self.peek_char(0), Some(' ' | '\t')) {
            self.pos += 1;
        }
        let mut delimiter = Vec::new();
        let mut quoted = false;
        let mut quote: Option<char> = None;
        while let Some(tok) = self.peek() {
            match (tok, quote) {
                (Tok::Char(c), Some(open)) if c == open => quote = None,
                (Tok::Char(c), None) if matches!(c, '\'' | '"') => {
                    quoted = true;
                    quote = Some(c);
                }
                (Tok::Char('\\'), None) => {
                    quoted = true;
                    self.pos += 1;
                    if let Some(next) = self.peek() {
                        delimiter.push(next);
                    }
                }
                (Tok::Char(c), None)
                    if c.is_whitespace()
                        || matches!(c, ';' | '&' | '|' | '<' | '>' | '(' | ')') =>
                {
                    break;
                }
                (Tok::Char(_), _) => delimiter.push(tok),
                (Tok::Ref(index), _) => {
                    // A value as a delimiter: the body could never be found. Treat as quoted.
                    self.record(index, ShellContext::QuotedHereDoc, false);
                    quoted = true;
                    delimiter.push(tok);
                }
            }
            self.pos += 1;
        }
        self.pending.push(HereDoc {
            delimiter,
            strip_tabs,
            quoted,
        });
    }

    /// At the start of the line after a `<<` operator: each pending body, in order.
    fn heredoc_bodies(&mut self) {
        for doc in std::mem::take(&mut self.pending) {
            self.heredoc_body(&doc);
        }
    }

    fn heredoc_body(&mut self, doc: &HereDoc) {
        let context = if doc.quoted {
            ShellContext::QuotedHereDoc
        } else {
            ShellContext::HereDoc
        };
        while self.pos < self.toks.len() {
            // At a line start: is this the delimiter line?
            let line_end = self.toks[self.pos..]
                .iter()
                .position(|tok| *tok == Tok::Char('\n'))
                .map_or(self.toks.len(), |at| self.pos + at);
            let mut start = self.pos;
            if doc.strip_tabs {
                while start < line_end && self.toks[start] == Tok::Char('\t') {
                    start += 1;
                }
            }
            if self.toks[start..line_end] == doc.delimiter[..] {
                self.pos = line_end + 1;
                return;
            }
            // The line's content.
            while self.pos < line_end.min(self.toks.len()) {
                let Some(tok) = self.bump() else { break };
                match tok {
                    Tok::Ref(index) => self.record(index, context, false),
                    Tok::Char(_) if doc.quoted => {}
                    Tok::Char('\\') => {
                        if let Some(Tok::Ref(index)) = self.bump() {
                            self.record(index, ShellContext::Escaped, false);
                        }
                    }
                    Tok::Char('$') => {
                        self.frames.push(Frame::default());
                        self.dollar(true);
                        self.frames.pop();
                    }
                    Tok::Char('`') => self.backtick(true),
                    Tok::Char(_) => {}
                }
            }
            // A substitution may have run past the line end; continue from where it stopped.
            if self.pos == line_end {
                self.pos += 1;
            }
        }
    }
}

mod commands;
mod reparse;
#[cfg(test)]
mod tests;
