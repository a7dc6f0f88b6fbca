//! Layer toggles, colouring of the network and its legend. Colours are chosen
//! to stay apart for the colour-blind: the phase colours follow the usual
//! Dutch L1 brown, L2 black/grey, L3 grey convention only loosely, because on a
//! grey basemap those would vanish; instead a blue/orange/purple set is used.

use egui::Color32;
use lvtopo_core::analysis::{Assignment, InferredPhase, Status};
use lvtopo_core::model::{Connection, Phase, PhaseConnection};

/// How connections are coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColorMode {
    RegisteredPhase,
    InferredPhase,
    SuggestionStatus,
    Confidence,
    Feeder,
}

impl ColorMode {
    pub const ALL: [ColorMode; 5] = [
        ColorMode::RegisteredPhase,
        ColorMode::InferredPhase,
        ColorMode::SuggestionStatus,
        ColorMode::Confidence,
        ColorMode::Feeder,
    ];
    pub fn label(self) -> &'static str {
        match self {
            ColorMode::RegisteredPhase => "Registered phase",
            ColorMode::InferredPhase => "Inferred phase",
            ColorMode::SuggestionStatus => "Suggestion status",
            ColorMode::Confidence => "Confidence",
            ColorMode::Feeder => "Registered feeder",
        }
    }
}

/// Map layers and their settings.
#[derive(Clone, Debug, PartialEq)]
pub struct MapStyle {
    pub show_stations: bool,
    pub show_cables: bool,
    pub show_connections: bool,
    /// Lines from each connection to its tap-off point on the registered cable.
    pub show_service_lines: bool,
    pub color_mode: ColorMode,
}

impl Default for MapStyle {
    fn default() -> Self {
        MapStyle {
            show_stations: true,
            show_cables: true,
            show_connections: true,
            show_service_lines: false,
            color_mode: ColorMode::RegisteredPhase,
        }
    }
}

pub const L1: Color32 = Color32::from_rgb(0x1f, 0x77, 0xb4);
pub const L2: Color32 = Color32::from_rgb(0xe6, 0x7e, 0x00);
pub const L3: Color32 = Color32::from_rgb(0x8e, 0x44, 0xad);
pub const THREE_PHASE: Color32 = Color32::from_rgb(0x2b, 0x2b, 0x2b);
pub const UNKNOWN: Color32 = Color32::from_rgb(0xa0, 0xa0, 0xa0);
pub const OK: Color32 = Color32::from_rgb(0x2e, 0x9e, 0x4f);
pub const SUGGEST: Color32 = Color32::from_rgb(0xd6, 0x2d, 0x20);
pub const ACCEPTED: Color32 = Color32::from_rgb(0x00, 0x8b, 0x8b);
pub const REJECTED: Color32 = Color32::from_rgb(0x6d, 0x4c, 0x41);
pub const SELECTED: Color32 = Color32::from_rgb(0xff, 0xd7, 0x00);
pub const STATION: Color32 = Color32::from_rgb(0xb0, 0x00, 0x20);
/// Plain map background when there are no tiles.
pub const MAP_BACKGROUND: Color32 = Color32::from_rgb(0xee, 0xee, 0xea);

pub fn phase_color(p: Phase) -> Color32 {
    match p {
        Phase::L1 => L1,
        Phase::L2 => L2,
        Phase::L3 => L3,
    }
}

/// Phase not registered in GIS, or filled in only as a group no anchor could name: a
/// class of its own (dashed-grey in the legend), never one of the phase colours.
pub const PHASE_NOT_KNOWN: Color32 = Color32::from_rgb(0xd0, 0x8c, 0xd8);

pub fn phase_connection_color(p: Option<PhaseConnection>) -> Color32 {
    match p {
        Some(PhaseConnection::Single(p)) => phase_color(p),
        Some(PhaseConnection::Three) => THREE_PHASE,
        None => PHASE_NOT_KNOWN,
    }
}

/// Colour of a feeder from a small qualitative palette (Okabe-Ito plus extras),
/// stable for a feeder index.
pub fn feeder_color(i: usize) -> Color32 {
    const P: [Color32; 10] = [
        Color32::from_rgb(0x00, 0x72, 0xb2),
        Color32::from_rgb(0xd5, 0x5e, 0x00),
        Color32::from_rgb(0x00, 0x9e, 0x73),
        Color32::from_rgb(0xcc, 0x79, 0xa7),
        Color32::from_rgb(0x56, 0xb4, 0xe9),
        Color32::from_rgb(0xe6, 0x9f, 0x00),
        Color32::from_rgb(0x6a, 0x3d, 0x9a),
        Color32::from_rgb(0x8c, 0x56, 0x4b),
        Color32::from_rgb(0x17, 0xbe, 0xcf),
        Color32::from_rgb(0x7f, 0x7f, 0x00),
    ];
    P[i % P.len()]
}

