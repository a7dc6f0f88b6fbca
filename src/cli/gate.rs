//! What the commands share before they write: outputs that would replace an
//! input are refused before anything is read, and an import with errors writes
//! nothing unless `--keep-going` says to write the results without the rejected rows.

use lvtopo_core::io::inputs::InputSet;
use lvtopo_core::io::{ImportReport, Location, Severity};
use std::path::Path;
use std::process::ExitCode;

/// Exit code of a run that wrote its outputs with `--keep-going` while rows were left out.
pub const EXIT_LEFT_OUT: u8 = 3;

/// Refuses outputs that are inputs (see [`InputSet`]).
pub fn refuse_overwriting_inputs<'a>(inputs: &InputSet, outputs: impl IntoIterator<Item = &'a Path>) -> anyhow::Result<()> {
    inputs.check_outputs(outputs).map_err(anyhow::Error::msg)
}

/// Whether the import may go on to write; prints the report. A file that could not be
/// read at all stops the run; rejected rows stop it unless `keep_going`. Returns the
/// line that tells what was left out (`None` when nothing was).
pub fn import_gate(report: &ImportReport, keep_going: bool) -> anyhow::Result<Option<String>> {
    if !report.issues.is_empty() {
        eprintln!("{report}");
    }
    if report.issues.iter().any(|i| i.severity == Severity::Error && i.location == Location::File) {
        anyhow::bail!("an input file could not be read (see the report above); nothing was written");
    }
    if !report.has_errors() {
        return Ok(None);
    }
    let left: Vec<String> =
        report.files.iter().filter(|f| f.rejected > 0).map(|f| format!("{} row(s) of {}", f.rejected, f.file)).collect();
    let what = if left.is_empty() { format!("{} error(s)", report.error_count()) } else { left.join(", ") };
    if !keep_going {
        anyhow::bail!(
            "the import found {} error(s) (see above): {what} rejected; nothing was written. \
             Fix the input, or pass --keep-going to write the results without the rejected rows",
            report.error_count()
        );
    }
    Ok(Some(format!("--keep-going: left out {what}; the results do not include them")))
}

/// The exit code of a run that wrote its outputs: [`EXIT_LEFT_OUT`] when rows were left out.
pub fn exit_code(left_out: &Option<String>) -> ExitCode {
    match left_out {
        Some(msg) => {
            println!("{msg}");
            ExitCode::from(EXIT_LEFT_OUT)
        }
        None => ExitCode::SUCCESS,
    }
}
