//! Printing query results. A [`Printer`] takes a result batch by batch, so a result is never
//! held whole: machine formats (CSV, TSV, JSON, NDJSON) stream, and the views for people
//! (table, markdown, line) keep at most the rows they show and count the rest. Variant columns
//! are rendered as JSON values (never as bytes); nested values as JSON in CSV/TSV.

use super::args::OutputFormat;
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use mpq::json_text::{contains_variant, json_cell, json_row};
use std::io::Write;
use std::sync::Arc;
use unicode_width::UnicodeWidthStr;

/// How the views for people are cut.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// Rows shown at most (0: all); a note says how many more there were.
    pub max_rows: usize,
    /// The terminal's width, which a table is fitted to (cells cut with `…`, middle columns
    /// left out); `None`: as wide as its content.
    pub width: Option<usize>,
    /// What the note says shows every row (`--max-rows 0`, `.maxrows 0`).
    pub hint: &'static str,
}

/// A result being printed.
pub struct Printer<'a> {
    out: &'a mut dyn Write,
    schema: Arc<Schema>,
    format: OutputFormat,
    view: View,
    /// Rows seen so far.
    rows: usize,
    /// The rows a view for people shows, as display batches.
    kept: Vec<RecordBatch>,
    /// True once the CSV/TSV header is written.
    header_written: bool,
}

impl<'a> Printer<'a> {
    /// A printer of rows of `schema` to `out`.
    pub fn new(out: &'a mut dyn Write, schema: &Schema, format: OutputFormat, view: View) -> Self {
        Printer {
            out,
            schema: Arc::new(schema.clone()),
            format,
            view,
            rows: 0,
            kept: Vec::new(),
            header_written: false,
        }
    }

    /// True for a statement without a result (DDL), which prints nothing.
    fn silent(&self) -> bool {
        self.schema.fields().is_empty()
    }

    /// Prints (or keeps) the rows of one batch.
    pub fn batch(&mut self, b: &RecordBatch) -> anyhow::Result<()> {
        if self.silent() || b.num_rows() == 0 {
            return Ok(());
        }
        let first = self.rows == 0;
        self.rows += b.num_rows();
        match self.format {
            OutputFormat::Table | OutputFormat::Markdown | OutputFormat::Line => {
                let shown: usize = self.kept.iter().map(|k| k.num_rows()).sum();
                let room = if self.view.max_rows == 0 { b.num_rows() } else { self.view.max_rows - shown };
                if room > 0 {
                    self.kept.push(displayable(&b.slice(0, room.min(b.num_rows())), false)?);
                }
            }
            OutputFormat::Csv | OutputFormat::Tsv => self.delimited(b)?,
            OutputFormat::Json => {
                write!(self.out, "{}", if first { "[\n" } else { ",\n" })?;
                self.json_rows(b, ",\n")?;
            }
            OutputFormat::Ndjson => {
                self.json_rows(b, "\n")?;
                writeln!(self.out)?;
            }
        }
        Ok(())
    }

    /// Ends the result: the view for people, the closing of a JSON array, the note on rows not
    /// shown. Returns the number of rows (`None` for a statement without a result).
    pub fn finish(mut self) -> anyhow::Result<Option<usize>> {
        if self.silent() {
            return Ok(None);
        }
        let shown: usize = self.kept.iter().map(|k| k.num_rows()).sum();
        match self.format {
            OutputFormat::Table => {
                let cells = Cells::of(&self.schema, &self.kept)?;
                let (text, hidden) = cells.table(self.view.width);
                write!(self.out, "{text}")?;
                if hidden > 0 {
                    writeln!(self.out, "{hidden} columns not shown for the terminal's width (.mode line shows all)")?;
                }
            }
            OutputFormat::Markdown => write!(self.out, "{}", Cells::of(&self.schema, &self.kept)?.markdown())?,
            OutputFormat::Line => write!(self.out, "{}", Cells::of(&self.schema, &self.kept)?.lines())?,
            OutputFormat::Csv | OutputFormat::Tsv => {
                if !self.header_written {
                    self.delimited(&RecordBatch::new_empty(Arc::clone(&self.schema)))?;
                }
            }
            OutputFormat::Json => writeln!(self.out, "{}]", if self.rows == 0 { "[" } else { "\n" })?,
            OutputFormat::Ndjson => {}
        }
        let human = matches!(self.format, OutputFormat::Table | OutputFormat::Markdown | OutputFormat::Line);
        if human && shown < self.rows {
            let (rows, more) = (self.rows, self.rows - shown);
            writeln!(self.out, "{shown} of {rows} rows shown; {more} more not shown ({} shows all)", self.view.hint)?;
        }
        Ok(Some(self.rows))
    }

