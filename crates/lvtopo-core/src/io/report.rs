//! The import report: what each file held, what was accepted, and every
//! problem with its file, row or feature, column and what was expected.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// Characters of a value shown in a message; the rest is counted, not echoed.
pub const SHOWN_CHARS: usize = 80;
/// Longest message kept whole (a safety net for values not cut by [`shown`]).
const MAX_MESSAGE: usize = 2000;

/// A value for a message: quoted, and cut to its first [`SHOWN_CHARS`] characters
/// plus its length when longer (a 100 MB field is never echoed whole).
pub fn shown(value: &str) -> String {
    let n = value.chars().count();
    if n <= SHOWN_CHARS {
        return format!("{value:?}");
    }
    let head: String = value.chars().take(SHOWN_CHARS).collect();
    format!("{head:?}... ({n} characters)")
}

/// [`shown`] for raw bytes (not necessarily UTF-8).
pub fn shown_bytes(value: &[u8]) -> String {
    if value.len() > 4 * SHOWN_CHARS {
        let head = String::from_utf8_lossy(&value[..4 * SHOWN_CHARS]);
        let head: String = head.chars().take(SHOWN_CHARS).collect();
        return format!("{head:?}... ({} bytes)", value.len());
    }
    shown(&String::from_utf8_lossy(value))
}

fn cut_message(mut m: String) -> String {
    if m.len() > MAX_MESSAGE {
        let n = m.chars().count();
        let mut end = MAX_MESSAGE;
        while !m.is_char_boundary(end) {
            end -= 1;
        }
        m.truncate(end);
        m.push_str(&format!("... (message of {n} characters cut)"));
    }
    m
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    /// Read and kept, but worth a look (e.g. an EAN check digit that does not verify).
    Warning,
    /// The row/feature was rejected, or the whole file could not be read.
    Error,
}

/// Where in a file a problem is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Location {
    /// The file as a whole (missing column, unsupported CRS, unreadable).
    File,
    /// 1-based data row of a CSV (the header is row 0), as a spreadsheet user counts after the header.
    Row(usize),
    /// 1-based feature number in a GeoJSON file or GeoPackage layer, with its id when known.
    Feature { number: usize, id: Option<String> },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => Ok(()),
            Location::Row(r) => write!(f, "row {r}"),
            Location::Feature { number, id: Some(id) } => write!(f, "feature {number} ({id})"),
            Location::Feature { number, id: None } => write!(f, "feature {number}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportIssue {
    pub severity: Severity,
    /// File name (or `file.gpkg:layer`).
    pub file: String,
    pub location: Location,
    pub column: Option<String>,
    /// What was expected and what was found.
    pub message: String,
    /// How many more rows/features of the same file had the same message (collapsed into this one).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub repeated: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl fmt::Display for ImportIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{sev}: {}", self.file)?;
        if self.location != Location::File {
            write!(f, " {}", self.location)?;
        }
        if let Some(c) = &self.column {
            write!(f, ", column {c:?}")?;
        }
        write!(f, ": {}", self.message)?;
        if self.repeated > 0 {
            let what = match self.location {
                Location::Feature { .. } => "features",
                _ => "rows",
            };
            write!(f, " (and {} more {what} with the same message)", self.repeated)?;
        }
        Ok(())
    }
}

/// Counts for one file (or GeoPackage layer).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileSummary {
    pub file: String,
    pub rows_read: usize,
    pub accepted: usize,
    pub rejected: usize,
    /// Exact duplicate rows collapsed into one.
    pub duplicates: usize,
    pub warnings: usize,
    /// Per column, how many accepted rows/features said "not known" (empty or an
    /// unknown marker) in a column the inference fills in (`phase`, `cable_id`, `feeder_id`).
    #[serde(default)]
    pub unknown: std::collections::BTreeMap<String, usize>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub files: Vec<FileSummary>,
    pub issues: Vec<ImportIssue>,
    /// Index in `issues` per (severity, file, column, message): a repeat is counted there.
    #[serde(skip)]
    seen: HashMap<(Severity, String, Option<String>, String), usize>,
}

impl ImportReport {
    /// Starts the summary of a file; returns its index for [`Self::file_mut`].
    pub fn begin_file(&mut self, file: impl Into<String>) -> usize {
        self.files.push(FileSummary { file: file.into(), ..Default::default() });
        self.files.len() - 1
    }

