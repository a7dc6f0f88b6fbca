//! The temp files of the atomic write: their names, creation with a normal mode,
//! removal on failure, and the removal of those a killed run left behind.

use super::{Mode, name_error};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Marks lvtopo's temp names: `.<target name>.lvtopo-<pid>-<n>.tmp`.
const TAG: &str = ".lvtopo-";
const SUFFIX: &str = ".tmp";
/// SQLite's side files of a database file (the GeoPackage writer's temp file).
const SIDE_FILES: [&str; 3] = ["-journal", "-wal", "-shm"];
/// Without a way to ask whether a process lives, a temp file this old is stale.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The folder `path` is in (`.` for a bare file name).
pub(crate) fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Makes renames in `dir` durable where the platform allows (no-op elsewhere).
pub(crate) fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// A unique, hidden name for a temp file or folder of this process: `<prefix>lvtopo-<pid>-<n><suffix>`.
pub(crate) fn unique_name(prefix: &str, suffix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}{}{}-{n}{:x}{suffix}", &TAG[1..], std::process::id(), nanos)
}

/// Whether the process that named a temp file (by the pid in its name) may still run.
pub(crate) fn owner_may_live(name: &str, modified: Option<std::time::SystemTime>) -> bool {
    let pid = name.rsplit_once(TAG).and_then(|(_, rest)| rest.split('-').next()).and_then(|p| p.parse::<u32>().ok());
    let Some(pid) = pid else { return true };
    if pid == std::process::id() {
        return true;
    }
    if Path::new("/proc/self").exists() {
        return Path::new(&format!("/proc/{pid}")).exists();
    }
    modified.and_then(|m| m.elapsed().ok()).is_none_or(|age| age < STALE_AFTER)
}

/// Removes the temp files a killed run left for `target` (same folder, same name,
/// owner gone), with their SQLite side files.
pub(crate) fn cleanup_stale(target: &Path) {
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else { return };
    let prefix = format!(".{name}{TAG}");
    let Ok(entries) = fs::read_dir(folder_of(target)) else { return };
    for e in entries.flatten() {
        let f = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = f.strip_prefix(&prefix) else { continue };
        let base = SIDE_FILES.iter().find_map(|s| rest.strip_suffix(s)).unwrap_or(rest);
        if !base.ends_with(SUFFIX) || e.file_type().map(|t| t.is_dir()).unwrap_or(true) {
            continue;
        }
        if !owner_may_live(&f, e.metadata().ok().and_then(|m| m.modified().ok())) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// A temp file beside its target, removed on drop unless it was renamed.
pub(crate) struct TempFile {
    path: PathBuf,
    file: Option<File>,
    mode: Mode,
}

impl TempFile {
    pub(crate) fn create(target: &Path, mode: Mode) -> io::Result<TempFile> {
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let path = folder_of(target).join(unique_name(&format!(".{name}."), SUFFIX));
        let mut o = OpenOptions::new();
        o.write(true).read(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // The kernel takes the umask off 0666, as for any file a program creates.
            o.mode(if mode == Mode::Private { 0o600 } else { 0o666 });
        }
        let file = o.open(&path).map_err(|e| name_error(target, "write", e))?;
        Ok(TempFile { path, file: Some(file), mode })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn file(&self) -> &File {
        self.file.as_ref().expect("temp file open until finished")
    }

    /// Flushes the content to disk and gives the file its final mode.
    pub(crate) fn finish(&self, target: &Path) -> io::Result<()> {
        let err = |e| name_error(target, "write", e);
        // A writer that used the path (SQLite) wrote through its own handle: sync a fresh one.
        File::open(&self.path).and_then(|f| f.sync_all()).map_err(err)?;
        #[cfg(unix)]
        if self.mode == Mode::Normal
            && let Ok(m) = fs::metadata(target)
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&self.path, fs::Permissions::from_mode(m.permissions().mode() & 0o777)).map_err(err)?;
        }
        Ok(())
    }

    /// The file was renamed into place: nothing to remove.
    pub(crate) fn disarm(mut self) {
        self.file = None;
        self.path = PathBuf::new();
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        self.file = None;
        if self.path.as_os_str().is_empty() {
            return;
        }
        let _ = fs::remove_file(&self.path);
        for s in SIDE_FILES {
            let mut p = self.path.clone().into_os_string();
            p.push(s);
            let _ = fs::remove_file(PathBuf::from(p));
        }
    }
}
