//! `mpq shell`: an interactive prompt over one session, and the same language run from a
//! script (standard input that is not a terminal, `-c SQL`, `.read FILE`).
//!
//! Flow: a line comes in (from the line editor or a script); with no statement pending, a
//! line starting with `.` or `\` is a meta command ([`meta`]); anything else is added to the
//! pending text, from which complete statements are cut at `;` ([`input`]) and run one by one
//! through [`crate::cli::sql::run`], their problems summarised after each. Interactively,
//! Ctrl-C cancels what runs ([`mpq::interrupt`]) and errors are printed, never fatal; a
//! script stops at its first error.

pub mod complete;
pub mod input;
pub mod meta;

use super::args::{OutputFormat, ShellArgs};
use super::print::View;
use super::{Policies, STDIN, expand_all, functions, print_summary, read_options, register_inputs, sql};
use anyhow::{Context, Result, bail};
use complete::{Helper, Names, column_paths};
use datafusion::prelude::SessionContext;
use meta::Meta;
use mpq::datasource::SessionContextExt;
use mpq::options::MsgpackReadOptions;
use rustyline::error::ReadlineError;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// The prompt, and the one shown while a statement is unfinished (as wide).
const PROMPT: &str = "mpq> ";
const MORE: &str = "...> ";

/// Whether to go on after a line.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Go,
    Quit,
}

/// One shell: a session, the tables it opened, and how results are shown.
struct Shell {
    ctx: SessionContext,
    opts: MsgpackReadOptions,
    /// MessagePack tables the shell registered, and their files (for `.schema`).
    sources: BTreeMap<String, Vec<String>>,
    format: OutputFormat,
    max_rows: usize,
    timer: bool,
    /// `.output FILE`: where results go instead of standard output.
    output: Option<(String, std::fs::File)>,
    /// At a terminal: row counts after results, tables fitted to its width.
    interactive: bool,
    color: bool,
    /// What completion offers.
    names: Arc<RwLock<Names>>,
}

/// Runs `mpq shell`.
pub async fn run(a: ShellArgs) -> Result<()> {
    let stdin_script = a.command.is_none() && !std::io::stdin().is_terminal();
    if a.files.iter().any(|f| f == STDIN) && a.command.is_none() {
        bail!("the shell reads its commands from standard input, so data cannot come from there (-); use -c SQL");
    }
    let opts = read_options(&a.read, Policies::KEEP)?;
    let ctx = super::target_session(&opts, &a.read, &a.target, &a.files).await?;
    let interactive = a.command.is_none() && !stdin_script;
    let color =
        interactive && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut shell = Shell {
        ctx,
        opts,
        sources: BTreeMap::new(),
        format: a.mode,
        max_rows: a.max_rows,
        timer: false,
        output: None,
        interactive,
        color,
        names: Arc::default(),
    };
    shell.open_inputs(&a.files, &a.tables).await?;
    if let Some(text) = &a.command {
        return shell.script(text).await.map(drop);
    }
    if stdin_script {
        let text = std::io::read_to_string(std::io::stdin()).context("reading commands from standard input")?;
        return shell.script(&text).await.map(drop);
    }
    shell.interactive().await
}