    pub fn file_mut(&mut self, i: usize) -> &mut FileSummary {
        &mut self.files[i]
    }

    /// Adds an issue. The same message for the same file and column again (another
    /// row with the same missing value, say) is counted on the first one instead.
    pub fn push(&mut self, severity: Severity, file: &str, location: Location, column: Option<&str>, message: impl Into<String>) {
        if let Some(s) = self.files.iter_mut().rev().find(|s| s.file == file)
            && severity == Severity::Warning
        {
            s.warnings += 1;
        }
        let message = cut_message(message.into());
        let key = (severity, file.to_string(), column.map(str::to_string), message);
        if location != Location::File
            && let Some(&i) = self.seen.get(&key)
        {
            self.issues[i].repeated += 1;
            return;
        }
        let (severity, file, column, message) = key.clone();
        self.issues.push(ImportIssue { severity, file, location, column, message, repeated: 0 });
        self.seen.insert(key, self.issues.len() - 1);
    }

    /// Adds an issue as it is (no collapsing): a summary line.
    pub fn push_issue(&mut self, issue: ImportIssue) {
        self.issues.push(issue);
    }

    pub fn error(&mut self, file: &str, location: Location, column: Option<&str>, message: impl Into<String>) {
        self.push(Severity::Error, file, location, column, message);
    }

    pub fn warning(&mut self, file: &str, location: Location, column: Option<&str>, message: impl Into<String>) {
        self.push(Severity::Warning, file, location, column, message);
    }

    /// Errors, each collapsed repeat counted.
    pub fn error_count(&self) -> usize {
        self.issues.iter().filter(|i| i.severity == Severity::Error).map(|i| 1 + i.repeated).sum()
    }

    /// Warnings, each collapsed repeat counted.
    pub fn warning_count(&self) -> usize {
        self.issues.iter().filter(|i| i.severity == Severity::Warning).map(|i| 1 + i.repeated).sum()
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    pub fn merge(&mut self, other: ImportReport) {
        self.files.extend(other.files);
        for i in other.issues {
            let key = (i.severity, i.file.clone(), i.column.clone(), i.message.clone());
            self.seen.entry(key).or_insert(self.issues.len());
            self.issues.push(i);
        }
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<40} {:>9} {:>9} {:>9} {:>6} {:>8}", "file", "read", "accepted", "rejected", "dups", "warnings")?;
        for s in &self.files {
            writeln!(
                f,
                "{:<40} {:>9} {:>9} {:>9} {:>6} {:>8}",
                s.file, s.rows_read, s.accepted, s.rejected, s.duplicates, s.warnings
            )?;
        }
        for s in self.files.iter().filter(|s| !s.unknown.is_empty()) {
            let cols: Vec<String> = s.unknown.iter().map(|(c, n)| format!("{c} {n}")).collect();
            writeln!(f, "{}: not known in GIS, to be filled in: {}", s.file, cols.join(", "))?;
        }
        for i in &self.issues {
            writeln!(f, "{i}")?;
        }
        write!(f, "{} error(s), {} warning(s)", self.error_count(), self.warning_count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_names_file_row_column_and_expectation() {
        let mut r = ImportReport::default();
        r.begin_file("voltage.csv");
        r.error("voltage.csv", Location::Row(12), Some("voltage_v"), "expected a number, found \"2x0\"");
        assert_eq!(r.issues[0].to_string(), "error: voltage.csv row 12, column \"voltage_v\": expected a number, found \"2x0\"");
        assert!(r.has_errors());
    }

    #[test]
    fn repeats_collapse_and_long_values_are_cut() {
        let mut r = ImportReport::default();
        r.begin_file("connections.geojson");
        for n in 1..=570 {
            r.error("connections.geojson", Location::Feature { number: n, id: None }, Some("phase"), "required value is missing");
        }
        assert_eq!(r.issues.len(), 1);
        assert_eq!(r.error_count(), 570);
        assert!(r.issues[0].to_string().ends_with("(and 569 more features with the same message)"), "{}", r.issues[0]);
        let long = "x".repeat(100_000_000 / 1000);
        let s = shown(&long);
        assert!(s.starts_with("\"xxxx") && s.ends_with("... (100000 characters)") && s.len() < 120, "{s}");
        r.error("connections.geojson", Location::Feature { number: 1, id: None }, None, format!("found {long}"));
        assert!(r.issues[1].message.len() < 2100 && r.issues[1].message.ends_with("characters cut)"));
    }
}