    fn delimited(&mut self, b: &RecordBatch) -> anyhow::Result<()> {
        let delimiter = if self.format == OutputFormat::Tsv { b'\t' } else { b',' };
        let header = !self.header_written;
        self.header_written = true;
        let mut w = datafusion::arrow::csv::WriterBuilder::new()
            .with_header(header)
            .with_delimiter(delimiter)
            .build(&mut *self.out);
        w.write(&displayable(b, true)?)?;
        Ok(())
    }

    fn json_rows(&mut self, b: &RecordBatch, separator: &str) -> anyhow::Result<()> {
        let fields = b.schema_ref().fields().clone();
        let mut line = String::new();
        for row in 0..b.num_rows() {
            line.clear();
            if row > 0 {
                line.push_str(separator);
            }
            json_row(&fields, b.columns(), row, &mut line);
            self.out.write_all(line.as_bytes())?;
        }
        Ok(())
    }
}

/// Replaces variant columns (and, with `nested`, struct/list/map columns) by their JSON text.
fn displayable(batch: &RecordBatch, nested: bool) -> anyhow::Result<RecordBatch> {
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (f, col) in batch.schema().fields().iter().zip(batch.columns()) {
        let is_nested = matches!(
            f.data_type(),
            DataType::Struct(_) | DataType::List(_) | DataType::LargeList(_) | DataType::Map(..)
        );
        if contains_variant(f) || (nested && is_nested) {
            let text: StringArray = (0..col.len())
                .map(|i| {
                    if col.is_null(i) {
                        return None;
                    }
                    let mut s = String::new();
                    json_cell(f, col, i, &mut s);
                    Some(s)
                })
                .collect();
            fields.push(Field::new(f.name(), DataType::Utf8, true));
            columns.push(Arc::new(text) as ArrayRef);
        } else {
            fields.push(f.as_ref().clone());
            columns.push(Arc::clone(col));
        }
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

/// A result as text cells: the header and each row's displayed values.
struct Cells {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Columns narrower than this are never cut to fit a terminal.
const MIN_FITTED: usize = 8;

impl Cells {
    fn of(schema: &Schema, batches: &[RecordBatch]) -> anyhow::Result<Cells> {
        let header = schema.fields().iter().map(|f| f.name().clone()).collect();
        let options = FormatOptions::default().with_null("NULL");
        let mut rows = Vec::new();
        for b in batches {
            let formatters: Vec<_> =
                b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options)).collect::<Result<_, _>>()?;
            for row in 0..b.num_rows() {
                rows.push(formatters.iter().map(|f| f.value(row).to_string()).collect());
            }
        }
        Ok(Cells { header, rows })
    }

    /// The widest line of each column.
    fn natural_widths(&self) -> Vec<usize> {
        let mut w: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (w, cell) in w.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        w
    }

    /// An aligned table, fitted to `fit` columns of text when given; also how many columns
    /// were left out to fit.
    fn table(&self, fit: Option<usize>) -> (String, usize) {
        let natural = self.natural_widths();
        let all: Vec<usize> = (0..natural.len()).collect();
        let (columns, widths) = match fit {
            Some(total) => fitted(&natural, total),
            None => (all.iter().map(|&i| Some(i)).collect(), natural.clone()),
        };
        let hidden = natural.len() - columns.iter().flatten().count();
        let rule = |out: &mut String| {
            out.push('+');
            for w in &widths {
                out.push_str(&"-".repeat(w + 2));
                out.push('+');
            }
            out.push('\n');
        };
        let line = |out: &mut String, cells: &[String]| {
            let parts: Vec<Vec<&str>> = columns
                .iter()
                .map(|c| match c {
                    Some(i) => cells[*i].split('\n').collect(),
                    None => vec!["…"],
                })
                .collect();
            let height = parts.iter().map(Vec::len).max().unwrap_or(1);
            for k in 0..height {
                out.push('|');
                for (p, w) in parts.iter().zip(&widths) {
                    let text = cut(p.get(k).copied().unwrap_or(""), *w);
                    out.push(' ');
                    out.push_str(&text);
                    out.push_str(&" ".repeat(w - width(&text) + 1));
                    out.push('|');
                }
                out.push('\n');
            }
        };
        let mut out = String::new();
        rule(&mut out);
        line(&mut out, &self.header);
        rule(&mut out);
        for row in &self.rows {
            line(&mut out, row);
        }
        rule(&mut out);
        (out, hidden)
    }

    /// A GitHub Markdown table.
    fn markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|").replace('\n', "<br>");
        let mut out = format!("| {} |\n", self.header.iter().map(|h| esc(h)).collect::<Vec<_>>().join(" | "));
        out.push_str(&format!("|{}\n", "---|".repeat(self.header.len())));
        for row in &self.rows {
            out.push_str(&format!("| {} |\n", row.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")));
        }
        out
    }

    /// Each row as `name = value` lines, names right-aligned, rows apart by a blank line.
    fn lines(&self) -> String {
        let w = self.header.iter().map(|h| width(h)).max().unwrap_or(0);
        let mut out = String::new();
        for (n, row) in self.rows.iter().enumerate() {
            if n > 0 {
                out.push('\n');
            }
            for (h, c) in self.header.iter().zip(row) {
                out.push_str(&format!("{}{h} = {c}\n", " ".repeat(w - width(h))));
            }
        }
        out
    }
}

/// The display width of the widest line of `s`.
fn width(s: &str) -> usize {
    s.split('\n').map(UnicodeWidthStr::width).max().unwrap_or(0)
}

/// `s` cut to `w` display columns, ending in `…` when cut.
fn cut(s: &str, w: usize) -> String {
    if s.width() <= w {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + cw + 1 > w {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

/// Which columns a table of `total` text columns shows (`None`: the `…` column standing for
/// those left out) and how wide each is. Columns keep their natural width when all fit;
/// else the widest are cut to one common width, no narrower than [`MIN_FITTED`]; when even
/// that is too wide, columns from the middle are left out.
fn fitted(natural: &[usize], total: usize) -> (Vec<Option<usize>>, Vec<usize>) {
    // Each column costs its width plus three (" | "), and the table one more.
    let cost = |ws: &[usize]| ws.iter().map(|w| w + 3).sum::<usize>() + 1;
    let least: Vec<usize> = natural.iter().map(|&w| w.min(MIN_FITTED)).collect();
    let mut columns: Vec<Option<usize>> = (0..natural.len()).map(Some).collect();
    if cost(&least) > total && natural.len() > 1 {
        // Take columns from both ends while they fit beside the `…` column.
        let (mut left, mut right) = (Vec::new(), Vec::new());
        let mut used = 1 + 4;
        let (mut i, mut j) = (0, natural.len());
        while i < j {
            let next = if left.len() <= right.len() { i } else { j - 1 };
            if used + least[next] + 3 > total {
                break;
            }
            used += least[next] + 3;
            if next == i {
                left.push(Some(i));
                i += 1;
            } else {
                right.push(Some(j - 1));
                j -= 1;
            }
        }
        right.reverse();
        columns = left.into_iter().chain([None]).chain(right).collect();
    }
    let wanted: Vec<usize> = columns.iter().map(|c| c.map_or(1, |i| natural[i])).collect();
    if cost(&wanted) <= total {
        return (columns, wanted);
    }
    // The largest common cap at which the columns fit.
    let floor: Vec<usize> = columns.iter().map(|c| c.map_or(1, |i| least[i])).collect();
    let capped = |cap: usize| -> Vec<usize> { wanted.iter().zip(&floor).map(|(&w, &f)| w.min(cap.max(f))).collect() };
    let mut cap = wanted.iter().copied().max().unwrap_or(0);
    while cap > MIN_FITTED && cost(&capped(cap)) > total {
        cap -= 1;
    }
    (columns, capped(cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(header: &[&str], rows: &[&[&str]]) -> Cells {
        Cells {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: rows.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect(),
        }
    }

    #[test]
    fn a_table_fits_the_terminal() {
        let c = cells(&["id", "message"], &[&["1", &"x".repeat(100)]]);
        let (text, hidden) = c.table(Some(40));
        assert_eq!(hidden, 0);
        assert!(text.lines().all(|l| l.width() <= 40), "{text}");
        assert!(text.contains("xxx…"), "{text}");
        let (text, _) = c.table(None);
        assert!(text.lines().any(|l| l.width() > 100));
    }

    #[test]
    fn middle_columns_are_left_out_when_even_cut_columns_do_not_fit() {
        let header: Vec<String> = (0..20).map(|i| format!("c{i:02}")).collect();
        let h: Vec<&str> = header.iter().map(String::as_str).collect();
        let c = cells(&h, &[&h]);
        let (text, hidden) = c.table(Some(60));
        assert!(hidden > 0);
        assert!(text.lines().all(|l| l.width() <= 60), "{text}");
        assert!(text.contains("| c00 |") && text.contains("| c19 |") && text.contains("| … |"), "{text}");
    }

    #[test]
    fn cut_counts_display_columns() {
        assert_eq!(cut("日本語テキスト", 7), "日本語…");
        assert_eq!(cut("short", 8), "short");
    }

    #[test]
    fn line_and_markdown_views() {
        let c = cells(&["a", "long"], &[&["1", "x|y"], &["2", "z"]]);
        assert_eq!(c.lines(), "   a = 1\nlong = x|y\n\n   a = 2\nlong = z\n");
        assert_eq!(c.markdown(), "| a | long |\n|---|---|\n| 1 | x\\|y |\n| 2 | z |\n");
    }
}
