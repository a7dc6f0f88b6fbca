//! The outage scenario: a cable fault of several hours (staggered restoration
//! across 4 h and 8 h, starting in the evening and lasting past midnight), a
//! short unplanned outage of another feeder, and planned work on a section.
//! Produces the true interruptions per connection, the meters' logs, the
//! registration as the operator made it (its own, slightly-off times) and the
//! answers to "voltage present?" reads during the fault.

use super::errors::GisError;
use super::layout::StationLayout;
use super::{ConnSetup, SimConfig};
use crate::model::time::{Timestamp, amsterdam_offset_s, format_amsterdam};
use crate::model::{Incident, Network, OutageRecord, PresenceAnswer, TimeGrid};
use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InterruptionTruth {
    pub ean: String,
    pub start: String,
    pub end: String,
    pub duration_s: i64,
    /// Smart meters log the interruption; conventional meters do not.
    pub smart: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentTruth {
    pub id: String,
    /// `cable_fault`, `short` or `planned`.
    pub kind: String,
    pub planned: bool,
    pub station_id: String,
    pub feeder_id: String,
    /// Really faulted (or worked-on) sections; empty when a whole feeder went out.
    pub faulted_cable_ids: Vec<String>,
    pub start: String,
    pub end: String,
    pub registered_start: String,
    pub registered_end: String,
    pub interruptions: Vec<InterruptionTruth>,
}

#[derive(Clone, Debug, Default)]
pub struct OutagePlan {
    /// Global connection index -> true interruptions (UTC start, end).
    pub interruptions: BTreeMap<usize, Vec<(Timestamp, Timestamp)>>,
    pub incidents: Vec<Incident>,
    pub truths: Vec<IncidentTruth>,
    pub presence: Vec<PresenceAnswer>,
}

impl OutagePlan {
    /// What the smart meters log (conventional meters log nothing), by EAN then time.
    pub fn outage_log(&self, setups: &[ConnSetup]) -> Vec<OutageRecord> {
        let mut out: Vec<OutageRecord> = self
            .interruptions
            .iter()
            .filter(|(g, _)| setups[**g].smart)
            .flat_map(|(g, w)| w.iter().map(move |&(start, end)| OutageRecord { ean: setups[*g].ean.clone(), start, end }))
            .collect();
        out.sort_by(|a, b| a.ean.cmp(&b.ean).then(a.start.cmp(&b.start)));
        out
    }

    fn add(&mut self, g: usize, start: Timestamp, end: Timestamp) {
        self.interruptions.entry(g).or_default().push((start, end));
    }
}

/// UTC instant of a Dutch civil time `day` days after the config's start date.
fn local(cfg: &SimConfig, day: usize, hour: u32, minute: u32) -> Timestamp {
    let date = cfg.start + chrono::Duration::days(day as i64);
    let naive = date.and_hms_opt(hour, minute, 0).unwrap().and_utc().timestamp();
    naive - amsterdam_offset_s(naive - 3600) as i64
}

/// Sections fed through `root` (inclusive), nearest first.
fn downstream(st: &StationLayout, root: usize) -> Vec<usize> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let cur = out[i];
        out.extend(st.sections.iter().enumerate().filter(|(_, s)| s.parent == Some(cur)).map(|(k, _)| k));
        i += 1;
    }
    out
}

