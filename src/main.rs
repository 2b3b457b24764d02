//! The `mpq` binary: parse, run, map the result to an exit code (0 ok, 2 error; a closed
//! output pipe is not an error). The command line itself (`cli`) is private glue over the
//! library's public API, and the only place that prints.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::args::Cli::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = cli.threads {
        builder.worker_threads(n as usize);
    }
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mpq: error: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mpq: error: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// The error as one line: mpq's own error where DataFusion wraps one (its text already
/// names file, record and offsets), else each cause once.
fn message(e: &anyhow::Error) -> String {
    let ours = e.chain().filter_map(|c| c.downcast_ref::<mpq::error::Error>()).last();
    if let Some(ours) = ours.filter(|o| !matches!(o, mpq::error::Error::DataFusion(_))) {
        return ours.to_string();
    }
    let mut msg = String::new();
    for c in e.chain() {
        let s = c.to_string();
        if !msg.contains(&s) {
            if !msg.is_empty() {
                msg.push_str(": ");
            }
            msg.push_str(&s);
        }
    }
    msg
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
        || e.to_string().contains("Broken pipe")
}
