//! Background tiles: PDOK BRT-Achtergrondkaart (Kadaster) and OpenStreetMap,
//! fetched by walkers with a disk cache in the user's cache folder. A wrapper
//! notices when no tile ever arrives (no network) so the map can say so once,
//! quietly, instead of looking broken.

use std::path::PathBuf;
use std::time::{Duration, Instant};
use walkers::sources::{Attribution, TileSource};
use walkers::{HttpOptions, HttpTiles, TileId, TilePiece, Tiles};

/// Background map choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Basemap {
    /// No background: plain colour, network only (also what tests and screenshots use).
    None,
    PdokGrey,
    PdokStandard,
    PdokPastel,
    Osm,
}

impl Basemap {
    pub const ALL: [Basemap; 5] = [Basemap::PdokGrey, Basemap::PdokStandard, Basemap::PdokPastel, Basemap::Osm, Basemap::None];

    pub fn label(self) -> &'static str {
        match self {
            Basemap::None => "None (plain background)",
            Basemap::PdokGrey => "BRT-Achtergrondkaart grijs (PDOK)",
            Basemap::PdokStandard => "BRT-Achtergrondkaart standaard (PDOK)",
            Basemap::PdokPastel => "BRT-Achtergrondkaart pastel (PDOK)",
            Basemap::Osm => "OpenStreetMap",
        }
    }
}

/// PDOK's BRT-Achtergrondkaart in Web Mercator (WMTS, XYZ addressing).
pub struct PdokBrt {
    pub variant: &'static str,
}

impl TileSource for PdokBrt {
    fn tile_url(&self, t: TileId) -> String {
        format!(
            "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/{}/EPSG:3857/{}/{}/{}.png",
            self.variant, t.zoom, t.x, t.y
        )
    }
    fn attribution(&self) -> Attribution {
        Attribution { text: "Kadaster", url: "https://www.pdok.nl/", logo_light: None, logo_dark: None }
    }
    fn max_zoom(&self) -> u8 {
        19
    }
}

/// OpenStreetMap's standard tiles.
pub struct Osm;

impl TileSource for Osm {
    fn tile_url(&self, t: TileId) -> String {
        format!("https://tile.openstreetmap.org/{}/{}/{}.png", t.zoom, t.x, t.y)
    }
    fn attribution(&self) -> Attribution {
        Attribution {
            text: "© OpenStreetMap contributors",
            url: "https://www.openstreetmap.org/copyright",
            logo_light: None,
            logo_dark: None,
        }
    }
}

/// Per-user cache folder of lvtopo (`$XDG_CACHE_HOME/lvtopo`, `~/.cache/lvtopo`,
/// `%LOCALAPPDATA%\lvtopo`, `~/Library/Caches/lvtopo`).
pub fn cache_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = if cfg!(windows) {
        env("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library/Caches"))
    } else {
        env("XDG_CACHE_HOME").or_else(|| env("HOME").map(|h| h.join(".cache")))
    };
    base.map(|b| b.join("lvtopo"))
}

/// Whether the background tiles are arriving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TileHealth {
    Loading,
    Ok,
    /// Nothing arrived for a while with nothing in flight: offline or blocked.
    Unavailable,
}

/// HTTP tiles plus the bookkeeping to tell "loading" from "offline".
pub struct WatchedTiles {
    inner: HttpTiles,
    started: Instant,
    received_any: bool,
    requested_any: bool,
}

impl WatchedTiles {
    pub fn new(basemap: Basemap, ctx: egui::Context) -> Option<WatchedTiles> {
        let options = || HttpOptions { cache: cache_dir().map(|d| d.join("tiles")), ..Default::default() };
        let inner = match basemap {
            Basemap::None => return None,
            Basemap::PdokGrey => HttpTiles::with_options(PdokBrt { variant: "grijs" }, options(), ctx),
            Basemap::PdokStandard => HttpTiles::with_options(PdokBrt { variant: "standaard" }, options(), ctx),
            Basemap::PdokPastel => HttpTiles::with_options(PdokBrt { variant: "pastel" }, options(), ctx),
            Basemap::Osm => HttpTiles::with_options(Osm, options(), ctx),
        };
        Some(WatchedTiles { inner, started: Instant::now(), received_any: false, requested_any: false })
    }

    pub fn health(&self) -> TileHealth {
        if self.received_any {
            TileHealth::Ok
        } else if self.requested_any && self.inner.stats().in_progress == 0 && self.started.elapsed() > Duration::from_secs(3) {
            TileHealth::Unavailable
        } else {
            TileHealth::Loading
        }
    }
}

impl Tiles for WatchedTiles {
    fn at(&mut self, tile_id: TileId) -> Option<TilePiece> {
        self.requested_any = true;
        let t = self.inner.at(tile_id);
        self.received_any |= t.is_some();
        t
    }
    fn attribution(&self) -> Attribution {
        self.inner.attribution()
    }
    fn tile_size(&self) -> u32 {
        self.inner.tile_size()
    }
    fn stats(&self) -> walkers::Stats {
        self.inner.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdok_url_has_variant_and_xyz() {
        let u = PdokBrt { variant: "grijs" }.tile_url(TileId { x: 1, y: 2, zoom: 3 });
        assert_eq!(u, "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:3857/3/1/2.png");
    }
}
