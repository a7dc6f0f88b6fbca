//! Atomic file writes: a temporary file in the same folder, renamed over the
//! target only when everything was written, so a crash never leaves half a file.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writes `path` through `fill`; the file appears complete or not at all.
pub fn write_atomic<F>(path: &Path, fill: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let tmp = tempfile::Builder::new().prefix(".lvtopo-").suffix(".tmp").tempfile_in(dir)?;
    {
        let mut w = BufWriter::with_capacity(1 << 16, tmp.as_file());
        fill(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    // Temp files are private (0600); the result is an ordinary user file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0o644);
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
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
    fn gz_suffix_compresses() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv.gz");
        write_atomic_maybe_gz(&p, |w| w.write_all(b"x,y\n1,2\n")).unwrap();
        let mut s = String::new();
        flate2::read::GzDecoder::new(fs::File::open(&p).unwrap()).read_to_string(&mut s).unwrap();
        assert_eq!(s, "x,y\n1,2\n");
    }
}
