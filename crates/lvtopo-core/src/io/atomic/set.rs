//! Several output files that belong together, moved into place together or not at all.
//!
//! Every file is first written completely into a hidden staging folder beside its
//! target (`.lvtopo-<pid>-<n>.staging`, same file system). Only when all are
//! written does [`OutputSet::commit`] rename them into place; an existing target is
//! first moved into the staging folder, so a failure half-way puts every old file
//! back. A set that is dropped uncommitted (an error while writing) leaves the
//! targets untouched. A kill during the commit (a few renames) can still leave a
//! mix; the staging folder it leaves holds the old files and is removed by the
//! next run writing into that folder.

use super::temp::{TempFile, folder_of, owner_may_live, sync_dir, unique_name};
use super::{Mode, check_target, gz_or_plain, name_error, resolved};
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// One staged file: where it is, where it goes.
struct Staged {
    staged: PathBuf,
    target: PathBuf,
}

/// A staging folder, removed with everything in it on drop.
struct Staging {
    folder: PathBuf,
    dir: PathBuf,
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Output files written as one unit. See the module docs.
#[derive(Default)]
pub struct OutputSet {
    staging: Vec<Staging>,
    files: Vec<Staged>,
}

impl OutputSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// The targets staged so far, in order.
    pub fn targets(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|f| f.target.as_path())
    }

    /// The staging folder for files going into `folder` (created on first use).
    fn staging_for(&mut self, target: &Path) -> io::Result<PathBuf> {
        check_target(target)?;
        let res = resolved(target);
        if self.files.iter().any(|f| resolved(&f.target) == res) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{}: the same file is written twice in one run", target.display()),
            ));
        }
        let folder = folder_of(target);
        if let Some(s) = self.staging.iter().find(|s| s.folder == folder) {
            return Ok(s.dir.clone());
        }
        fs::create_dir_all(&folder).map_err(|e| name_error(&folder, "create the folder", e))?;
        cleanup_stale_staging(&folder);
        let dir = folder.join(unique_name(".", ".staging"));
        fs::create_dir(&dir).map_err(|e| name_error(target, "write", e))?;
        self.staging.push(Staging { folder, dir: dir.clone() });
        Ok(dir)
    }

    /// Stages `target` written through `fill`.
    pub fn write<F>(&mut self, target: &Path, fill: F) -> io::Result<()>
    where
        F: FnOnce(&mut dyn Write) -> io::Result<()>,
    {
        self.write_via_path(target, |p| -> io::Result<()> {
            let f = fs::OpenOptions::new().write(true).truncate(true).open(p)?;
            let mut w = BufWriter::with_capacity(1 << 16, &f);
            fill(&mut w)?;
            w.flush()
        })
    }

    /// Stages `target` through `fill`, gzip-compressed when the name ends in `.gz`.
    pub fn write_maybe_gz<F>(&mut self, target: &Path, fill: F) -> io::Result<()>
    where
        F: FnOnce(&mut dyn Write) -> io::Result<()>,
    {
        let t = target.to_path_buf();
        self.write(target, move |w| gz_or_plain(&t, w, fill))
    }

    /// Stages `target` with a writer that needs a path (SQLite).
    pub fn write_via_path<T, E>(&mut self, target: &Path, write: impl FnOnce(&Path) -> Result<T, E>) -> Result<T, E>
    where
        E: From<io::Error>,
    {
        let dir = self.staging_for(target)?;
        let name = target.file_name().expect("checked").to_owned();
        let tmp = TempFile::create(&dir.join(&name), Mode::Normal)?;
        let out = write(tmp.path())?;
        tmp.finish(target)?;
        let staged = dir.join(&name);
        fs::rename(tmp.path(), &staged).map_err(|e| name_error(target, "write", e))?;
        tmp.disarm();
        self.files.push(Staged { staged, target: target.to_path_buf() });
        Ok(out)
    }

    /// Moves every staged file into place; on any failure the targets are as before.
    /// Returns the targets written.
    pub fn commit(mut self) -> io::Result<Vec<PathBuf>> {
        for s in &self.staging {
            sync_dir(&s.dir);
        }
        // (target, backup of the old file)
        let mut done: Vec<(usize, Option<PathBuf>)> = Vec::new();
        for (i, f) in self.files.iter().enumerate() {
            let dir = folder_of(&f.staged);
            let backup = dir.join(format!("{i}.previous"));
            let had_old = match fs::rename(&f.target, &backup) {
                Ok(()) => true,
                Err(e) if e.kind() == io::ErrorKind::NotFound => false,
                Err(e) => {
                    self.roll_back(&done);
                    return Err(name_error(&f.target, "replace", e));
                }
            };
            let b = had_old.then_some(backup);
            if let Err(e) = fs::rename(&f.staged, &f.target) {
                done.push((i, b));
                self.roll_back(&done);
                return Err(name_error(&f.target, "write", e));
            }
            done.push((i, b));
        }
        for s in &self.staging {
            sync_dir(&s.folder);
        }
        Ok(std::mem::take(&mut self.files).into_iter().map(|f| f.target).collect())
    }

    /// Puts the old files back (best effort: the error that caused it is reported).
    fn roll_back(&self, done: &[(usize, Option<PathBuf>)]) {
        for (i, backup) in done.iter().rev() {
            let f = &self.files[*i];
            if f.target.exists() && !f.staged.exists() {
                let _ = fs::rename(&f.target, &f.staged);
            }
            if let Some(b) = backup {
                let _ = fs::rename(b, &f.target);
            }
        }
    }
}

/// Removes staging folders a killed run left in `folder`.
fn cleanup_stale_staging(folder: &Path) {
    let Ok(entries) = fs::read_dir(folder) else { return };
    for e in entries.flatten() {
        let f = e.file_name().to_string_lossy().into_owned();
        if !(f.starts_with(".lvtopo-") && f.ends_with(".staging") && e.file_type().is_ok_and(|t| t.is_dir())) {
            continue;
        }
        if !owner_may_live(&f, e.metadata().ok().and_then(|m| m.modified().ok())) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}
