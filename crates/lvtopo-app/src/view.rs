//! The extension points of the app: panels ([`View`]) and map overlays
//! ([`MapOverlay`]). Built-in panels use the same traits as the ones other
//! modules add, so adding a view is: write a struct, implement the trait,
//! register it in [`super::views::register`]. See `docs/ui.md`.

use super::command::CommandQueue;
use super::map::index::{MapIndex, WorldRect};
use super::map::paint::MapTransform;
use super::state::{AppState, Dataset};

/// Where a panel lives in the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Left column, stacked (search, layers).
    Left,
    /// Right column, one tab at a time (inspector, ...).
    Right,
    /// Bottom dock, one tab at a time (review table, plots, reports).
    Bottom,
}

/// What a panel gets each frame: the state to read and the queue to ask for changes.
pub struct ViewContext<'a> {
    pub state: &'a AppState,
    pub commands: &'a mut CommandQueue,
}

impl ViewContext<'_> {
    pub fn push(&mut self, c: impl Into<super::command::Command>) {
        self.commands.push(c);
    }
    pub fn dataset(&self) -> Option<&Dataset> {
        self.state.dataset.as_ref()
    }
}

/// A panel. Holds only its own view state (filters, sort order, scroll);
/// application state changes go through `cx.commands`.
pub trait View {
    /// Stable id (used by [`super::command::UiCommand::TogglePanel`] and to remember what is open).
    fn id(&self) -> &'static str;
    /// Tab / header title.
    fn title(&self) -> String;
    fn placement(&self) -> Placement;
    /// Whether the panel is open when the app starts.
    fn open_by_default(&self) -> bool {
        true
    }
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext<'_>);
}

/// What an overlay gets to paint with: the current view of the map.
pub struct MapFrame<'a> {
    pub transform: MapTransform,
    /// Visible world rectangle (with a small margin).
    pub visible: WorldRect,
    pub dataset: &'a Dataset,
    pub index: &'a MapIndex,
}

impl MapFrame<'_> {
    /// Connections inside the visible rectangle.
    pub fn visible_connections(&self) -> impl Iterator<Item = usize> + '_ {
        self.index.connections_in(&self.visible)
    }
    pub fn connection_screen_pos(&self, conn: usize) -> egui::Pos2 {
        self.transform.to_screen(self.index.connections[conn])
    }
    pub fn cable_screen_points(&self, cable: usize) -> Vec<egui::Pos2> {
        self.index.cables[cable].iter().map(|w| self.transform.to_screen(*w)).collect()
    }
    /// Radius in pixels of a connection marker at this zoom; overlays drawing
    /// rings or badges around connections should scale with it.
    pub fn marker_radius(&self) -> f32 {
        marker_radius(self.transform.zoom)
    }
}

pub fn marker_radius(zoom: f64) -> f32 {
    match zoom {
        z if z < 14.0 => 1.6,
        z if z < 15.0 => 2.2,
        z if z < 16.0 => 3.0,
        z if z < 17.0 => 4.0,
        z if z < 18.0 => 5.0,
        _ => 6.5,
    }
}

/// Something drawn on the map above the network (outage status, voltage
/// quality, solar ...). Toggled in the Layers panel.
pub trait MapOverlay {
    fn id(&self) -> &'static str;
    fn title(&self) -> String;
    /// Whether the overlay is on when the app starts.
    fn enabled_by_default(&self) -> bool {
        false
    }
    /// Paint with `painter` (clipped to the map). Keep it to what `frame.visible` holds.
    fn paint(&mut self, painter: &egui::Painter, frame: &MapFrame<'_>, state: &AppState);
    /// Legend rows shown under the overlay's toggle while it is on.
    fn legend(&mut self, _ui: &mut egui::Ui, _state: &AppState) {}
    /// Extra line in the hover tooltip of a connection.
    fn connection_tooltip(&self, _state: &AppState, _connection: usize) -> Option<String> {
        None
    }
}

/// A registered overlay and whether it is on.
pub struct OverlaySlot {
    pub overlay: Box<dyn MapOverlay>,
    pub enabled: bool,
}

/// Views and overlays added by other modules.
#[derive(Default)]
pub struct Registry {
    pub views: Vec<Box<dyn View>>,
    pub overlays: Vec<OverlaySlot>,
}

impl Registry {
    pub fn add_view(&mut self, v: impl View + 'static) {
        self.views.push(Box::new(v));
    }
    pub fn add_overlay(&mut self, o: impl MapOverlay + 'static) {
        let enabled = o.enabled_by_default();
        self.overlays.push(OverlaySlot { overlay: Box::new(o), enabled });
    }
}