#[allow(clippy::too_many_arguments)]
pub fn plan<R: Rng>(
    rng: &mut R,
    cfg: &SimConfig,
    layouts: &[StationLayout],
    station_of: &[(usize, usize)],
    setups: &[ConnSetup],
    gis_errors: &[GisError],
    network: &Network,
    grid: &TimeGrid,
) -> OutagePlan {
    let mut plan = OutagePlan::default();
    let first_g: Vec<usize> = {
        let mut v = Vec::new();
        let mut g = 0;
        for st in layouts {
            v.push(g);
            g += st.houses.len();
        }
        v
    };
    let houses_on = |s: usize, secs: &[usize]| -> Vec<usize> {
        layouts[s].houses.iter().enumerate().filter(|(_, h)| secs.contains(&h.section)).map(|(i, _)| first_g[s] + i).collect()
    };
    let wrong: std::collections::HashSet<&str> =
        gis_errors.iter().filter(|e| e.kind != "phase").map(|e| e.ean.as_str()).collect();
    let mut used_feeders: Vec<(usize, usize)> = Vec::new();
    let grid_end = grid.end();
    let clamp = |t: Timestamp| t.min(grid_end - 600);

    // 1. Cable fault in the evening, staggered restoration into the night.
    let s = 0;
    let st = &layouts[s];
    let mut candidates: Vec<(usize, Vec<usize>, Vec<usize>)> = (0..st.sections.len())
        .filter(|&k| st.sections[k].parent.is_some())
        .map(|k| {
            let secs = downstream(st, k);
            let hs = houses_on(s, &secs);
            (k, secs, hs)
        })
        .filter(|(_, secs, hs)| hs.len() >= 6 && hs.len() <= 60 && secs.len() >= 2)
        .collect();
    if candidates.is_empty() {
        candidates = (0..st.sections.len())
            .map(|k| (k, downstream(st, k), houses_on(s, &downstream(st, k))))
            .filter(|c| c.2.len() >= 2)
            .collect();
    }
    let with_wrong: Vec<usize> =
        (0..candidates.len()).filter(|&i| candidates[i].2.iter().any(|&g| wrong.contains(setups[g].ean.as_str()))).collect();
    if let Some(ci) = if with_wrong.is_empty() {
        (!candidates.is_empty()).then(|| rng.gen_range(0..candidates.len()))
    } else {
        with_wrong.choose(rng).copied()
    } {
        let (sec, secs, hs) = candidates[ci].clone();
        let day = if cfg.days >= 3 { cfg.days / 2 - 1 } else { 0 };
        let long_night = cfg.days >= 2;
        let start = if long_night { local(cfg, day, 20, 40) } else { local(cfg, day, 9, 10) } + rng.gen_range(0..2400);
        // Cabinets are closed one by one from 3 h 40 to 4 h 40 after the fault.
        let step = 60 * 60 / (secs.len().max(2) - 1) as i64;
        let mut late: Vec<usize> = hs.clone();
        late.shuffle(rng);
        late.truncate(if hs.len() > 10 { 2 } else { 1 });
        let mut last_main = start;
        for &g in &hs {
            let (_, h) = station_of[g];
            let order = secs.iter().position(|&x| x == layouts[s].houses[h].section).unwrap_or(0) as i64;
            let mut end = start + 3 * 3600 + 40 * 60 + order * step + rng.gen_range(0..90);
            if late.contains(&g) {
                // A blown service fuse: the mechanic comes the next morning.
                end = start + 8 * 3600 + 5 * 60 + rng.gen_range(0..1800);
            } else {
                last_main = last_main.max(end);
            }
            plan.add(g, start, clamp(end));
        }
        let feeder = st.sections[sec].feeder;
        used_feeders.push((s, feeder));
        let reg_start = start + rng.gen_range(6..15) * 60;
        let reg_end = (last_main / 300 + 1) * 300;
        plan.incidents.push(crate::model::Incident {
            id: "INC-001".into(),
            start: reg_start,
            end: reg_end,
            planned: false,
            cable_ids: vec![st.sections[sec].id.clone()],
        });
        plan.truths.push(truth(
            "INC-001",
            "cable_fault",
            false,
            st,
            feeder,
            vec![st.sections[sec].id.clone()],
            &hs,
            &plan,
            setups,
            reg_start,
            reg_end,
        ));
        // "Voltage present?" reads to every smart meter the GIS puts on this station.
        for (k, ask) in [start + 35 * 60, start + 2 * 3600 + 15 * 60].into_iter().enumerate() {
            for (g, c) in network.connections.iter().enumerate() {
                if c.station_id != st.id || !setups[g].smart {
                    continue;
                }
                let off = plan.interruptions.get(&g).is_some_and(|w| w.iter().any(|&(a, b)| a <= ask && ask < b));
                let answer = if off { rng.gen_bool(0.6).then_some(false) } else { rng.gen_bool(0.95).then_some(true) };
                plan.presence.push(PresenceAnswer {
                    ean: c.ean.clone(),
                    timestamp: ask + k as i64 * 2 + rng.gen_range(0..90),
                    voltage_present: answer,
                });
            }
        }
    }

    // 2. A short unplanned outage of a whole feeder elsewhere.
    let s2 = if layouts.len() > 1 { 1 } else { 0 };
    let st2 = &layouts[s2];
    if let Some(f2) = (0..st2.feeder_ids.len()).find(|f| !used_feeders.contains(&(s2, *f))) {
        let secs: Vec<usize> = (0..st2.sections.len()).filter(|&k| st2.sections[k].feeder == f2).collect();
        let hs = houses_on(s2, &secs);
        let day = 1.min(cfg.days - 1);
        let start = local(cfg, day, 14, 10) + rng.gen_range(0..1800);
        let end = start + rng.gen_range(25..50) * 60;
        for &g in &hs {
            plan.add(g, start, end + rng.gen_range(0..5));
        }
        used_feeders.push((s2, f2));
        let (rs, re) = (start + rng.gen_range(2..6) * 60, (end / 300 + 1) * 300);
        plan.incidents.push(crate::model::Incident {
            id: "INC-002".into(),
            start: rs,
            end: re,
            planned: false,
            cable_ids: Vec::new(),
        });
        plan.truths.push(truth("INC-002", "short", false, st2, f2, Vec::new(), &hs, &plan, setups, rs, re));
    }

    // 3. Planned work on a section (customers were told; registered times are the announced window).
    let s3 = layouts.len() - 1;
    let st3 = &layouts[s3];
    let pick = (0..st3.sections.len())
        .filter(|&k| st3.sections[k].parent.is_some() && !used_feeders.contains(&(s3, st3.sections[k].feeder)))
        .map(|k| (k, houses_on(s3, &downstream(st3, k))))
        .filter(|(_, hs)| hs.len() >= 3 && hs.len() <= 30)
        .min_by_key(|(k, hs)| (hs.len() as i64 - 12).abs() * 1000 + *k as i64);
    if let Some((sec, hs)) = pick {
        let day = cfg.days.saturating_sub(2);
        let (reg_start, reg_end) = (local(cfg, day, 9, 0), local(cfg, day, 11, 30));
        let start = reg_start + rng.gen_range(60..600);
        let end = reg_end - rng.gen_range(300..1500);
        for &g in &hs {
            plan.add(g, start, end + rng.gen_range(0..60));
        }
        let id = vec![st3.sections[sec].id.clone()];
        plan.incidents.push(crate::model::Incident {
            id: "INC-003".into(),
            start: reg_start,
            end: reg_end,
            planned: true,
            cable_ids: id.clone(),
        });
        plan.truths.push(truth(
            "INC-003",
            "planned",
            true,
            st3,
            st3.sections[sec].feeder,
            id,
            &hs,
            &plan,
            setups,
            reg_start,
            reg_end,
        ));
    }
    plan
}

