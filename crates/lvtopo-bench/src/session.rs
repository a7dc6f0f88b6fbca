//! `lvtopo bench session`: what one click costs on a large region (the command
//! plus its autosave), and how long the exports take. Prints figures.

use lvtopo_core::analysis::{AnalysisResult, Assignment, Evidence, InferredPhase, Status};
use lvtopo_core::model::*;
use lvtopo_core::session::export::{PgmOptions, build_pgm, write_corrections_csv, write_pgm};
use lvtopo_core::session::*;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct SessionBenchArgs {
    /// Connections in the generated region.
    #[arg(long, default_value_t = 100_000)]
    pub connections: usize,
    /// Share of connections with a suggested change.
    #[arg(long, default_value_t = 0.05)]
    pub suggest_share: f64,
}

/// A grid of streets: one station per 400 connections, 4 feeders of 5 cables each.
fn region(n: usize) -> Network {
    let (mut stations, mut cables, mut conns) = (Vec::new(), Vec::new(), Vec::new());
    let per_station = 400;
    for s in 0..n.div_ceil(per_station) {
        let (sx, sy) = (120_000.0 + 800.0 * (s % 50) as f64, 420_000.0 + 800.0 * (s / 50) as f64);
        let sid = format!("S{s}");
        stations.push(Station {
            id: sid.clone(),
            name: None,
            pos: lvtopo_core::crs::point_from_rd(sx, sy),
            extra: Default::default(),
        });
        for f in 0..4 {
            let (dx, dy) = [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)][f];
            let fid = format!("{sid}-F{f}");
            for k in 0..5 {
                let a = 1.0 + 70.0 * k as f64;
                let b = a + 70.0;
                cables.push(Cable {
                    id: format!("{fid}-C{k}"),
                    station_id: sid.clone(),
                    feeder_id: fid.clone(),
                    feeder_derived: false,
                    from_node: None,
                    to_node: None,
                    conductor: Some("4x150Al".into()),
                    r_ohm_per_km: None,
                    length_m: None,
                    geometry: vec![
                        lvtopo_core::crs::point_from_rd(sx + dx * a, sy + dy * a),
                        lvtopo_core::crs::point_from_rd(sx + dx * b, sy + dy * b),
                    ],
                    extra: Default::default(),
                });
                for j in 0..20 {
                    if conns.len() >= n {
                        break;
                    }
                    let t = a + 3.0 * j as f64 + 2.0;
                    let i = conns.len();
                    conns.push(Connection {
                        ean: ean_with_check_digit(&format!("871{i:014}")),
                        station_id: sid.clone(),
                        feeder_id: Some(fid.clone()),
                        cable_id: Some(format!("{fid}-C{k}")),
                        phase: Some(if i % 9 == 0 {
                            PhaseConnection::Three
                        } else {
                            PhaseConnection::Single(Phase::from_index(i))
                        }),
                        street: Some(format!("Straat {s}-{f}")),
                        house_number: Some(j as u32 + 1),
                        house_number_addition: None,
                        postcode: None,
                        meter: MeterKind::Smart,
                        pv_kwp_registered: None,
                        capacity: Capacity::default(),
                        pos: lvtopo_core::crs::point_from_rd(sx + dx * t - dy * 10.0, sy + dy * t + dx * 10.0),
                        service_joint: None,
                        extra: Default::default(),
                    });
                }
            }
        }
    }
    Network::new(stations, cables, conns, Crs::RdNew)
}

