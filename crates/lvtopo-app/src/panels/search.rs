//! Search by EAN, by postcode + house number, by street (+ number), or by
//! station / feeder id. Results select and zoom.

use crate::command::{UiCommand, panel_ids};
use crate::view::{Placement, View, ViewContext};
use lvtopo_core::model::Network;

pub const SEARCH_FIELD_ID: &str = "lvtopo-search-field";
const MAX_HITS: usize = 200;

#[derive(Clone, Debug, PartialEq)]
pub enum SearchHit {
    Connection(usize),
    /// All connections of a street (in one postcode area when given).
    Street {
        street: String,
        connections: Vec<usize>,
    },
    Station(usize),
    Feeder(String),
}

fn norm(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

/// Splits "Kerkstraat 12a" / "6811AB 12" into text and (number, addition).
fn split_number(q: &str) -> (String, Option<(u32, String)>) {
    let t = q.trim();
    if let Some(pos) = t.rfind(char::is_whitespace) {
        let last = &t[pos + 1..];
        let digits: String = last.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty()
            && let Ok(n) = digits.parse()
        {
            return (t[..pos].trim().to_string(), Some((n, last[digits.len()..].to_ascii_lowercase())));
        }
    }
    (t.to_string(), None)
}

fn is_postcode(s: &str) -> bool {
    let b = norm(s);
    let b = b.as_bytes();
    b.len() == 6 && b[..4].iter().all(u8::is_ascii_digit) && b[4..].iter().all(u8::is_ascii_alphabetic)
}

/// Finds what `query` names. EANs match on any part of the code (at least 4 digits).
pub fn search(net: &Network, query: &str) -> Vec<SearchHit> {
    let q = query.trim();
    if q.len() < 2 {
        return Vec::new();
    }
    let mut hits = Vec::new();
    let digits_only = q.chars().all(|c| c.is_ascii_digit());
    if digits_only && q.len() >= 4 {
        hits.extend(net.connections.iter().enumerate().filter(|(_, c)| c.ean.contains(q)).map(|(i, _)| SearchHit::Connection(i)));
        hits.truncate(MAX_HITS);
        return hits;
    }
    let (text, number) = split_number(q);
    let number_matches = |c: &lvtopo_core::model::Connection| match &number {
        None => true,
        Some((n, add)) => {
            c.house_number == Some(*n)
                && (add.is_empty() || c.house_number_addition.as_deref().map(str::to_ascii_lowercase).as_deref() == Some(add))
        }
    };
    // Postcode (+ number), e.g. "6811 AB 12" or "6811ab".
    let (pc_text, pc_number) = if is_postcode(q) { (q.to_string(), None) } else { (text.clone(), number.clone()) };
    if is_postcode(&pc_text) {
        let pc = norm(&pc_text);
        let pc_matches = |c: &lvtopo_core::model::Connection| c.postcode.as_deref().map(norm).as_deref() == Some(pc.as_str());
        let list: Vec<usize> = net
            .connections
            .iter()
            .enumerate()
            .filter(|(_, c)| pc_matches(c))
            .filter(|(_, c)| pc_number.as_ref().is_none_or(|(n, _)| c.house_number == Some(*n)) && number_matches(c))
            .map(|(i, _)| i)
            .collect();
        if pc_number.is_some() {
            hits.extend(list.into_iter().map(SearchHit::Connection));
        } else if !list.is_empty() {
            let street = net.connections[list[0]].street.clone().unwrap_or_default();
            hits.push(SearchHit::Street { street: format!("{street} ({})", pc_text.to_uppercase()), connections: list });
        }
        return hits;
    }
    // Stations and feeders by id or name.
    let lq = q.to_lowercase();
    for (i, s) in net.stations.iter().enumerate() {
        if s.id.to_lowercase().contains(&lq) || s.name.as_deref().is_some_and(|n| n.to_lowercase().contains(&lq)) {
            hits.push(SearchHit::Station(i));
        }
    }
    for (f, _) in net.feeders() {
        if f.to_lowercase().contains(&lq) {
            hits.push(SearchHit::Feeder(f));
        }
    }
    // Streets (grouped), or single addresses when a number is given.
    let lt = text.to_lowercase();
    let mut streets: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, c) in net.connections.iter().enumerate() {
        let Some(street) = &c.street else { continue };
        if !street.to_lowercase().contains(&lt) {
            continue;
        }
        if number.is_some() {
            if number_matches(c) {
                hits.push(SearchHit::Connection(i));
            }
        } else {
            match streets.iter_mut().find(|(s, _)| s == street) {
                Some((_, v)) => v.push(i),
                None => streets.push((street.clone(), vec![i])),
            }
        }
    }
    hits.extend(streets.into_iter().map(|(street, connections)| SearchHit::Street { street, connections }));
    hits.truncate(MAX_HITS);
    hits
}

