//! Voltage by house number.

use crate::ui::command::panel_ids;
use crate::ui::view::{Placement, View, ViewContext};

#[derive(Default)]
pub struct HouseNumbersPanel {}

impl View for HouseNumbersPanel {
    fn id(&self) -> &'static str {
        panel_ids::HOUSE_NUMBERS
    }
    fn title(&self) -> String {
        "Voltage by house number".into()
    }
    fn placement(&self) -> Placement {
        Placement::Bottom
    }
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext<'_>) {
        let _ = cx;
        ui.label("Choose a street");
    }
}
