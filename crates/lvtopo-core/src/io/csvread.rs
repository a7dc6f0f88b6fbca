//! Shared plumbing of the CSV readers: opening plain or gzip-compressed files,
//! header checks, and per-file issue lists that stay readable on big files.

use super::report::{ImportReport, Location, Severity, shown};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Issues listed one by one per file and column before they are only counted.
pub const ISSUES_LISTED_PER_COLUMN: usize = 20;

/// File name as shown in the report.
pub fn label(path: &Path) -> String {
    path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

pub fn is_gz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// A reader over the file's text, decompressing `.gz`.
pub fn open(path: &Path) -> Result<Box<dyn Read + Send>, String> {
    let f = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("file not found: {}", path.display()),
        _ => format!("cannot read {}: {e}", path.display()),
    })?;
    let f = std::io::BufReader::with_capacity(1 << 20, f);
    Ok(if is_gz(path) { Box::new(flate2::read::MultiGzDecoder::new(f)) } else { Box::new(f) })
}

/// Message for a read error in the middle of a file (truncated gzip above all).
pub fn read_error_message(path: &Path, e: &std::io::Error, bytes_ok: u64) -> String {
    if is_gz(path) {
        format!("the gzip data is truncated or corrupt ({e}) after {bytes_ok} bytes of text; the rest of the file is missing")
    } else {
        format!("read error after {bytes_ok} bytes: {e}")
    }
}

/// The normalised column names of a file's first line (at most [`MAX_ROW_BYTES`] read), `None` when unreadable.
pub fn peek_header(path: &Path) -> Option<Vec<String>> {
    let mut r = std::io::BufReader::new(open(path).ok()?.take(MAX_ROW_BYTES as u64));
    let mut line = Vec::new();
    std::io::BufRead::read_until(&mut r, b'\n', &mut line).ok()?;
    Some(String::from_utf8_lossy(&line).split(',').map(norm_column).collect())
}

/// Where the requested columns are in the header.
pub struct Header {
    /// Index in the row per requested column (`None` when an optional column is absent).
    pub index: Vec<Option<usize>>,
    /// Number of fields of the header: every row must have as many.
    pub fields: usize,
}

/// Longest row (and header) read: past it the file is refused, so memory stays
/// bounded by this, not by the widest row of a hostile file.
pub const MAX_ROW_BYTES: usize = 1 << 20;
/// Most fields a row or header may have.
pub const MAX_FIELDS: usize = 10_000;

/// The file-level diagnosis of a header split at `,` that holds the contract's
/// columns when split at `;` instead: a spreadsheet export in Dutch settings.
fn semicolon_diagnosis(fields: &[String], required: &[&str]) -> Option<String> {
    let line = fields.join(",");
    if !line.contains(';') {
        return None;
    }
    let cols: Vec<String> = line.split(';').map(norm_column).collect();
    required.iter().all(|c| cols.iter().any(|f| f == c)).then(|| {
        format!(
            "this file uses \";\" between fields (a spreadsheet export in Dutch settings, which also writes \
             decimal commas); lvtopo reads comma-separated files with a decimal point: save it as CSV with \
             \",\" between fields and \".\" as decimal sign (header found: {})",
            shown(&line)
        )
    })
}

fn norm_column(f: &str) -> String {
    f.trim().trim_start_matches('\u{feff}').trim_matches('"').to_ascii_lowercase()
}

/// Checks a header row. Missing required columns are one error each (file level),
/// or one diagnosis when the file uses `;`; columns outside the contract one warning
/// listing them. `Err(())` when the header is unusable (the errors are already in the report).
#[allow(clippy::result_unit_err)]
pub fn check_header(
    fields: &[String],
    required: &[&str],
    optional: &[&str],
    file: &str,
    report: &mut ImportReport,
) -> Result<Header, ()> {
    if fields.len() > MAX_FIELDS {
        report.error(
            file,
            Location::File,
            None,
            format!(
                "the header has {} fields, more than the limit of {MAX_FIELDS}; expected {}",
                fields.len(),
                required.join(",")
            ),
        );
        return Err(());
    }
    let norm: Vec<String> = fields.iter().map(|f| norm_column(f)).collect();
    let missing: Vec<&str> = required.iter().copied().filter(|c| !norm.iter().any(|f| f == c)).collect();
    if !missing.is_empty()
        && let Some(msg) = semicolon_diagnosis(fields, required)
    {
        report.error(file, Location::File, None, msg);
        return Err(());
    }
    let header_text =
        if norm.len() <= 20 { norm.join(", ") } else { format!("{}, ... ({} columns)", norm[..5].join(", "), norm.len()) };
    for &c in &missing {
        report.error(file, Location::File, Some(c), format!("missing required column {c:?} (the header has: {header_text})"));
    }
    let index: Vec<Option<usize>> = required.iter().chain(optional).map(|c| norm.iter().position(|f| f == c)).collect();
    let extra: Vec<&str> = norm.iter().map(String::as_str).filter(|f| !required.contains(f) && !optional.contains(f)).collect();
    if extra.len() <= 5 {
        for f in &extra {
            report.warning(file, Location::File, Some(f), "column is not part of the data contract and is ignored");
        }
    } else {
        let first: Vec<String> = extra.iter().take(5).map(|c| shown(c)).collect();
        let more = if extra.len() > 5 { format!(" and {} more", extra.len() - 5) } else { String::new() };
        report.warning(
            file,
            Location::File,
            None,
            format!("{} column(s) not part of the data contract are ignored: {}{more}", extra.len(), first.join(", ")),
        );
    }
    if missing.is_empty() { Ok(Header { index, fields: norm.len() }) } else { Err(()) }
}