#[allow(clippy::too_many_arguments)]
fn truth(
    id: &str,
    kind: &str,
    planned: bool,
    st: &StationLayout,
    feeder: usize,
    cables: Vec<String>,
    hs: &[usize],
    plan: &OutagePlan,
    setups: &[ConnSetup],
    reg_start: Timestamp,
    reg_end: Timestamp,
) -> IncidentTruth {
    let mut interruptions = Vec::new();
    let (mut first, mut last) = (Timestamp::MAX, Timestamp::MIN);
    for &g in hs {
        // The incident's own window is the last one added for this connection.
        if let Some(&(a, b)) = plan.interruptions.get(&g).and_then(|w| w.last()) {
            first = first.min(a);
            last = last.max(b);
            interruptions.push(InterruptionTruth {
                ean: setups[g].ean.clone(),
                start: format_amsterdam(a),
                end: format_amsterdam(b),
                duration_s: b - a,
                smart: setups[g].smart,
            });
        }
    }
    IncidentTruth {
        id: id.into(),
        kind: kind.into(),
        planned,
        station_id: st.id.clone(),
        feeder_id: st.feeder_ids[feeder].clone(),
        faulted_cable_ids: cables,
        start: format_amsterdam(first),
        end: format_amsterdam(last),
        registered_start: format_amsterdam(reg_start),
        registered_end: format_amsterdam(reg_end),
        interruptions,
    }
}
