//! What the app remembers between runs: the recently opened files. Kept in
//! the user's config folder and written atomically.

use std::path::{Path, PathBuf};

const MAX_RECENT: usize = 10;

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

pub fn load_recent(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_to_string(dir.join("recent.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<Vec<PathBuf>>(&s).ok())
        .unwrap_or_default()
}

pub fn save_recent(dir: &Path, recent: &[PathBuf]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(recent).map_err(std::io::Error::other)?;
    lvtopo_core::io::atomic::write_bytes(&dir.join("recent.json"), lvtopo_core::io::atomic::Mode::Normal, json.as_bytes())
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
    fn recent_list_round_trips_and_stays_short() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Vec::new();
        for i in 0..15 {
            push_recent(&mut r, PathBuf::from(format!("/n/{i}.gpkg")));
        }
        push_recent(&mut r, PathBuf::from("/n/3.gpkg"));
        assert_eq!(r.len(), MAX_RECENT);
        assert_eq!(r[0], PathBuf::from("/n/3.gpkg"));
        save_recent(dir.path(), &r).unwrap();
        assert_eq!(load_recent(dir.path()), r);
    }
}