/// The hint for a row with more fields than the header where a number seems split
/// at a decimal comma (`...,236,4`): two neighbouring fields of digits.
pub fn decimal_comma_hint<'a>(fields: impl Iterator<Item = &'a [u8]>) -> bool {
    let digits = |f: &[u8]| {
        let f = f.trim_ascii();
        let f = f.strip_prefix(b"-").unwrap_or(f);
        !f.is_empty() && f.iter().all(u8::is_ascii_digit)
    };
    let mut prev = false;
    for f in fields {
        let d = digits(f);
        if prev && d {
            return true;
        }
        prev = d;
    }
    false
}

/// The message for a row whose field count differs from the header's.
pub fn field_count_message(expected: usize, found: usize, decimal_comma: bool) -> String {
    let mut m = format!("expected {expected} fields like the header, found {found}");
    if found > expected && decimal_comma {
        m.push_str("; decimal comma? quote the field or use a dot");
    }
    m
}

/// The file-level diagnosis when most rows looked split at decimal commas.
pub fn decimal_comma_diagnosis(rows_with_hint: usize, rows: usize) -> Option<String> {
    (rows_with_hint > 0 && rows_with_hint * 2 >= rows).then(|| {
        format!(
            "{rows_with_hint} of {rows} rows have more fields than the header where a number was split at a \
             decimal comma (a spreadsheet export in Dutch settings?); lvtopo reads numbers with a decimal \
             point: save the file with \".\" as decimal sign"
        )
    })
}

/// Issues of one file: the first [`ISSUES_LISTED_PER_COLUMN`] per (severity,
/// column) are listed, the rest counted and summed up by [`Self::finish`].
pub struct FileIssues {
    pub file: String,
    counts: HashMap<(Severity, Option<&'static str>), usize>,
}

impl FileIssues {
    pub fn new(file: &str) -> Self {
        FileIssues { file: file.to_string(), counts: HashMap::new() }
    }
    pub fn push(
        &mut self,
        report: &mut ImportReport,
        severity: Severity,
        row: usize,
        column: Option<&'static str>,
        msg: impl Into<String>,
    ) {
        let n = self.counts.entry((severity, column)).or_default();
        *n += 1;
        if *n <= ISSUES_LISTED_PER_COLUMN {
            report.push(severity, &self.file, Location::Row(row), column, msg);
        } else if severity == Severity::Warning {
            // Still counted in the file's warnings.
            if let Some(s) = report.files.iter_mut().rev().find(|s| s.file == self.file) {
                s.warnings += 1;
            }
        }
    }
    pub fn error(&mut self, report: &mut ImportReport, row: usize, column: Option<&'static str>, msg: impl Into<String>) {
        self.push(report, Severity::Error, row, column, msg);
    }
    pub fn warning(&mut self, report: &mut ImportReport, row: usize, column: Option<&'static str>, msg: impl Into<String>) {
        self.push(report, Severity::Warning, row, column, msg);
    }
    /// Adds one summary issue per (severity, column) whose issues were not all listed.
    pub fn finish(self, report: &mut ImportReport) {
        let mut rest: Vec<_> = self.counts.into_iter().filter(|(_, n)| *n > ISSUES_LISTED_PER_COLUMN).collect();
        rest.sort_by_key(|((s, c), _)| (*s, *c));
        for ((sev, col), n) in rest {
            let what = if sev == Severity::Error { "rows rejected" } else { "warnings" };
            let msg = format!("{} more {what} of this kind not listed ({n} in total)", n - ISSUES_LISTED_PER_COLUMN);
            report.push_issue(super::report::ImportIssue {
                severity: sev,
                file: self.file.clone(),
                location: Location::File,
                column: col.map(str::to_string),
                message: msg,
                repeated: 0,
            });
        }
    }
}

/// Parses `true`/`false` (also `1`/`0`, `yes`/`no`, `ja`/`nee`); `Ok(None)` for empty.
pub fn parse_bool(s: &str) -> Result<Option<bool>, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "1" | "yes" | "y" | "ja" | "j" | "t" => Ok(Some(true)),
        "false" | "0" | "no" | "n" | "nee" | "f" => Ok(Some(false)),
        _ => Err(format!("expected true or false, found {:?}", s.trim())),
    }
}

