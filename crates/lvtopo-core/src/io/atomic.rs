//! Atomic file writes: a temporary file in the same folder, renamed over the
//! target only when everything was written, so a crash never leaves half a file.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// The temp file beside `path` (same folder, so the rename is atomic), named
/// `.<name>.XXXXXX.tmp`: hidden, and never taken for the real file by a reader.
fn temp_in(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "lvtopo".into());
    tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(dir)
}

/// Temp files are private (0600); the result keeps the target's mode, or is an ordinary user file.
fn copy_mode(target: &Path, tmp: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(target).map(|m| m.permissions().mode() & 0o777).unwrap_or(0o644);
        fs::set_permissions(tmp, fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (target, tmp);
    Ok(())
}

/// Makes the rename itself durable where the platform allows (best effort).
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Writes `path` through `fill`; the file appears complete or not at all.
pub fn write_atomic<F>(path: &Path, fill: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let tmp = temp_in(path)?;
    {
        let mut w = BufWriter::with_capacity(1 << 16, tmp.as_file());
        fill(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    copy_mode(path, tmp.path())?;
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
    fs::File::open(&tmp).and_then(|f| f.sync_all())?;
    copy_mode(path, &tmp)?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_parent(path);
    Ok(out)
}

/// Writes `path` through `fill`, gzip-compressed when the name ends in `.gz`.
pub fn write_atomic_maybe_gz<F>(path: &Path, fill: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let gz = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    write_atomic(path, |w| {
        if gz {
            // Header mtime stays 0 so the same content gives the same bytes.
            let enc = flate2::write::GzEncoder::new(w, flate2::Compression::new(3));
            // The encoder pays per write call: feed it large blocks, not CSV fields.
            let mut buf = BufWriter::with_capacity(1 << 17, enc);
            fill(&mut buf)?;
            buf.into_inner().map_err(|e| e.into_error())?.finish()?;
            Ok(())
        } else {
            fill(w)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn writes_whole_file_and_leaves_nothing_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, |w| w.write_all(b"hello")).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "hello");
        let r = write_atomic(&p, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("disk full"))
        });
        assert!(r.is_err());
        assert_eq!(fs::read_to_string(&p).unwrap(), "hello", "old content kept");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left");
    }

    #[test]
    fn via_path_renames_on_success_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.bin");
        write_atomic_via_path(&p, |t| fs::write(t, b"new")).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        let r: io::Result<()> = write_atomic_via_path(&p, |t| {
            fs::write(t, b"partial")?;
            Err(io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left");
    }

    #[test]
    fn gz_suffix_compresses() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv.gz");
        write_atomic_maybe_gz(&p, |w| w.write_all(b"x,y\n1,2\n")).unwrap();
        let mut s = String::new();
        flate2::read::GzDecoder::new(fs::File::open(&p).unwrap()).read_to_string(&mut s).unwrap();
        assert_eq!(s, "x,y\n1,2\n");
    }
}
