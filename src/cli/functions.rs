//! `mpq functions`: the SQL functions of `mpq-udfs`, from their DataFusion documentation.

use super::args::{FunctionsArgs, FunctionsFormat};
use anyhow::{Result, bail};
use datafusion::logical_expr::{Documentation, ScalarUDF};
use std::io::Write;
use std::sync::Arc;

/// Prints the list, or one function in full.
pub fn print(a: &FunctionsArgs) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match &a.name {
        Some(name) => {
            let Some((_, doc)) = documented().into_iter().find(|(f, _)| f.name() == name) else {
                bail!("no function {name:?}; `mpq functions` lists them");
            };
            describe(&mut out, name, &doc)
        }
        None => list(&mut out, a.format),
    }
}

/// The `mp_*` functions and their documentation.
fn documented() -> Vec<(Arc<ScalarUDF>, Documentation)> {
    mpq_udfs::all()
        .into_iter()
        .filter_map(|f| {
            let doc = f.documentation()?.clone();
            Some((f, doc))
        })
        .collect()
}

/// One function in full: syntax, description, arguments, example.
pub fn describe(out: &mut dyn Write, name: &str, doc: &Documentation) -> Result<()> {
    writeln!(out, "{name}\n\n{}\n\n{}", doc.syntax_example, doc.description)?;
    for (arg, text) in doc.arguments.iter().flatten() {
        writeln!(out, "\n  {arg}: {text}")?;
    }
    if let Some(example) = &doc.sql_example {
        writeln!(out, "\nExample:\n  {}", strip_fence(example))?;
    }
    Ok(())
}

/// The `mp_*` functions, one entry each, as text or a Markdown table.
pub fn list(out: &mut dyn Write, format: FunctionsFormat) -> Result<()> {
    let fns = documented();
    match format {
        FunctionsFormat::Text => {
            for (_, doc) in &fns {
                writeln!(
                    out,
                    "{}\n    {}\n    e.g. {}",
                    doc.syntax_example,
                    first_sentence(&doc.description),
                    example(doc)
                )?;
            }
        }
        FunctionsFormat::Markdown => {
            writeln!(out, "| function | what it gives | example |\n|---|---|---|")?;
            for (_, doc) in &fns {
                writeln!(
                    out,
                    "| `{}` | {} | `{}` |",
                    doc.syntax_example.replace('|', "\\|"),
                    first_sentence(&doc.description).replace('|', "\\|"),
                    example(doc).replace('|', "\\|")
                )?;
            }
        }
    }
    Ok(())
}

fn strip_fence(s: &str) -> &str {
    s.trim().trim_start_matches("```sql").trim_end_matches("```").trim()
}

fn example(doc: &Documentation) -> &str {
    doc.sql_example.as_deref().map(strip_fence).unwrap_or("")
}

/// The description up to its first sentence end (". " or the end).
fn first_sentence(s: &str) -> &str {
    match s.find(". ") {
        Some(i) => &s[..=i],
        None => s,
    }
}