#[derive(Default)]
pub struct SearchPanel {
    query: String,
    hits: Vec<SearchHit>,
    /// Query and dataset the hits were computed for.
    computed_for: Option<(String, usize)>,
}

impl View for SearchPanel {
    fn id(&self) -> &'static str {
        panel_ids::SEARCH
    }
    fn title(&self) -> String {
        "Search".into()
    }
    fn placement(&self) -> Placement {
        Placement::Left
    }
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext<'_>) {
        let Some(ds) = cx.dataset() else {
            ui.weak("No network open");
            return;
        };
        let net = ds.network.clone();
        let edit = egui::TextEdit::singleline(&mut self.query)
            .id(egui::Id::unique(SEARCH_FIELD_ID))
            .hint_text("EAN, 6811AB 12, street…")
            .desired_width(f32::INFINITY);
        ui.add(edit)
            .on_hover_text("EAN (or part of it), postcode with house number, street with or without number, station or feeder");
        let key = (self.query.clone(), std::sync::Arc::as_ptr(&net) as usize);
        if self.computed_for.as_ref() != Some(&key) {
            self.hits = search(&net, &self.query);
            self.computed_for = Some(key);
        }
        if self.query.trim().len() >= 2 && self.hits.is_empty() {
            ui.weak("Nothing found");
        }
        if self.hits.is_empty() {
            return;
        }
        egui::ScrollArea::vertical().id_salt("search-hits").max_height(220.0).show(ui, |ui| {
            for hit in &self.hits {
                match hit {
                    SearchHit::Connection(i) => {
                        let c = &net.connections[*i];
                        let text = format!("{} · {}", c.address(), c.ean);
                        if ui.selectable_label(cx.state.selection.primary == Some(*i), text).clicked() {
                            cx.push(UiCommand::Select { connections: vec![*i], add: false });
                            cx.push(UiCommand::ZoomToSelection);
                        }
                    }
                    SearchHit::Street { street, connections } => {
                        if ui.selectable_label(false, format!("{street} — {} connections", connections.len())).clicked() {
                            cx.push(UiCommand::Select { connections: connections.clone(), add: false });
                            cx.push(UiCommand::ZoomToSelection);
                        }
                    }
                    SearchHit::Station(s) => {
                        let st = &net.stations[*s];
                        if ui.selectable_label(false, format!("Station {}", st.name.as_deref().unwrap_or(&st.id))).clicked() {
                            cx.push(UiCommand::ZoomToStation(*s));
                        }
                    }
                    SearchHit::Feeder(f) => {
                        if ui.selectable_label(false, format!("Feeder {f}")).clicked() {
                            cx.push(UiCommand::ZoomToFeeder(f.clone()));
                        }
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net() -> Network {
        lvtopo_core::sim::synthetic::layout(120, 120, 3)
    }

    #[test]
    fn finds_by_ean_part() {
        let n = net();
        let ean = n.connections[17].ean.clone();
        assert_eq!(search(&n, &ean), vec![SearchHit::Connection(17)]);
    }

    #[test]
    fn finds_by_postcode_and_number() {
        let n = net();
        let c = &n.connections[5];
        let pc = c.postcode.clone().unwrap();
        let q = format!("{} {} {}", &pc[..4], &pc[4..].to_lowercase(), c.house_number.unwrap());
        let hits = search(&n, &q);
        assert!(hits.contains(&SearchHit::Connection(5)), "{q}: {hits:?}");
        assert!(hits.iter().all(|h| matches!(h, SearchHit::Connection(i) if n.connections[*i].house_number == c.house_number)));
    }

    #[test]
    fn finds_street_group_and_address() {
        let n = net();
        let c = &n.connections[0];
        let street = c.street.clone().unwrap();
        let hits = search(&n, &street.to_uppercase());
        assert!(hits.iter().any(|h| matches!(h, SearchHit::Street { connections, .. } if connections.contains(&0))));
        let hits = search(&n, &format!("{street} {}", c.house_number.unwrap()));
        assert!(hits.contains(&SearchHit::Connection(0)));
    }

    #[test]
    fn short_query_finds_nothing() {
        assert!(search(&net(), "a").is_empty());
    }
}
