//! The import report: what each file held, what was accepted, and every
//! problem with its file, row or feature, column and what was expected.

use serde::{Deserialize, Serialize};
use std::fmt;

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
        write!(f, ": {}", self.message)
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

    pub fn push(&mut self, severity: Severity, file: &str, location: Location, column: Option<&str>, message: impl Into<String>) {
        if let Some(s) = self.files.iter_mut().rev().find(|s| s.file == file)
            && severity == Severity::Warning
        {
            s.warnings += 1;
        }
        self.issues.push(ImportIssue {
            severity,
            file: file.to_string(),
            location,
            column: column.map(str::to_string),
            message: message.into(),
        });
    }

    pub fn error(&mut self, file: &str, location: Location, column: Option<&str>, message: impl Into<String>) {
        self.push(Severity::Error, file, location, column, message);
    }

    pub fn warning(&mut self, file: &str, location: Location, column: Option<&str>, message: impl Into<String>) {
        self.push(Severity::Warning, file, location, column, message);
    }

    pub fn error_count(&self) -> usize {
        self.issues.iter().filter(|i| i.severity == Severity::Error).count()
    }

    pub fn warning_count(&self) -> usize {
        self.issues.iter().filter(|i| i.severity == Severity::Warning).count()
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    pub fn merge(&mut self, other: ImportReport) {
        self.files.extend(other.files);
        self.issues.extend(other.issues);
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
}
