//! Shared plumbing of the CSV readers: opening plain or gzip-compressed files,
//! header checks, and per-file issue lists that stay readable on big files.

use super::report::{ImportReport, Location, Severity};
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

/// Reads the whole (decompressed) file. On a read error the bytes read so far
/// are returned with the message, so the complete rows are still used.
pub fn read_all(path: &Path) -> Result<(Vec<u8>, Option<String>), String> {
    let mut r = open(path)?;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        match r.read(&mut chunk) {
            Ok(0) => return Ok((buf, None)),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let msg = read_error_message(path, &e, buf.len() as u64);
                // Drop an incomplete last line: it is part of the damage.
                let keep = buf.iter().rposition(|&b| b == b'\n').map(|i| i + 1).unwrap_or(0);
                buf.truncate(keep);
                return Ok((buf, Some(msg)));
            }
        }
    }
}

/// Where the requested columns are in the header.
pub struct Header {
    /// Index in the row per requested column (`None` when an optional column is absent).
    pub index: Vec<Option<usize>>,
}

/// Checks a header row. Missing required columns are one error each (file level);
/// extra columns a warning each. `Err(())` when a required column is missing (the
/// errors themselves are already in the report).
#[allow(clippy::result_unit_err)]
pub fn check_header(
    fields: &[String],
    required: &[&str],
    optional: &[&str],
    file: &str,
    report: &mut ImportReport,
) -> Result<Header, ()> {
    let norm: Vec<String> =
        fields.iter().map(|f| f.trim().trim_start_matches('\u{feff}').trim_matches('"').to_ascii_lowercase()).collect();
    let mut index = Vec::new();
    let mut missing = false;
    for &c in required {
        let i = norm.iter().position(|f| f == c);
        if i.is_none() {
            report.error(
                file,
                Location::File,
                Some(c),
                format!("missing required column {c:?} (the header has: {})", norm.join(", ")),
            );
            missing = true;
        }
        index.push(i);
    }
    for &c in optional {
        index.push(norm.iter().position(|f| f == c));
    }
    for f in &norm {
        if !required.contains(&f.as_str()) && !optional.contains(&f.as_str()) {
            report.warning(file, Location::File, Some(f), "column is not part of the data contract and is ignored");
        }
    }
    if missing { Err(()) } else { Ok(Header { index }) }
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
            report.issues.push(super::report::ImportIssue {
                severity: sev,
                file: self.file.clone(),
                location: Location::File,
                column: col.map(str::to_string),
                message: msg,
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

/// Parsed small CSV: header checked, rows with the requested columns in order
/// (required first, then optional; absent optional columns give "").
pub struct SmallCsv {
    pub records: Vec<(usize, csv::StringRecord)>,
    pub header: Header,
}

impl SmallCsv {
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.records.iter().map(|(row, rec)| Row {
            row: *row,
            fields: self.header.index.iter().map(|i| i.and_then(|i| rec.get(i)).unwrap_or("").trim()).collect(),
        })
    }
}

/// Reads a small CSV file fully: empty file, unreadable file and missing
/// columns are file errors (`None`); rows that are not valid UTF-8 are row errors.
/// Opens the file's summary in the report (index returned).
pub fn read_small_csv(path: &Path, required: &[&str], optional: &[&str], report: &mut ImportReport) -> (usize, Option<SmallCsv>) {
    let file = label(path);
    let fi = report.begin_file(&file);
    let (bytes, read_err) = match read_all(path) {
        Ok(r) => r,
        Err(e) => {
            report.error(&file, Location::File, None, e);
            return (fi, None);
        }
    };
    if let Some(e) = &read_err {
        report.error(&file, Location::File, None, e.clone());
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) && read_err.is_none() {
        report.error(
            &file,
            Location::File,
            None,
            format!("the file is empty; expected a header row with {}", required.join(",")),
        );
        return (fi, None);
    }
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes.as_slice());
    let mut records = rdr.byte_records();
    let header = match records.next() {
        Some(Ok(h)) => h.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect::<Vec<_>>(),
        _ => {
            report.error(&file, Location::File, None, "cannot read the header row");
            return (fi, None);
        }
    };
    let Ok(header) = check_header(&header, required, optional, &file, report) else {
        return (fi, None);
    };
    let mut out = Vec::new();
    let mut issues = FileIssues::new(&file);
    for r in records {
        match r {
            Ok(rec) => {
                let row = rec.position().map(|p| p.line() as usize - 1).unwrap_or(out.len() + 1);
                if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                    continue;
                }
                report.file_mut(fi).rows_read += 1;
                match csv::StringRecord::from_byte_record(rec) {
                    Ok(s) => out.push((row, s)),
                    Err(e) => {
                        report.file_mut(fi).rejected += 1;
                        issues.error(report, row, None, format!("expected UTF-8 text: {e}"));
                    }
                }
            }
            Err(e) => {
                let row = e.position().map(|p| p.line() as usize - 1).unwrap_or(0);
                report.file_mut(fi).rows_read += 1;
                report.file_mut(fi).rejected += 1;
                issues.error(report, row, None, format!("unreadable CSV row: {e}"));
            }
        }
    }
    issues.finish(report);
    (fi, Some(SmallCsv { records: out, header }))
}
