//! Atomic file writes: write a temp file in the target's folder, flush it to
//! disk, then rename it over the target. A crash mid-write leaves the old file
//! intact (and at worst a stray `.<name>.*.tmp` that readers never look at).

use std::io::{self, BufWriter, Write};
use std::path::Path;

fn temp_in(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "lvtopo".into());
    tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(dir)
}

/// Writes `path` atomically through a buffered writer.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let mut tmp = temp_in(path)?;
    {
        let mut w = BufWriter::new(tmp.as_file_mut());
        write(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_parent(path);
    Ok(())
}

/// Writes `path` atomically with a writer that needs a path of its own (e.g.
/// SQLite for a GeoPackage): `write` gets an empty temp file's path in the
/// same folder, which is renamed over `path` when `write` succeeds.
pub fn write_atomic_via_path<T, E>(path: &Path, write: impl FnOnce(&Path) -> Result<T, E>) -> Result<T, E>
where
    E: From<io::Error>,
{
    let tmp = temp_in(path)?.into_temp_path();
    let out = write(&tmp)?;
    std::fs::File::open(&tmp).and_then(|f| f.sync_all())?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_parent(path);
    Ok(out)
}

/// Makes the rename itself durable where the platform allows (best effort).
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_old_content_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, |w| w.write_all(b"old")).unwrap();
        let r = write_atomic(&p, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.json")]);
    }

    #[test]
    fn via_path_renames_on_success_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.bin");
        write_atomic_via_path(&p, |t| std::fs::write(t, b"new")).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        let r: io::Result<()> = write_atomic_via_path(&p, |t| {
            std::fs::write(t, b"partial")?;
            Err(io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
    }
}
