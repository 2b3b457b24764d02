//! Where statements end: at a `;` outside string literals, quoted identifiers and comments.
//! The shell feeds it what was typed so far; what is left is an unfinished statement, shown
//! with the continuation prompt.

/// What the scanner is inside of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum In {
    Code,
    /// `'...'`
    String,
    /// `"..."`
    Ident,
    /// `-- ...` to the end of the line.
    LineComment,
    /// `/* ... */`
    BlockComment,
}

/// Walks `text`, calling `code(i, byte)` for each byte outside literals, quoted identifiers
/// and comments (the quote that opens a literal or identifier included); returns what the
/// end of `text` is inside of, and where the last literal opened (after its quote).
fn scan(text: &str, mut code: impl FnMut(usize, u8)) -> (In, usize) {
    let b = text.as_bytes();
    let (mut state, mut opened, mut i) = (In::Code, 0, 0);
    while i < b.len() {
        let (c, next) = (b[i], b.get(i + 1).copied());
        match state {
            In::Code => match c {
                b'-' if next == Some(b'-') => (state, i) = (In::LineComment, i + 1),
                b'/' if next == Some(b'*') => (state, i) = (In::BlockComment, i + 1),
                _ => {
                    code(i, c);
                    match c {
                        b'\'' => (state, opened) = (In::String, i + 1),
                        b'"' => state = In::Ident,
                        _ => {}
                    }
                }
            },
            // A doubled quote inside a literal leaves and re-enters it: no special case.
            In::String if c == b'\'' => state = In::Code,
            In::Ident if c == b'"' => state = In::Code,
            In::LineComment if c == b'\n' => state = In::Code,
            In::BlockComment if c == b'*' && next == Some(b'/') => (state, i) = (In::Code, i + 1),
            _ => {}
        }
        i += 1;
    }
    (state, opened)
}

/// The complete statements in `text` (each without its `;`, trimmed, empty ones left out)
/// and the unfinished rest (empty when only blanks and comments follow the last `;`).
pub fn split(text: &str) -> (Vec<String>, String) {
    let mut statements = Vec::new();
    let mut start = 0;
    // Whether the current statement has anything but blanks and comments.
    let mut content = false;
    let (state, _) = scan(text, |i, c| {
        if c == b';' {
            if content {
                statements.push(text[start..i].trim().to_string());
            }
            (start, content) = (i + 1, false);
        } else if !c.is_ascii_whitespace() {
            content = true;
        }
    });
    let open = matches!(state, In::String | In::Ident | In::BlockComment);
    let rest = if content || open { text[start..].trim_start().to_string() } else { String::new() };
    (statements, rest)
}

/// True when `line`, typed with no statement pending, is a meta command (`.help`, `\d`).
pub fn is_meta(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('.') || t.starts_with('\\')
}

/// Where the single-quoted string literal open at the end of `text` starts (after its
/// quote), if one is open: the shell completes file paths there.
pub fn open_string(text: &str) -> Option<usize> {
    let (state, opened) = scan(text, |_, _| {});
    (state == In::String).then_some(opened)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn statements_end_at_semicolons_in_code_only() {
        assert_eq!(split("SELECT 1; SELECT 2;"), (s(&["SELECT 1", "SELECT 2"]), String::new()));
        assert_eq!(split("SELECT 1;\nSELECT\n  2"), (s(&["SELECT 1"]), "SELECT\n  2".to_string()));
        assert_eq!(split("SELECT ';' AS x;"), (s(&["SELECT ';' AS x"]), String::new()));
        assert_eq!(split("SELECT 'it''s;' AS x;"), (s(&["SELECT 'it''s;' AS x"]), String::new()));
        assert_eq!(split("SELECT \"a;b\" FROM t;"), (s(&["SELECT \"a;b\" FROM t"]), String::new()));
        assert_eq!(split("SELECT 1 -- a; comment\n;"), (s(&["SELECT 1 -- a; comment"]), String::new()));
        assert_eq!(split("SELECT /* ; */ 1;"), (s(&["SELECT /* ; */ 1"]), String::new()));
    }

    #[test]
    fn blanks_and_comments_are_not_a_pending_statement() {
        assert_eq!(split("SELECT 1; -- done\n"), (s(&["SELECT 1"]), String::new()));
        assert_eq!(split(" ; ;\n"), (vec![], String::new()));
        assert_eq!(split("SELECT 'open;\n"), (vec![], "SELECT 'open;\n".to_string()));
        assert_eq!(split("/* open\n"), (vec![], "/* open\n".to_string()));
    }

    #[test]
    fn open_strings_are_found() {
        assert_eq!(open_string("SELECT * FROM 'testdata/lo"), Some(15));
        assert_eq!(open_string("SELECT 'a' FROM t"), None);
        assert_eq!(open_string("SELECT \"it's\" FROM 'x"), Some(20));
        assert!(is_meta("  .schema t") && is_meta("\\d") && !is_meta("SELECT 1"));
    }
}
