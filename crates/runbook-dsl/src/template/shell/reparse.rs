//! Which commands parse an argument as shell code again (`eval`, `sh -c`, `ssh host ...`, `kubectl
//! exec POD -- sh -c`, `| sh`): the scanner asks these about the words of each simple command it
//! has read, so a reference there can be reported as re-parsed.

/// The index of the word that names the command: after assignments, keywords and prefix
/// commands (`sudo`, `env`, `exec`, `nohup`, `timeout`, ...), with their options.
fn command_start(words: &[String]) -> Option<usize> {
    let mut i = 0;
    loop {
        let word = words.get(i)?;
        let name = basename(word);
        let is_assignment = word
            .split_once('=')
            .is_some_and(|(name, _)| !name.is_empty() && name.chars().all(is_name_char));
        if is_assignment
            || matches!(
                name,
                "!" | "{"
                    | "if"
                    | "then"
                    | "else"
                    | "elif"
                    | "do"
                    | "while"
                    | "until"
                    | "exec"
                    | "command"
                    | "builtin"
                    | "nohup"
                    | "time"
                    | "nice"
                    | "setsid"
                    | "xargs"
            )
        {
            i += 1;
            continue;
        }
        if matches!(name, "sudo" | "doas" | "env" | "timeout") {
            i += 1;
            while let Some(option) = words.get(i) {
                if option.starts_with('-') {
                    let takes_value = name == "sudo"
                        && matches!(
                            option.as_str(),
                            "-u" | "-g" | "-C" | "-D" | "-h" | "-p" | "-r" | "-t" | "-U"
                        );
                    i += if takes_value { 2 } else { 1 };
                } else if name == "env" && option.contains('=') {
                    i += 1;
                } else {
                    break;
                }
            }
            if name == "timeout" {
                i += 1;
            }
            continue;
        }
        return Some(i);
    }
}

fn is_shell(name: &str) -> bool {
    matches!(
        name,
        "sh" | "bash" | "dash" | "zsh" | "ksh" | "ash" | "mksh" | "busybox"
    )
}

/// The command that parses the word at `at` as shell code, if any: `eval ARGS`, `sh -c WORD`,
/// `bash <<< WORD`, `su -c WORD`, `ssh [OPTIONS] HOST COMMAND...`, and a command run inside a
/// container or pod (`kubectl exec POD -- sh -c WORD`, `docker exec C bash -lc WORD`), also
/// behind `sudo`, `env`, `exec`, `nohup`, `timeout` and similar prefixes.
pub(super) fn reparsing_command(words: &[String], at: usize) -> Option<String> {
    let i = command_start(words)?;
    if at <= i {
        return None;
    }
    let name = basename(words.get(i)?);
    match name {
        "eval" => Some("eval".into()),
        _ if is_shell(name) || name == "su" => {
            // The first word after an option containing `c` (`-c`, `-lc`, `--command` for su).
            let mut saw_c = false;
            for (index, word) in words.iter().enumerate().skip(i + 1) {
                let is_option = word.starts_with('-') && word.len() > 1;
                if saw_c && !is_option {
                    return (index == at).then(|| format!("{name} -c"));
                }
                if word == "<<<" && !saw_c {
                    return (index + 1 == at).then(|| format!("{name} <<<"));
                }
                if is_option
                    && ((!word.starts_with("--") && word.contains('c')) || word == "--command")
                {
                    saw_c = true;
                }
                if index >= at {
                    break;
                }
            }
            None
        }
        "ssh" => {
            // Options that take a value, then the host; every word after the host is remote code.
            let mut index = i + 1;
            while let Some(word) = words.get(index) {
                if word.starts_with('-') && word.len() > 1 {
                    let last = word.chars().last().unwrap_or(' ');
                    index += if word.len() == 2 && "bcDEeFIiJLlmOopQRSWw".contains(last) {
                        2
                    } else {
                        1
                    };
                } else {
                    break;
                }
            }
            (at > index).then(|| "ssh".into())
        }
        // `kubectl exec POD -- CMD...`: the words after `--` are a command of their own.
        "kubectl" | "oc" if words.get(i + 1).is_some_and(|word| word == "exec") => {
            let dashes = words.iter().skip(i).position(|word| word == "--")? + i;
            inner_command(words, dashes + 1, at, name)
        }
        // `docker exec [OPTIONS] CONTAINER CMD...`.
        "docker" | "podman" if words.get(i + 1).is_some_and(|word| word == "exec") => {
            let mut index = i + 2;
            while let Some(word) = words.get(index) {
                if !word.starts_with('-') {
                    break;
                }
                let takes_value = matches!(
                    word.as_str(),
                    "-e" | "--env" | "-u" | "--user" | "-w" | "--workdir" | "--env-file"
                );
                index += if takes_value { 2 } else { 1 };
            }
            inner_command(words, index + 1, at, name)
        }
        _ => None,
    }
}

/// The command that starts at `from` inside another one (`kubectl exec ... -- CMD`).
fn inner_command(words: &[String], from: usize, at: usize, outer: &str) -> Option<String> {
    let inner = words.get(from..)?;
    let found = reparsing_command(inner, at.checked_sub(from)?)?;
    Some(format!("{outer} exec ... {found}"))
}

/// The shell a command runs that reads its code from standard input (`| sh`, `| bash -s`): a shell
/// with no `-c` and no script file.
pub(super) fn stdin_shell(words: &[String]) -> Option<String> {
    let i = command_start(words)?;
    let name = basename(words.get(i)?);
    if !is_shell(name) {
        return None;
    }
    let rest = words.get(i + 1..).unwrap_or(&[]);
    // Options only, and none that gives the code (`-c`, `-lc`): the code comes on stdin.
    let reads_stdin = rest
        .iter()
        .all(|word| word.starts_with('-') && (word.starts_with("--") || !word.contains('c')));
    reads_stdin.then(|| name.to_owned())
}

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}