fn analysis(net: &Network, share: f64) -> AnalysisResult {
    let every = (1.0 / share.clamp(1e-4, 1.0)).round().max(1.0) as usize;
    let assignments = (0..net.connections.len())
        .map(|i| {
            let c = &net.connections[i];
            let change = i % every == 0 && c.phase.is_some_and(|p| !p.is_three_phase());
            let phase = c.phase.and_then(|p| p.single()).map(|p| if change { Phase::from_index(p.index() + 1) } else { p });
            Assignment {
                connection: i,
                inferred_feeder: c.feeder_id.clone(),
                feeder_confidence: 0.99,
                inferred_cable: c.cable_id.clone(),
                cable_confidence: 0.95,
                inferred_phase: phase.map(InferredPhase::Single),
                phase_confidence: 0.5 + 0.5 * ((i * 7919) % 1000) as f64 / 1000.0,
                status: if change { Status::SuggestChange } else { Status::Ok },
                reason: None,
                evidence: Evidence { phase_correlation: [0.4, 0.9, 0.3], points_used: 1440, ..Default::default() },
            }
        })
        .collect();
    AnalysisResult { assignments }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

pub fn run(args: SessionBenchArgs) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let t = Instant::now();
    let net = Arc::new(region(args.connections));
    println!("generated {} connections, {} cables in {:.0} ms", net.connections.len(), net.cables.len(), ms(t));
    let path = dir.path().join("region.gpkg");
    let t = Instant::now();
    let (mut s, _) = ReviewSession::open(net.clone(), &path);
    println!("open (fingerprint): {:.1} ms", ms(t));
    let t = Instant::now();
    s.set_analysis(analysis(&net, args.suggest_share));
    println!("set_analysis with {} suggestions (incl. autosave): {:.1} ms", s.counts().total, ms(t));
    let size = std::fs::metadata(s.session_file_path().unwrap_or(&path)).map(|m| m.len()).unwrap_or(0);
    println!("session file: {:.1} MB", size as f64 / 1e6);

    let ids: Vec<SuggestionId> = s.suggestions().iter().map(|x| x.id).take(20).collect();
    let t = Instant::now();
    for id in &ids {
        s.apply(SessionCommand::Accept { ids: vec![*id], note: None })?;
    }
    println!("one click (accept one suggestion + autosave): {:.1} ms (mean of {})", ms(t) / ids.len() as f64, ids.len());
    let t = Instant::now();
    let bytes = serde_json::to_vec(&s.to_file())?;
    println!("  of which building + serialising the session file: {:.1} ms", ms(t));
    let t = Instant::now();
    lvtopo_core::session::atomic::write_atomic(&dir.path().join("probe.json"), |w| w.write_all(&bytes))?;
    println!("  of which the atomic write (temp file, fsync, rename): {:.1} ms", ms(t));
    let t = Instant::now();
    s.undo();
    println!("undo + autosave: {:.1} ms", ms(t));
    let t = Instant::now();
    let a = s.apply(SessionCommand::AcceptAllAbove { min_confidence: 0.7, station: None, feeder: None })?;
    println!("accept all above 0.7 ({} suggestions) + autosave: {:.1} ms", a.changed, ms(t));
    let t = Instant::now();
    let q = s.query(&SuggestionFilter { status: Some(DecisionKind::Pending), ..Default::default() }, SortBy::Confidence, true);
    println!("query pending sorted by confidence ({} rows): {:.1} ms", q.len(), ms(t));
    let t = Instant::now();
    let changed = (0..net.connections.len()).filter(|&i| s.effective(i).phase != net.connections[i].phase).count();
    println!("effective values of all connections ({changed} phase changes): {:.1} ms", ms(t));
    let t = Instant::now();
    let corrected = s.corrected_network();
    println!("corrected network: {:.1} ms", ms(t));
    let t = Instant::now();
    let rows = write_corrections_csv(&s, &dir.path().join("corrections.csv"))?;
    println!("corrections.csv ({rows} rows): {:.1} ms", ms(t));
    let t = Instant::now();
    let topo = Topology::build(&corrected);
    println!("topology of the corrected network: {:.0} ms", ms(t));
    let t = Instant::now();
    let model = build_pgm(&corrected, &topo, &PgmOptions::default());
    println!("power-grid-model build ({} nodes, {} lines): {:.0} ms", model.count("node"), model.count("line"), ms(t));
    let t = Instant::now();
    write_pgm(&model, &dir.path().join("region.pgm.json"), &dir.path().join("region.pgm-mapping.csv"))?;
    println!("power-grid-model write: {:.0} ms", ms(t));
    Ok(ExitCode::SUCCESS)
}
