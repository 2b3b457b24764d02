//! Tab completion for the shell: table names, column paths (nested struct fields as
//! `"user".geo.country`, quoted where SQL needs it), function names, SQL keywords, meta
//! commands at the start of a line, and file paths inside single quotes. The names come from
//! the session and are refreshed after every statement ([`Names`]).

use super::input::{is_meta, open_string};
use super::meta::COMMANDS;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::sql::sqlparser::ast::{Expr, SelectItem, SetExpr, Statement};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use std::borrow::Cow;
use std::sync::{Arc, RwLock};

/// Keywords offered by completion: the ones queries over logs use, not all of SQL.
const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "DISTINCT",
    "AS",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "IS",
    "IN",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "JOIN",
    "LEFT JOIN",
    "INNER JOIN",
    "CROSS JOIN",
    "ON",
    "USING",
    "UNION ALL",
    "WITH",
    "CAST",
    "TRY_CAST",
    "ASC",
    "DESC",
    "NULLS FIRST",
    "NULLS LAST",
    "OVER",
    "PARTITION BY",
    "COUNT",
    "EXPLAIN",
    "EXPLAIN ANALYZE",
    "DESCRIBE",
    "SHOW",
    "CREATE TABLE",
    "CREATE VIEW",
    "CREATE EXTERNAL TABLE",
    "STORED AS MSGPACK",
    "DROP TABLE",
    "DROP VIEW",
    "COPY",
    "TO",
    "OPTIONS",
    "TRUE",
    "FALSE",
    "INTERVAL",
    "UNNEST",
];

/// What completion can offer, refreshed from the session.
#[derive(Debug, Default)]
pub struct Names {
    /// Table names.
    pub tables: Vec<String>,
    /// Column paths as typed in SQL (quoted where needed), nested fields included.
    pub columns: Vec<String>,
    /// Function names.
    pub functions: Vec<String>,
}

/// Column paths of `fields` as SQL spells them, at most `depth` levels into structs.
pub fn column_paths(fields: &[Arc<Field>], depth: usize, out: &mut Vec<String>) {
    fn walk(prefix: &str, f: &Field, depth: usize, out: &mut Vec<String>) {
        let path = if prefix.is_empty() { quote(f.name()) } else { format!("{prefix}.{}", quote(f.name())) };
        if let (DataType::Struct(children), true) = (f.data_type(), depth > 1) {
            for c in children {
                walk(&path, c, depth - 1, out);
            }
        }
        out.push(path);
    }
    for f in fields {
        walk("", f, depth, out);
    }
}

/// `name` as an SQL identifier: bare when it reads back as itself both alone and before a
/// `.` (lower case, not a word SQL reserves there), else in double quotes.
pub fn quote(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain && reads_back(name) { name.to_string() } else { format!("\"{}\"", name.replace('"', "\"\"")) }
}

/// True when `SELECT name, name.x FROM t` parses as a column and a column's field.
fn reads_back(name: &str) -> bool {
    let Ok(statements) = Parser::parse_sql(&PostgreSqlDialect {}, &format!("SELECT {name}, {name}.x FROM t")) else {
        return false;
    };
    let [Statement::Query(q)] = statements.as_slice() else { return false };
    let SetExpr::Select(s) = q.body.as_ref() else { return false };
    match s.projection.as_slice() {
        [SelectItem::UnnamedExpr(Expr::Identifier(a)), SelectItem::UnnamedExpr(Expr::CompoundIdentifier(b))] => {
            a.value == name && a.quote_style.is_none() && b.len() == 2 && b[0].value == name
        }
        _ => false,
    }
}

/// The shell's line-editor helper.
pub struct Helper {
    /// Shared with the shell, which refreshes it.
    pub names: Arc<RwLock<Names>>,
    /// Colour the prompt.
    pub color: bool,
}

/// What a word looks like for matching: unquoted, lower case.
fn plain(word: &str) -> String {
    word.replace('"', "").to_lowercase()
}

impl Helper {
    /// Candidates for `word` in code: columns, tables, functions (with `(`), keywords.
    fn words(&self, word: &str) -> Vec<Pair> {
        let want = plain(word);
        let upper = word.chars().next().is_some_and(|c| c.is_ascii_uppercase());
        let names = self.names.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<Pair> = Vec::new();
        let mut add = |display: String, replacement: String| {
            if plain(&display).starts_with(&want) && !out.iter().any(|p| p.replacement == replacement) {
                out.push(Pair { display, replacement });
            }
        };
        for c in &names.columns {
            // A nested path is offered once its parent is typed: `"user".` lists its fields.
            if c.matches('.').count() <= want.matches('.').count() {
                add(c.clone(), c.clone());
            }
        }
        if !want.contains('.') {
            for t in &names.tables {
                add(t.clone(), quote(t));
            }
            for f in &names.functions {
                add(f.clone(), format!("{f}("));
            }
            for k in KEYWORDS {
                let k = if upper || want.is_empty() { k.to_string() } else { k.to_lowercase() };
                add(k.clone(), k);
            }
        }
        out.sort_by(|a, b| a.display.cmp(&b.display));
        out
    }
}

