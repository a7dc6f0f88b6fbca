//! `lvtopo bench ui`: the time from start to a usable map on the bundled sample
//! network, and the frame time while panning and zooming over a generated
//! region of 100k connections.
//!
//! Frames run through egui_kittest's harness, the same `LvtopoApp::ui` as in the
//! window: the figure is the CPU time of one frame (layout, R-tree query, map
//! geometry, tessellation), without GPU rasterisation, which a desktop GPU does
//! in well under a millisecond for these few meshes.

use egui_kittest::Harness;
use lvtopo_app::app::{AppOptions, LvtopoApp, StartWith};
use lvtopo_app::state::Dataset;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct UiBenchArgs {
    /// Connections in the generated region.
    #[arg(long, default_value_t = 100_000)]
    pub connections: usize,
    /// Connections per station in the generated region.
    #[arg(long, default_value_t = 250)]
    pub per_station: usize,
    /// Frames of panning and zooming to time.
    #[arg(long, default_value_t = 240)]
    pub frames: usize,
    /// Window size in points (width x height).
    #[arg(long, default_value = "1600x1000")]
    pub size: String,
}

fn harness(app: LvtopoApp, size: egui::Vec2) -> Harness<'static, LvtopoApp> {
    Harness::builder().with_size(size).build_ui_state(|ui, app: &mut LvtopoApp| app.ui(ui), app)
}

fn parse_size(s: &str) -> anyhow::Result<egui::Vec2> {
    let (w, h) = s.split_once('x').ok_or_else(|| anyhow::anyhow!("--size: expected WIDTHxHEIGHT, found {s:?}"))?;
    Ok(egui::vec2(w.trim().parse()?, h.trim().parse()?))
}

pub fn run(args: UiBenchArgs) -> anyhow::Result<ExitCode> {
    let size = parse_size(&args.size)?;
    start_up(size)?;
    panning(&args, size)?;
    Ok(ExitCode::SUCCESS)
}

/// From creating the app to the first frame that shows the sample network.
fn start_up(size: egui::Vec2) -> anyhow::Result<()> {
    let sample = lvtopo_app::loader::find_sample();
    let t0 = Instant::now();
    let mut app = LvtopoApp::new(AppOptions { start: StartWith::Sample, ..AppOptions::headless() });
    app.map.tiles_enabled = false;
    let mut h = harness(app, size);
    let mut frames = 0;
    let usable = loop {
        h.step();
        frames += 1;
        let app = h.state();
        if app.state.dataset.is_some() && app.map.last_drawn.0 > 0 {
            break t0.elapsed();
        }
        if t0.elapsed() > Duration::from_secs(120) {
            anyhow::bail!("no map after 120 s");
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    // The measurement files follow in the background while the map is already in use.
    while h.state().is_busy() && t0.elapsed() < Duration::from_secs(300) {
        h.step();
        std::thread::sleep(Duration::from_millis(2));
    }
    let all_read = t0.elapsed();
    let app = h.state();
    let ds = app.state.dataset.as_ref().expect("dataset");
    println!(
        "start-up: {} ({} connections): usable map after {:.0} ms ({} frames); its {} measurement files read in the background after {:.0} ms",
        sample.map(|p| p.display().to_string()).unwrap_or_else(|| "generated town".into()),
        ds.network.connections.len(),
        usable.as_secs_f64() * 1e3,
        frames,
        ds.measurement_paths.len(),
        all_read.as_secs_f64() * 1e3,
    );
    Ok(())
}

/// Pans across the region at street and district zoom, and zooms in and out.
fn panning(args: &UiBenchArgs, size: egui::Vec2) -> anyhow::Result<()> {
    let t = Instant::now();
    let net = lvtopo_core::sim::synthetic::layout(args.connections, args.per_station, 42);
    let ds = Dataset::from_parts("bench region", net, Default::default(), Default::default());
    let bounds = ds.index.bounds;
    let at = |fx: f64, fy: f64| {
        [bounds.min[0] + fx * (bounds.max[0] - bounds.min[0]), bounds.min[1] + fy * (bounds.max[1] - bounds.min[1])]
    };
    println!(
        "region: {} connections, {} cable sections, {} stations; built (layout, topology, R-tree) in {:.2} s",
        ds.network.connections.len(),
        ds.network.cables.len(),
        ds.network.stations.len(),
        t.elapsed().as_secs_f64()
    );
    let mut app = LvtopoApp::new(AppOptions::headless());
    app.map.tiles_enabled = false;
    app.open_dataset(ds);
    let mut h = harness(app, size);
    h.run_steps(3);

    // Zoom 13 shows the whole region at once (worst case: everything visible),
    // 15-16 a district, 18 a street.
    let n = args.frames;
    let tau = std::f64::consts::TAU;
    for zoom in [13.0, 15.0, 16.0, 18.0] {
        let views = (0..n).map(|k| {
            let f = k as f64 / n as f64;
            (at(f, 0.5 + 0.3 * (f * tau).sin()), zoom)
        });
        time_frames(&mut h, &format!("pan at zoom {zoom:>4}"), views);
    }
    let views = (0..n).map(|k| (at(0.5, 0.5), 13.0 + 5.0 * (0.5 - 0.5 * (k as f64 / n as f64 * tau).cos())));
    time_frames(&mut h, "zoom 13 -> 18 -> 13", views);
    Ok(())
}

/// Times one frame per view (center, zoom) and prints the distribution.
fn time_frames(h: &mut Harness<'_, LvtopoApp>, what: &str, views: impl Iterator<Item = ([f64; 2], f64)>) {
    let mut times = Vec::new();
    let mut drawn = (0usize, 0usize);
    for (center, zoom) in views {
        h.state_mut().map.set_view(center, zoom);
        let t = Instant::now();
        h.step();
        times.push(t.elapsed());
        let d = h.state().map.last_drawn;
        drawn = (drawn.0.max(d.0), drawn.1.max(d.1));
    }
    report(what, &mut times, drawn);
}

fn report(what: &str, times: &mut [Duration], drawn: (usize, usize)) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    let mean = times.iter().map(|d| ms(*d)).sum::<f64>() / times.len() as f64;
    println!(
        "{what}: frame mean {:.1} ms, median {:.1} ms, p95 {:.1} ms, max {:.1} ms ({:.0} fps at p95); up to {} connections and {} cable segments drawn",
        mean,
        ms(pct(0.5)),
        ms(pct(0.95)),
        ms(pct(1.0)),
        1e3 / ms(pct(0.95)).max(1e-3),
        drawn.0,
        drawn.1
    );
}