/// Confidence from red (0) through amber to green (1).
pub fn confidence_color(c: f64) -> Color32 {
    let c = c.clamp(0.0, 1.0) as f32;
    let lerp = |a: Color32, b: Color32, t: f32| {
        Color32::from_rgb(
            (a.r() as f32 + (b.r() as f32 - a.r() as f32) * t) as u8,
            (a.g() as f32 + (b.g() as f32 - a.g() as f32) * t) as u8,
            (a.b() as f32 + (b.b() as f32 - a.b() as f32) * t) as u8,
        )
    };
    let amber = Color32::from_rgb(0xf0, 0xb0, 0x00);
    if c < 0.5 { lerp(SUGGEST, amber, c * 2.0) } else { lerp(amber, OK, (c - 0.5) * 2.0) }
}

/// Review state of one connection, as the map and the table colour it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReviewMark {
    /// No analysis yet.
    NotAnalysed,
    InsufficientData,
    /// GIS confirmed.
    Confirmed,
    /// A suggestion waiting for a decision.
    Pending,
    Accepted,
    Rejected,
    /// Changed by hand.
    Edited,
}

impl ReviewMark {
    pub fn label(self) -> &'static str {
        match self {
            ReviewMark::NotAnalysed => "not analysed",
            ReviewMark::InsufficientData => "insufficient data",
            ReviewMark::Confirmed => "GIS confirmed",
            ReviewMark::Pending => "suggestion pending",
            ReviewMark::Accepted => "accepted",
            ReviewMark::Rejected => "rejected",
            ReviewMark::Edited => "edited by hand",
        }
    }
    pub fn color(self) -> Color32 {
        match self {
            ReviewMark::NotAnalysed | ReviewMark::InsufficientData => UNKNOWN,
            ReviewMark::Confirmed => OK,
            ReviewMark::Pending => SUGGEST,
            ReviewMark::Accepted => ACCEPTED,
            ReviewMark::Rejected => REJECTED,
            ReviewMark::Edited => Color32::from_rgb(0x00, 0x55, 0xd4),
        }
    }
    pub fn from_status(s: Status) -> ReviewMark {
        match s {
            Status::Ok => ReviewMark::Confirmed,
            Status::SuggestChange | Status::FillIn => ReviewMark::Pending,
            Status::InsufficientData => ReviewMark::InsufficientData,
        }
    }
}

pub fn inferred_phase_color(a: Option<&Assignment>) -> Color32 {
    match a.and_then(|a| a.inferred_phase) {
        Some(InferredPhase::Single(p)) => phase_color(p),
        Some(InferredPhase::Rotation(_)) => THREE_PHASE,
        Some(InferredPhase::Group(_)) => PHASE_NOT_KNOWN,
        None => UNKNOWN,
    }
}

/// Fill colour of a connection under the given mode.
pub fn connection_color(
    mode: ColorMode,
    conn: &Connection,
    assignment: Option<&Assignment>,
    mark: ReviewMark,
    feeder_index: impl Fn(&str) -> usize,
) -> Color32 {
    match mode {
        ColorMode::RegisteredPhase => phase_connection_color(conn.phase),
        ColorMode::InferredPhase => inferred_phase_color(assignment),
        ColorMode::SuggestionStatus => mark.color(),
        ColorMode::Confidence => match assignment {
            Some(a) if a.status != Status::InsufficientData => {
                confidence_color(a.phase_confidence.min(a.feeder_confidence.max(0.0)).max(0.0))
            }
            _ => UNKNOWN,
        },
        ColorMode::Feeder => feeder_color(feeder_index(&conn.feeder_label())),
    }
}

/// Draws a legend entry: a coloured swatch and a label.
pub fn legend_row(ui: &mut egui::Ui, color: Color32, label: &str, diamond: bool) {
    ui.horizontal(|ui| {
        let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
        let c = rect.center();
        if diamond {
            let r = 5.5;
            ui.painter().add(egui::Shape::convex_polygon(
                vec![c + egui::vec2(0.0, -r), c + egui::vec2(r, 0.0), c + egui::vec2(0.0, r), c + egui::vec2(-r, 0.0)],
                color,
                egui::Stroke::new(1.0, Color32::WHITE),
            ));
        } else {
            ui.painter().circle(c, 5.0, color, egui::Stroke::new(1.0, Color32::WHITE));
        }
        ui.label(label);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_colour_runs_red_to_green() {
        assert_eq!(confidence_color(0.0), SUGGEST);
        assert_eq!(confidence_color(1.0), OK);
        assert_eq!(confidence_color(7.0), OK);
    }
}