/// One data row of a small CSV file: its row number and the requested columns' values.
pub struct Row<'a> {
    pub row: usize,
    pub fields: Vec<&'a str>,
}

/// A reader that refuses a row longer than [`MAX_ROW_BYTES`]: bytes since the last
/// newline outside quotes are counted, so the CSV parser never buffers more.
struct RowLimit<R> {
    inner: R,
    since_newline: usize,
    in_quotes: bool,
}

impl<R: Read> Read for RowLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            match b {
                b'"' => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => self.since_newline = 0,
                _ => {}
            }
            self.since_newline += 1;
            if self.since_newline > MAX_ROW_BYTES {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, RowTooLong));
            }
        }
        Ok(n)
    }
}

#[derive(Debug)]
struct RowTooLong;

impl std::fmt::Display for RowTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a row longer than {} MB", MAX_ROW_BYTES >> 20)
    }
}

impl std::error::Error for RowTooLong {}

/// The message of a CSV read error: the row limit, a damaged gzip stream, or the parser's.
fn read_failure(path: &Path, e: &csv::Error, row: usize, bytes: u64) -> String {
    if let csv::ErrorKind::Io(io) = e.kind() {
        if io.get_ref().is_some_and(|i| i.is::<RowTooLong>()) {
            return format!(
                "row {row} is longer than {} MB (the limit of a row); expected one row per line. The rest of the file is not read",
                MAX_ROW_BYTES >> 20
            );
        }
        return format!("{}; rows before row {row} were read", read_error_message(path, io, bytes));
    }
    format!("unreadable CSV at row {row}: {e}")
}

/// Streams a small CSV file (one row in memory at a time) and calls `each` per
/// data row with the requested columns (required first, then optional; absent
/// optional columns give ""). File errors (unreadable, empty, missing columns,
/// a row past the limits) are reported at file level; a row whose field count
/// differs from the header's, or that is not UTF-8, is a row error and not passed
/// on. Returns the file's summary index, `None` when the header was unusable.
pub fn read_small_csv(
    path: &Path,
    required: &[&str],
    optional: &[&str],
    report: &mut ImportReport,
    issues: &mut FileIssues,
    mut each: impl FnMut(&Row<'_>, &mut FileIssues, &mut ImportReport),
) -> Option<usize> {
    let file = label(path);
    let fi = report.begin_file(&file);
    let reader = match open(path) {
        Ok(r) => r,
        Err(e) => {
            report.error(&file, Location::File, None, e);
            return None;
        }
    };
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(RowLimit {
        inner: reader,
        since_newline: 0,
        in_quotes: false,
    });
    let mut rec = csv::ByteRecord::new();
    let header = loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => {
                let msg = format!("the file is empty; expected a header row with {}", required.join(","));
                report.error(&file, Location::File, None, msg);
                return None;
            }
            Ok(true) if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) => continue,
            Ok(true) => break rec.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect::<Vec<_>>(),
            Err(e) => {
                let msg = read_failure(path, &e, 0, 0).replace("row 0 is", "the header row is");
                report.error(&file, Location::File, None, msg);
                return None;
            }
        }
    };
    let header = check_header(&header, required, optional, &file, report).ok()?;
    let (mut hinted, mut rows) = (0usize, 0usize);
    loop {
        let row = (rdr.position().line() as usize).saturating_sub(1);
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                    continue;
                }
                let row = rec.position().map(|p| p.line() as usize - 1).unwrap_or(row);
                rows += 1;
                report.file_mut(fi).rows_read += 1;
                if rec.len() != header.fields {
                    let hint = decimal_comma_hint(rec.iter());
                    hinted += usize::from(hint && rec.len() > header.fields);
                    report.file_mut(fi).rejected += 1;
                    issues.error(report, row, None, field_count_message(header.fields, rec.len(), hint));
                    continue;
                }
                let Ok(text) = std::str::from_utf8(rec.as_slice()) else {
                    report.file_mut(fi).rejected += 1;
                    issues.error(report, row, None, "expected UTF-8 text");
                    continue;
                };
                let _ = text;
                let fields: Vec<&str> = header
                    .index
                    .iter()
                    .map(|i| i.and_then(|i| rec.get(i)).map(|f| std::str::from_utf8(f).unwrap_or("").trim()).unwrap_or(""))
                    .collect();
                each(&Row { row, fields }, issues, report);
            }
            Err(e) => {
                let bytes = e.position().map(|p| p.byte()).unwrap_or(0);
                let row = e.position().map(|p| p.line() as usize - 1).unwrap_or(row);
                report.error(&file, Location::File, None, read_failure(path, &e, row.max(1), bytes));
                break;
            }
        }
    }
    if let Some(msg) = decimal_comma_diagnosis(hinted, rows) {
        report.error(&file, Location::File, None, msg);
    }
    Some(fi)
}
