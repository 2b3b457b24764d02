//! The shell's meta commands, in the DuckDB (`.tables`) and the psql (`\d`) style: what they
//! are, how they parse, and the help that lists them.

use crate::cli::args::OutputFormat;
use clap::ValueEnum;

/// A parsed meta command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meta {
    /// `.help`, `\?`
    Help,
    /// `.quit`, `.exit`, `\q`
    Quit,
    /// `.tables`, `\d`
    Tables,
    /// `.schema [TABLE]`, `\d TABLE`
    Schema(Option<String>),
    /// `.functions [NAME]`, `\df [NAME]`
    Functions(Option<String>),
    /// `.mode [FORMAT]`: set, or show the current one.
    Mode(Option<OutputFormat>),
    /// `.timer [on|off]`, `\timing [on|off]`: set, or toggle.
    Timer(Option<bool>),
    /// `.maxrows [N]`: set, or show.
    MaxRows(Option<usize>),
    /// `.open [NAME=]PATH`: add a table.
    Open {
        /// The table name (default: the path's alias).
        name: Option<String>,
        /// A file, directory or glob.
        path: String,
    },
    /// `.read FILE`, `\i FILE`: run the statements and commands in FILE.
    Read(String),
    /// `.output [FILE]`, `\o [FILE]`: results to FILE, or back to the terminal.
    Output(Option<String>),
}

/// Each command's spellings, arguments and help: the `.help` text and what completion offers.
pub const COMMANDS: &[(&[&str], &str, &str)] = &[
    (&[".help", "\\?"], "", "show this help"),
    (&[".quit", ".exit", "\\q"], "", "leave the shell (also Ctrl-D)"),
    (&[".tables", "\\d"], "", "list the tables"),
    (&[".schema", "\\d"], "[TABLE]", "the inferred schema of TABLE (default: every table), as `mpq schema` shows it"),
    (&[".functions", "\\df"], "[NAME]", "the mp_* functions, or any function NAME with its documentation"),
    (&[".mode"], "[table|csv|tsv|json|ndjson|line|markdown]", "how results are printed"),
    (&[".timer", "\\timing"], "[on|off]", "show the time each statement takes"),
    (&[".maxrows"], "[N]", "rows a result shows at most in table, markdown and line mode (0: all)"),
    (&[".open"], "[NAME=]PATH", "add the files at PATH as a table (MessagePack; Parquet, CSV, NDJSON, Arrow by name)"),
    (&[".read", "\\i"], "FILE", "run the statements and commands in FILE"),
    (&[".output", "\\o"], "[FILE]", "write results to FILE; without FILE, to the terminal again"),
];

/// The `.help` text.
pub fn help() -> String {
    let mut out = String::from(
        "Statements end with ; and may span lines; Ctrl-C cancels a running query, Ctrl-D quits.\n\
         Tab completes tables, columns (nested: \"user\".geo.country), functions, keywords, and\n\
         file paths inside quotes.\n\n",
    );
    for (names, args, text) in COMMANDS {
        let spelled = format!("{} {args}", names.join(", "));
        out.push_str(&format!("  {:<40} {text}\n", spelled.trim_end()));
    }
    out
}

fn on_off(word: &str) -> Result<bool, String> {
    match word.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        _ => Err(format!("expected on or off, not {word:?}")),
    }
}

/// Parses a meta command line.
pub fn parse(line: &str) -> Result<Meta, String> {
    let line = line.trim().trim_end_matches(';').trim_end();
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let arg = Some(rest.trim()).filter(|a| !a.is_empty());
    let owned = arg.map(str::to_string);
    let need = |what: &str| owned.clone().ok_or_else(|| format!("{word} needs {what}"));
    Ok(match word {
        ".help" | "\\?" | "\\h" => Meta::Help,
        ".quit" | ".exit" | "\\q" => Meta::Quit,
        ".tables" => Meta::Tables,
        "\\d" | "\\dt" if arg.is_none() => Meta::Tables,
        ".schema" | "\\d" | "\\dt" => Meta::Schema(owned),
        ".functions" | "\\df" => Meta::Functions(owned),
        ".mode" => {
            Meta::Mode(match arg {
                None => None,
                Some(m) => Some(OutputFormat::from_str(m, true).map_err(|_| {
                    format!("no mode {m:?}; the modes are table, csv, tsv, json, ndjson, line, markdown")
                })?),
            })
        }
        ".timer" | "\\timing" => Meta::Timer(arg.map(on_off).transpose()?),
        ".maxrows" => Meta::MaxRows(
            arg.map(|n| n.parse().map_err(|_| format!(".maxrows takes a number of rows, not {n:?}"))).transpose()?,
        ),
        ".open" => {
            let spec = need("a path: .open [NAME=]PATH")?;
            match spec.split_once('=') {
                Some((name, path)) if !name.contains('/') => {
                    Meta::Open { name: Some(name.trim().to_string()), path: path.trim().to_string() }
                }
                _ => Meta::Open { name: None, path: spec },
            }
        }
        ".read" | "\\i" => Meta::Read(need("a file: .read FILE")?),
        ".output" | "\\o" => Meta::Output(owned),
        _ => return Err(format!("unknown command {word}; .help lists the commands")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_styles_parse() {
        assert_eq!(parse(".help"), Ok(Meta::Help));
        assert_eq!(parse("\\?"), Ok(Meta::Help));
        assert_eq!(parse("\\q"), Ok(Meta::Quit));
        assert_eq!(parse(".tables"), Ok(Meta::Tables));
        assert_eq!(parse("\\d"), Ok(Meta::Tables));
        assert_eq!(parse("\\d logs"), Ok(Meta::Schema(Some("logs".into()))));
        assert_eq!(parse(".schema"), Ok(Meta::Schema(None)));
        assert_eq!(parse(".mode csv"), Ok(Meta::Mode(Some(OutputFormat::Csv))));
        assert_eq!(parse(".mode LINE;"), Ok(Meta::Mode(Some(OutputFormat::Line))));
        assert_eq!(parse(".timer on"), Ok(Meta::Timer(Some(true))));
        assert_eq!(parse("\\timing"), Ok(Meta::Timer(None)));
        assert_eq!(parse(".maxrows 5"), Ok(Meta::MaxRows(Some(5))));
        assert_eq!(
            parse(".open users=data/users.msgpack"),
            Ok(Meta::Open { name: Some("users".into()), path: "data/users.msgpack".into() })
        );
        assert_eq!(parse(".open logs/a=b.msgpack"), Ok(Meta::Open { name: None, path: "logs/a=b.msgpack".into() }));
        assert_eq!(parse(".output out.csv"), Ok(Meta::Output(Some("out.csv".into()))));
        assert_eq!(parse("\\o"), Ok(Meta::Output(None)));
    }

    #[test]
    fn mistakes_say_what_is_wrong() {
        assert!(parse(".mode xml").expect_err("an error").contains("table, csv"));
        assert!(parse(".timer maybe").expect_err("an error").contains("on or off"));
        assert!(parse(".maxrows lots").expect_err("an error").contains("number"));
        assert!(parse(".open").expect_err("an error").contains("PATH"));
        assert!(parse(".frobnicate").expect_err("an error").contains(".help"));
    }

    #[test]
    fn help_lists_every_command() {
        let h = help();
        for (names, _, _) in COMMANDS {
            for n in *names {
                assert!(h.contains(n), "{n}");
                assert!(n == &"\\h" || parse(n).is_ok() || parse(&format!("{n} x")).is_ok(), "{n}");
            }
        }
    }
}