/// Files and directories whose path starts with `typed` (directories end in `/`).
fn paths(typed: &str) -> Vec<Pair> {
    let (dir, prefix) = match typed.rfind('/') {
        Some(i) => (&typed[..=i], &typed[i + 1..]),
        None => ("", typed),
    };
    let Ok(entries) = std::fs::read_dir(if dir.is_empty() { "." } else { dir }) else { return Vec::new() };
    let mut out: Vec<Pair> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
                return None;
            }
            let slash = if e.path().is_dir() { "/" } else { "" };
            Some(Pair { display: format!("{name}{slash}"), replacement: format!("{dir}{name}{slash}") })
        })
        .collect();
    out.sort_by(|a, b| a.display.cmp(&b.display));
    out
}

impl Completer for Helper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _: &rustyline::Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        if is_meta(before) && !before.trim_start().contains(char::is_whitespace) {
            let start = before.len() - before.trim_start().len();
            let typed = before.trim_start();
            let commands = COMMANDS
                .iter()
                .flat_map(|(names, _, _)| names.iter())
                .filter(|n| n.starts_with(typed))
                .map(|n| Pair { display: n.to_string(), replacement: format!("{n} ") });
            return Ok((start, commands.collect()));
        }
        if let Some(start) = open_string(before) {
            return Ok((start, paths(&before[start..])));
        }
        if is_meta(before) {
            // `.open`, `.read` and `.output` take paths.
            let start = before.rfind(|c: char| c.is_whitespace() || c == '=').map_or(0, |i| i + 1);
            return Ok((start, paths(&before[start..])));
        }
        let start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || matches!(c, '_' | '.' | '"'))
            .last()
            .map_or(pos, |(i, _)| i);
        Ok((start, self.words(&before[start..])))
    }
}

impl Hinter for Helper {
    type Hint = String;
}

impl Validator for Helper {}

impl Highlighter for Helper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(&'s self, prompt: &'p str, _default: bool) -> Cow<'b, str> {
        if self.color { Cow::Owned(format!("\x1b[1;32m{prompt}\x1b[0m")) } else { Cow::Borrowed(prompt) }
    }
}

impl rustyline::Helper for Helper {}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Fields;

    #[test]
    fn identifiers_are_quoted_only_where_sql_needs_it() {
        assert_eq!(quote("status"), "status");
        assert_eq!(quote("user"), "\"user\"");
        assert_eq!(quote("Level"), "\"Level\"");
        assert_eq!(quote("a-b"), "\"a-b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("from"), "\"from\"");
    }

    fn helper() -> Helper {
        let geo =
            Field::new("geo", DataType::Struct(Fields::from(vec![Field::new("country", DataType::Utf8, true)])), true);
        let user = Field::new("user", DataType::Struct(Fields::from(vec![geo])), true);
        let mut columns = Vec::new();
        column_paths(&[Arc::new(user), Arc::new(Field::new("status", DataType::Int64, true))], 4, &mut columns);
        let names = Names { tables: vec!["logs".into(), "t".into()], columns, functions: vec!["mp_get".into()] };
        Helper { names: Arc::new(RwLock::new(names)), color: false }
    }

    fn complete(h: &Helper, line: &str) -> (usize, Vec<String>) {
        let history = rustyline::history::DefaultHistory::new();
        let ctx = rustyline::Context::new(&history);
        let (start, pairs) = h.complete(line, line.len(), &ctx).expect("complete");
        (start, pairs.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn nested_columns_complete_level_by_level() {
        let h = helper();
        assert_eq!(complete(&h, "SELECT \"user\".geo.c"), (7, vec!["\"user\".geo.country".to_string()]));
        assert_eq!(complete(&h, "SELECT use"), (7, vec!["\"user\"".to_string()]));
        assert_eq!(complete(&h, "SELECT us").1, vec!["\"user\"".to_string(), "using".to_string()]);
        assert_eq!(complete(&h, "SELECT user.g"), (7, vec!["\"user\".geo".to_string()]));
        let (_, all) = complete(&h, "SELECT sta");
        assert_eq!(all, vec!["status".to_string()]);
    }

    #[test]
    fn tables_functions_keywords_and_commands() {
        let h = helper();
        assert_eq!(complete(&h, "SELECT * FROM lo").1, vec!["logs".to_string()]);
        assert_eq!(complete(&h, "SELECT mp_g").1, vec!["mp_get(".to_string()]);
        assert_eq!(complete(&h, "SEL").1, vec!["SELECT".to_string()]);
        assert_eq!(complete(&h, "sel").1, vec!["select".to_string()]);
        assert_eq!(complete(&h, ".sch").1, vec![".schema ".to_string()]);
    }

    #[test]
    fn paths_complete_inside_quotes() {
        let h = helper();
        let (start, found) = complete(&h, "SELECT * FROM 'testdata/lo");
        assert_eq!(start, 15);
        assert!(found.contains(&"testdata/logs.msgpack".to_string()), "{found:?}");
        let (_, found) = complete(&h, ".open x=testdata/ev");
        assert!(found.contains(&"testdata/events.msgpack".to_string()), "{found:?}");
    }
}
