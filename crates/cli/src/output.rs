//! Output conventions shared by every subcommand: formats, exit codes, colour only
//! on a terminal, a broken pipe that is not an error.

use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// For people.
    Text,
    /// One JSON document.
    Json,
    /// One JSON object a line (JSON Lines).
    Ndjson,
}

/// `println!` that hands a write error back (`?`) instead of panicking, so that a
/// closed pipe (`takedown ... | head`) ends quietly through [`finish`].
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

/// How a command that ran to the end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing found (or nothing to find).
    Clean,
    /// Findings: something of the group's was seen.
    Findings,
}

/// Maps a command's result to the exit code: 0 clean, 1 findings, 2 error. An error
/// is printed once, with its causes; a closed pipe (`takedown ... | head`) ends
/// quietly.
pub fn finish(result: anyhow::Result<Exit>) -> ExitCode {
    match result {
        Ok(Exit::Clean) => ExitCode::from(0),
        Ok(Exit::Findings) => ExitCode::from(1),
        Err(err) => {
            // A write error reaches here bare or inside serde_json's (JSON output).
            let broken_pipe = err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
                    || c.downcast_ref::<serde_json::Error>()
                        .is_some_and(|e| e.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
            });
            if broken_pipe {
                return ExitCode::from(0);
            }
            let style = Style::stderr();
            eprintln!("{} {}", style.error("error:"), said_once(&err));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each said once: library errors often name their source
/// in their own message and chain it as well (rusqlite's failure even chains the
/// same words again), which `{:#}` would print two or three times over.
pub fn said_once(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if part.is_empty() || text.to_lowercase().contains(&part.to_lowercase()) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Colour for a terminal, plain text for everything else (and under `NO_COLOR`).
#[derive(Debug, Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    pub fn stdout() -> Style {
        Style { on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() }
    }
    pub fn stderr() -> Style {
        Style { on: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() }
    }
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    pub fn error(&self, s: &str) -> String {
        self.paint("1;31", s)
    }
    pub fn warn(&self, s: &str) -> String {
        self.paint("33", s)
    }
}

/// Text that came from outside (file names above all) made safe to print on a line
/// of a report: control characters are shown escaped (`\n`, `\t`, `\r`, else
/// `\u{1b}`), so that a file name cannot start a forged line of its own or send
/// escape sequences to the terminal. JSON output needs none of this.
pub fn escaped(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.into()
}

/// Prints one JSON document (pretty) or one JSON line.
pub fn print_json<T: serde::Serialize>(format: OutputFormat, value: &T) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Ndjson => serde_json::to_writer(&mut out, value)?,
        _ => serde_json::to_writer_pretty(&mut out, value)?,
    }
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_nothing_else_is() {
        assert_eq!(escaped("C:\\Users\\ana\\café.exe"), "C:\\Users\\ana\\café.exe");
        assert!(matches!(escaped("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(escaped("a\nfilename  FAKE  /etc/passwd"), "a\\nfilename  FAKE  /etc/passwd");
        assert_eq!(escaped("tab\there\r"), "tab\\there\\r");
        assert_eq!(escaped("\x1b[31mred\u{85}"), "\\u{1b}[31mred\\u{85}");
    }
}
