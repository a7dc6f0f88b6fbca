//! What the app remembers between runs: the recently opened files, the
//! reviewer's name, the last folder of each kind of file dialog and the export
//! options. Kept in `settings.json` in the user's config folder and written
//! atomically; only [`crate::dispatch`] writes it (through a command).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const MAX_RECENT: usize = 10;
const FILE: &str = "settings.json";

/// The remembered settings. Unknown or missing fields fall back to defaults,
/// so an older or newer file never stops the app.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub recent: Vec<PathBuf>,
    /// Name written with every review decision and into the exports; asked once.
    pub reviewer: Option<String>,
    /// Last folder per kind of dialog ("open", "export-gpkg", ...).
    pub last_dirs: BTreeMap<String, PathBuf>,
    /// Export only the connections the review changed or filled in.
    pub export_only_changed: bool,
}

/// `$XDG_CONFIG_HOME/lvtopo`, `~/.config/lvtopo`, `%APPDATA%\lvtopo`, `~/Library/Application Support/lvtopo`.
pub fn config_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = if cfg!(windows) {
        env("APPDATA")
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library/Application Support"))
    } else {
        env("XDG_CONFIG_HOME").or_else(|| env("HOME").map(|h| h.join(".config")))
    };
    base.map(|b| b.join("lvtopo"))
}

/// Reads `settings.json`; an earlier `recent.json` (recent files only) is taken over.
pub fn load(dir: &Path) -> Settings {
    if let Some(s) = std::fs::read_to_string(dir.join(FILE)).ok().and_then(|s| serde_json::from_str::<Settings>(&s).ok()) {
        return s;
    }
    let recent = std::fs::read_to_string(dir.join("recent.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<Vec<PathBuf>>(&s).ok())
        .unwrap_or_default();
    Settings { recent, ..Default::default() }
}

pub fn save(dir: &Path, settings: &Settings) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(settings).map_err(std::io::Error::other)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, json.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(dir.join(FILE)).map_err(|e| e.error)?;
    Ok(())
}

/// Puts `p` first, without duplicates, at most [`MAX_RECENT`] entries.
pub fn push_recent(recent: &mut Vec<PathBuf>, p: PathBuf) {
    recent.retain(|r| r != &p);
    recent.insert(0, p);
    recent.truncate(MAX_RECENT);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_recent_list_stays_short() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Settings::default();
        for i in 0..15 {
            push_recent(&mut s.recent, PathBuf::from(format!("/n/{i}.gpkg")));
        }
        push_recent(&mut s.recent, PathBuf::from("/n/3.gpkg"));
        assert_eq!(s.recent.len(), MAX_RECENT);
        assert_eq!(s.recent[0], PathBuf::from("/n/3.gpkg"));
        s.reviewer = Some("J. de Vries".into());
        s.last_dirs.insert("export-gpkg".into(), PathBuf::from("/data/out"));
        save(dir.path(), &s).unwrap();
        assert_eq!(load(dir.path()), s);
    }

    #[test]
    fn an_older_recent_file_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("recent.json"), r#"["/a/net.gpkg"]"#).unwrap();
        assert_eq!(load(dir.path()).recent, vec![PathBuf::from("/a/net.gpkg")]);
        std::fs::write(dir.path().join(FILE), r#"{"reviewer":"anna","future_field":1}"#).unwrap();
        let s = load(dir.path());
        assert_eq!(s.reviewer.as_deref(), Some("anna"));
        assert!(s.recent.is_empty());
    }
}
