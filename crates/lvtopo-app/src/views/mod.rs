//! Views and map overlays contributed by other parts of lvtopo (outages,
//! voltage quality, solar, privacy/audit). Each lives in its own file in this
//! folder and is registered below with one line; see `docs/ui.md`.

pub mod privacy;
pub mod privacy_load;
pub mod quality;
pub mod solar;

use super::view::Registry;

pub mod outage;
pub mod outage_map;

/// Adds every contributed view and overlay to the app.
pub fn register(registry: &mut Registry) {
    outage::register(registry);
    registry.add_view(privacy::PrivacyView::default());
    let q = quality::Shared::default();
    registry.add_view(quality::QualityView::new(q.clone()));
    registry.add_overlay(quality::QualityOverlay::new(q));
    let s = solar::Shared::default();
    registry.add_view(solar::SolarView::new(s.clone()));
    registry.add_overlay(solar::SolarOverlay::new(s));
}
