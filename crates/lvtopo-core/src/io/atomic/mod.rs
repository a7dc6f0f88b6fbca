//! The one atomic file write of lvtopo. Every file the program writes for a user
//! goes through here:
//!
//! 1. stale temp files of an earlier, killed run for the same target are removed;
//! 2. the content goes to a hidden temp file in the target's folder
//!    (`.<name>.lvtopo-<pid>-<n>.tmp`: same file system, so the rename is atomic);
//! 3. the temp file is flushed and fsync'ed, given the mode of a normal file
//!    (the existing target's mode, else 0666 minus the umask; [`Mode::Private`]: 0600);
//! 4. it is renamed over the target and the folder is fsync'ed, so the rename
//!    itself survives a power cut.
//!
//! A crash or `kill -9` leaves the old file or the new one, never half of one;
//! the temp file it leaves is removed by the next write of the same target.
//! Several files that belong together (a report and its table, the CSV set of
//! `outage`) go through [`OutputSet`]: all are written first, then moved into
//! place together, or none is.
//!
//! Errors name the target path, never only the temp file.

mod set;
mod temp;

pub use set::OutputSet;

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use temp::{TempFile, cleanup_stale, folder_of, sync_dir};

/// File permissions of a written file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// A normal user file: the existing target's mode, or 0666 minus the umask.
    #[default]
    Normal,
    /// Only the owner may read it (keys, secrets): 0600.
    Private,
}

/// `err` with the target path in front, so the message names the file the user asked for.
pub(crate) fn name_error(path: &Path, what: &str, err: io::Error) -> io::Error {
    let msg = err.to_string();
    if msg.contains(&path.display().to_string()) {
        return err;
    }
    io::Error::new(err.kind(), format!("cannot {what} {}: {msg}", path.display()))
}

/// Refuses a target that is a folder (a rename over it would fail late, or replace an empty one).
fn check_target(path: &Path) -> io::Result<()> {
    if path.file_name().is_none() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{}: expected a file name", path.display())));
    }
    if path.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            format!("cannot write {}: it is a folder, expected a file name", path.display()),
        ));
    }
    Ok(())
}

/// Moves a finished temp file over `path` and makes the rename durable.
fn install(tmp: TempFile, path: &Path) -> io::Result<()> {
    tmp.finish(path)?;
    fs::rename(tmp.path(), path).map_err(|e| name_error(path, "write", e))?;
    tmp.disarm();
    sync_dir(&folder_of(path));
    Ok(())
}

/// Writes `path` through `fill` with [`Mode::Normal`]; the file appears complete or not at all.
pub fn write_atomic<F>(path: &Path, fill: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    write_atomic_mode(path, Mode::Normal, fill)
}

/// [`write_atomic`] with the given [`Mode`].
pub fn write_atomic_mode<F>(path: &Path, mode: Mode, fill: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    check_target(path)?;
    let dir = folder_of(path);
    fs::create_dir_all(&dir).map_err(|e| name_error(&dir, "create the folder", e))?;
    cleanup_stale(path);
    let tmp = TempFile::create(path, mode)?;
    {
        let mut w = BufWriter::with_capacity(1 << 16, tmp.file());
        fill(&mut w).map_err(|e| name_error(path, "write", e))?;
        w.flush().map_err(|e| name_error(path, "write", e))?;
    }
    install(tmp, path)
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes(path: &Path, mode: Mode, bytes: &[u8]) -> io::Result<()> {
    write_atomic_mode(path, mode, |w| w.write_all(bytes))
}

/// Writes `path` atomically with a writer that needs a path of its own (SQLite
/// for a GeoPackage): `write` gets an empty temp file's path in the target folder,
/// renamed over `path` when `write` succeeds. SQLite's own side files of the temp
/// (`-journal`, `-wal`, `-shm`) are removed with it.
pub fn write_atomic_via_path<T, E>(path: &Path, write: impl FnOnce(&Path) -> Result<T, E>) -> Result<T, E>
where
    E: From<io::Error>,
{
    check_target(path)?;
    let dir = folder_of(path);
    fs::create_dir_all(&dir).map_err(|e| name_error(&dir, "create the folder", e))?;
    cleanup_stale(path);
    let tmp = TempFile::create(path, Mode::Normal)?;
    let out = write(tmp.path())?;
    install(tmp, path)?;
    Ok(out)
}

/// Writes `path` through `fill`, gzip-compressed when the name ends in `.gz`.
pub fn write_atomic_maybe_gz<F>(path: &Path, fill: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    write_atomic(path, |w| gz_or_plain(path, w, fill))
}

/// Runs `fill` on `w`, through a gzip encoder when `path` ends in `.gz`.
pub(crate) fn gz_or_plain<F>(path: &Path, w: &mut dyn Write, fill: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    if !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz")) {
        return fill(w);
    }
    // Header mtime stays 0 so the same content gives the same bytes.
    let enc = flate2::write::GzEncoder::new(w, flate2::Compression::new(3));
    // The encoder pays per write call: feed it large blocks, not CSV fields.
    let mut buf = BufWriter::with_capacity(1 << 17, enc);
    fill(&mut buf)?;
    buf.into_inner().map_err(|e| e.into_error())?.finish()?;
    Ok(())
}

/// The absolute form of `path` for comparisons: the folder resolved (symlinks
/// followed) and the file name kept, so a file that does not exist yet can be
/// compared with one that does.
pub fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = fs::canonicalize(path) {
        return p;
    }
    let dir = folder_of(path);
    match (fs::canonicalize(&dir), path.file_name()) {
        (Ok(d), Some(n)) => d.join(n),
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    }
}

#[cfg(test)]
mod tests;