/// Where the history is kept: `MPQ_HISTORY`, else `$XDG_STATE_HOME/mpq/history`, else
/// `~/.local/state/mpq/history`. An empty `MPQ_HISTORY` keeps none.
pub fn history_path() -> Option<std::path::PathBuf> {
    use std::path::PathBuf;
    if let Some(p) = std::env::var_os("MPQ_HISTORY") {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(state.join("mpq").join("history"))
}

impl Shell {
    /// Registers the command line's inputs as `t` and its alias, and each `--table`.
    async fn open_inputs(&mut self, files: &[String], tables: &[String]) -> Result<()> {
        if !files.is_empty() {
            let files = expand_all(files)?;
            register_inputs(&self.ctx, &files, &self.opts).await?;
            if files.iter().all(|f| f != STDIN) {
                if let Some(alias) = mpq::tables::table_alias(&files) {
                    self.sources.insert(alias, files.clone());
                }
                self.sources.insert("t".into(), files);
            }
        }
        for spec in tables {
            let (name, path) = super::table_spec(spec)?;
            self.open(Some(name), path).await?;
        }
        self.refresh().await;
        Ok(())
    }

    /// `.open`: the MessagePack files at `path` as table `name` (default: the path's alias).
    async fn open(&mut self, name: Option<&str>, path: &str) -> Result<String> {
        let files = expand_all(&[path.to_string()])?;
        let name = match name {
            Some(n) => n.to_string(),
            None => mpq::tables::table_alias(&files)
                .with_context(|| format!("no table name follows from {path:?}; use .open NAME={path}"))?,
        };
        if self.ctx.table_exist(name.as_str())? {
            self.ctx.deregister_table(name.as_str())?;
        }
        mpq::tables::register_table(&self.ctx, &name, &files, &self.opts).await?;
        self.sources.insert(name.clone(), files);
        Ok(name)
    }

    /// The interactive loop: line editing, history, completion, Ctrl-C and Ctrl-D.
    async fn interactive(&mut self) -> Result<()> {
        mpq::interrupt::catch()?;
        let config = rustyline::Config::builder()
            .max_history_size(10_000)?
            .auto_add_history(false)
            .completion_type(rustyline::CompletionType::List)
            .build();
        let mut editor: rustyline::Editor<Helper, rustyline::history::FileHistory> =
            rustyline::Editor::with_config(config)?;
        editor.set_helper(Some(Helper { names: Arc::clone(&self.names), color: self.color }));
        let history = history_path();
        if let Some(h) = &history {
            if let Some(dir) = h.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = editor.load_history(h);
        }
        let tables: Vec<&str> = self.sources.keys().map(String::as_str).collect();
        let tables = if tables.is_empty() { "no tables yet (.open PATH)".into() } else { tables.join(", ") };
        println!("mpq {}: {tables}. Statements end with ;  .help for help, Ctrl-D to quit.", env!("CARGO_PKG_VERSION"));
        let mut pending = String::new();
        // What was typed for the statement being entered: one history entry.
        let mut typed = String::new();
        loop {
            let line = match editor.readline(if pending.is_empty() { PROMPT } else { MORE }) {
                Ok(line) => line,
                Err(ReadlineError::Interrupted) => {
                    (pending, typed) = (String::new(), String::new());
                    continue;
                }
                Err(ReadlineError::Eof) => break,
                Err(e) => return Err(e.into()),
            };
            typed.push_str(&line);
            typed.push('\n');
            let flow = match mpq::interrupt::cancellable(self.line(&line, &mut pending)).await {
                Some(Ok(flow)) => flow,
                Some(Err(e)) => {
                    self.error(&e);
                    pending.clear();
                    Flow::Go
                }
                None => {
                    self.ctx.msgpack_report().take();
                    eprintln!("{}", self.paint("2", "Cancelled."));
                    pending.clear();
                    Flow::Go
                }
            };
            if pending.is_empty() && !typed.trim().is_empty() {
                let _ = editor.add_history_entry(typed.trim_end());
                if let Some(h) = &history
                    && let Err(e) = editor.append_history(h)
                {
                    eprintln!("mpq: cannot write the history to {}: {e}", h.display());
                }
                typed.clear();
            }
            if flow == Flow::Quit {
                break;
            }
        }
        Ok(())
    }

    /// Runs a script's lines; the first error ends it.
    async fn script(&mut self, text: &str) -> Result<Flow> {
        let mut pending = String::new();
        for line in text.lines() {
            if self.line(line, &mut pending).await? == Flow::Quit {
                return Ok(Flow::Quit);
            }
        }
        if !pending.trim().is_empty() {
            // The last statement may omit its `;`.
            self.statements(&pending).await?;
        }
        Ok(Flow::Go)
    }

    /// One line: a meta command, or more of the pending text, whose complete statements run.
    async fn line(&mut self, line: &str, pending: &mut String) -> Result<Flow> {
        if pending.is_empty() && input::is_meta(line) {
            let command = meta::parse(line).map_err(anyhow::Error::msg)?;
            let flow = self.meta(command).await;
            self.refresh().await;
            return flow;
        }
        pending.push_str(line);
        pending.push('\n');
        let (statements, rest) = input::split(pending);
        *pending = rest;
        for s in statements {
            self.statements(&s).await?;
        }
        Ok(Flow::Go)
    }

    /// Runs SQL text (one or more statements), each result printed with its footer.
    async fn statements(&mut self, text: &str) -> Result<()> {
        self.add_named_columns(text).await?;
        for stmt in sql::parse(text)? {
            let started = Instant::now();
            let width = match (&self.output, self.interactive) {
                (None, true) => console::Term::stdout().size_checked().map(|(_, w)| w as usize),
                _ => None,
            };
            let view = View { max_rows: self.max_rows, width, hint: ".maxrows 0" };
            let mut stdout = std::io::stdout().lock();
            let out: &mut dyn Write = match &mut self.output {
                Some((_, f)) => f,
                None => &mut stdout,
            };
            let mut output = sql::Output { out, format: self.format, view };
            let rows = sql::run(&self.ctx, stmt, false, &mut output).await;
            drop(stdout);
            let report = self.ctx.msgpack_report();
            let problems = report.take();
            let rows = rows?;
            self.footer(rows, started.elapsed().as_secs_f64());
            crate::cli::fill_cache(&report).await;
            print_summary(&problems);
            report.finish_rejects().context("writing --rejects")?;
        }
        self.refresh().await;
        Ok(())
    }

    /// Rows and time after a result: at a terminal always (the time with `.timer on`);
    /// from a script only the time, with `.timer on`, on standard error.
    fn footer(&self, rows: Option<usize>, secs: f64) {
        let time = self.timer.then(|| format!("{secs:.3} s"));
        if !self.interactive {
            if let Some(t) = time {
                eprintln!("Run time: {t}");
            }
            return;
        }
        let what = match rows {
            None => "OK".to_string(),
            Some(1) => "1 row".to_string(),
            Some(n) => format!("{n} rows"),
        };
        let line = match time {
            Some(t) => format!("{what} ({t})"),
            None => what,
        };
        println!("{}", self.paint("2", &line));
    }

    /// The optional columns a statement names (`_record`, `_corrupt_record`) are added to the
    /// shell's MessagePack tables, which are registered again with them.
    async fn add_named_columns(&mut self, sql: &str) -> Result<()> {
        let wanted = super::with_named_columns(self.opts.clone(), sql);
        if wanted == self.opts {
            return Ok(());
        }
        self.opts = wanted;
        for (name, files) in self.sources.clone() {
            self.ctx.deregister_table(name.as_str())?;
            mpq::tables::register_table(&self.ctx, &name, &files, &self.opts).await?;
        }
        Ok(())
    }

    /// Runs a meta command.
    async fn meta(&mut self, command: Meta) -> Result<Flow> {
        let mut out = std::io::stdout().lock();
        match command {
            Meta::Help => write!(out, "{}", meta::help())?,
            Meta::Quit => return Ok(Flow::Quit),
            Meta::Tables => {
                for name in self.table_names() {
                    match self.sources.get(&name) {
                        Some(files) if files.len() == 1 => writeln!(out, "{name}  ({})", files[0])?,
                        Some(files) => writeln!(out, "{name}  ({} files: {}, ...)", files.len(), files[0])?,
                        None => writeln!(out, "{name}")?,
                    }
                }
            }
            Meta::Schema(name) => {
                let names = match name {
                    Some(n) => vec![n],
                    None => self.table_names(),
                };
                for name in names {
                    writeln!(out, "{name}:")?;
                    write!(out, "{}", self.schema_text(&name).await?)?;
                }
            }
            Meta::Functions(None) => {
                functions::list(&mut out, super::args::FunctionsFormat::Text)?;
                writeln!(out, "\nEvery DataFusion function works too; .functions NAME describes any of them.")?;
            }
            Meta::Functions(Some(name)) => {
                let state = self.ctx.state();
                let doc = state
                    .scalar_functions()
                    .get(&name)
                    .and_then(|f| f.documentation().cloned())
                    .or_else(|| state.aggregate_functions().get(&name).and_then(|f| f.documentation().cloned()))
                    .or_else(|| state.window_functions().get(&name).and_then(|f| f.documentation().cloned()));
                match doc {
                    Some(doc) => functions::describe(&mut out, &name, &doc)?,
                    None => bail!("no function {name:?} with documentation; .functions lists mpq's own"),
                }
            }
            Meta::Mode(None) => writeln!(out, "{}", mode_name(self.format))?,
            Meta::Mode(Some(m)) => self.format = m,
            Meta::Timer(on) => self.timer = on.unwrap_or(!self.timer),
            Meta::MaxRows(None) => writeln!(out, "{}", self.max_rows)?,
            Meta::MaxRows(Some(n)) => self.max_rows = n,
            Meta::Open { name, path } => {
                let name = self.open(name.as_deref(), &path).await?;
                writeln!(out, "table {name}")?;
            }
            Meta::Read(file) => {
                drop(out);
                let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {file}"))?;
                return Box::pin(self.script(&text)).await;
            }
            Meta::Output(None) => self.output = None,
            Meta::Output(Some(file)) => {
                let f = std::fs::File::create(&file).with_context(|| format!("cannot create {file}"))?;
                self.output = Some((file, f));
            }
        }
        out.flush()?;
        Ok(Flow::Go)
    }

    /// The schema of table `name`: for the shell's MessagePack tables the `mpq schema` view
    /// (from a fresh sample), for others their columns and types.
    async fn schema_text(&self, name: &str) -> Result<String> {
        if let Some(files) = self.sources.get(name) {
            let inference = self.ctx.infer_msgpack(files.clone(), self.opts.clone()).await?;
            return Ok(mpq::schema_view::SchemaView::new(&inference, &self.opts, None).text());
        }
        let table = self.ctx.table_provider(name).await?;
        let mut text = String::new();
        for f in table.schema().fields() {
            text.push_str(&format!("  {}  {}\n", f.name(), mpq::schema_view::type_name(f)));
        }
        Ok(text)
    }

    /// Tables of the session's default schema, sorted.
    fn table_names(&self) -> Vec<String> {
        let state = self.ctx.state();
        let defaults = &state.config_options().catalog;
        let mut names = self
            .ctx
            .catalog(&defaults.default_catalog)
            .and_then(|c| c.schema(&defaults.default_schema))
            .map(|s| s.table_names())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Reloads what completion offers from the session.
    async fn refresh(&self) {
        let state = self.ctx.state();
        let mut names = Names {
            tables: self.table_names(),
            columns: Vec::new(),
            functions: state
                .scalar_functions()
                .keys()
                .chain(state.aggregate_functions().keys())
                .chain(state.window_functions().keys())
                .cloned()
                .collect(),
        };
        for t in &names.tables {
            if let Ok(table) = self.ctx.table_provider(t.as_str()).await {
                column_paths(table.schema().fields(), 4, &mut names.columns);
            }
        }
        names.columns.sort();
        names.columns.dedup();
        names.functions.sort();
        names.functions.dedup();
        *self.names.write().unwrap_or_else(|e| e.into_inner()) = names;
    }

    fn error(&self, e: &anyhow::Error) {
        eprintln!("{}", self.paint("31", &format!("Error: {}", crate::message(e))));
    }

    /// `text` in the ANSI colour `code` when colour is on.
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }
}

/// How `.mode` names a format.
fn mode_name(f: OutputFormat) -> String {
    use clap::ValueEnum;
    f.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
}
