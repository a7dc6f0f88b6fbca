//! The input files of a run, so an output path can never replace one of them.
//! Checked before anything is read: `analyze --report voltage.csv.gz` or
//! `pv --out feed_in.csv` is refused, not run.

use super::atomic::resolved;
use std::path::{Path, PathBuf};

/// Network file names a folder may hold (the GeoJSON layers; `.gpkg` files are found by extension).
const NETWORK_FILES: [&str; 4] = ["stations.geojson", "cables.geojson", "connections.geojson", "nodes.geojson"];

/// One input: the path as the user gave it, and how to recognise it.
struct Input {
    given: PathBuf,
    resolved: PathBuf,
    #[cfg(unix)]
    inode: Option<(u64, u64)>,
}

#[cfg(unix)]
fn inode(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

/// The files a run reads.
#[derive(Default)]
pub struct InputSet {
    inputs: Vec<Input>,
}

impl InputSet {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, p: &Path) {
        self.inputs.push(Input {
            given: p.to_path_buf(),
            resolved: resolved(p),
            #[cfg(unix)]
            inode: inode(p),
        });
    }

    /// A file read as input, with the purpose file that may sit beside it.
    pub fn file(&mut self, p: &Path) -> &mut Self {
        self.push(p);
        self.push(&crate::privacy::sidecar::sidecar_path(p));
        self
    }

    /// A network: a `.gpkg` (with SQLite's side files) or a folder (its layer files and GeoPackages).
    pub fn network(&mut self, p: &Path) -> &mut Self {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = NETWORK_FILES.iter().map(|n| p.join(n)).collect();
            if let Ok(d) = std::fs::read_dir(p) {
                files.extend(
                    d.flatten().map(|e| e.path()).filter(|f| f.extension().is_some_and(|e| e.eq_ignore_ascii_case("gpkg"))),
                );
            }
            for f in files {
                self.push(&f);
            }
        } else {
            self.push(p);
            for s in ["-wal", "-shm", "-journal"] {
                let mut q = p.as_os_str().to_owned();
                q.push(s);
                self.push(Path::new(&q));
            }
        }
        self
    }

    /// The input `out` would replace, if any.
    fn clash(&self, out: &Path) -> Option<&Path> {
        let r = resolved(out);
        #[cfg(unix)]
        let ino = inode(out);
        self.inputs
            .iter()
            .find(|i| {
                #[cfg(unix)]
                if ino.is_some() && i.inode == ino {
                    return true;
                }
                i.resolved == r
            })
            .map(|i| i.given.as_path())
    }

    /// Refuses outputs that are inputs of the same run, naming both.
    pub fn check_outputs<'a>(&self, outputs: impl IntoIterator<Item = &'a Path>) -> Result<(), String> {
        for out in outputs {
            if let Some(input) = self.clash(out) {
                return Err(format!(
                    "refusing to write {}: it is the input {} of this run, and writing would replace it; \
                     choose another output path (nothing was read or written)",
                    out.display(),
                    input.display()
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_that_is_an_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("connections.geojson"), b"{}").unwrap();
        std::fs::write(d.join("voltage.csv.gz"), b"x").unwrap();
        let mut s = InputSet::new();
        s.network(d).file(&d.join("voltage.csv.gz"));
        assert!(s.check_outputs([d.join("assignments.csv").as_path()]).is_ok());
        let e = s.check_outputs([d.join("./voltage.csv.gz").as_path()]).unwrap_err();
        assert!(e.contains("refusing to write") && e.contains("voltage.csv.gz"), "{e}");
        assert!(s.check_outputs([d.join("connections.geojson").as_path()]).is_err());
        assert!(
            s.check_outputs([d.join("cables.geojson").as_path()]).is_err(),
            "a layer file not there yet is still the network's"
        );
        assert!(s.check_outputs([d.join("voltage.csv.gz.purpose.json").as_path()]).is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.join("voltage.csv.gz"), d.join("link.csv")).unwrap();
            assert!(s.check_outputs([d.join("link.csv").as_path()]).is_err(), "a symlink to an input");
            std::fs::hard_link(d.join("voltage.csv.gz"), d.join("hard.csv")).unwrap();
            assert!(s.check_outputs([d.join("hard.csv").as_path()]).is_err(), "a hard link to an input");
        }
    }
}
