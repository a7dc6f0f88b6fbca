//! Accuracy sweep and speed benchmark of the inference.

use super::metrics::{self, Accuracy};
use super::{AnalysisOptions, analyze};
use crate::model::Topology;
use crate::progress::NoProgress;
use crate::sim::{self, SimConfig};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct AccuracyArgs {
    /// Generated networks per scenario (seeds 1..=N).
    #[arg(long, default_value_t = 2)]
    pub seeds: u64,
    /// Stations per generated network.
    #[arg(long, default_value_t = 3)]
    pub stations: usize,
    /// Connections per station.
    #[arg(long, default_value_t = 200)]
    pub connections_per_station: usize,
    /// Only these scenarios (substring match on the name).
    #[arg(long)]
    pub only: Option<String>,
    /// Analysis options as JSON (any subset of the fields). Repeat to compare settings on
    /// the same generated networks (one table per options file).
    #[arg(long)]
    pub options: Vec<std::path::PathBuf>,
    /// Also print the reliability of the stated confidences per scenario.
    #[arg(long)]
    pub reliability: bool,
    /// Also list every wrong suggestion (EAN, the suggestion with its confidences, the truth).
    #[arg(long)]
    pub wrong: bool,
    /// Write every generated network (with its read and truth) to DIR/<scenario>-seed<N>,
    /// to reproduce a case with `lvtopo analyze`.
    #[arg(long, value_name = "DIR")]
    pub dump: Option<std::path::PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct SpeedArgs {
    /// Generator preset of the region.
    #[arg(long, default_value = "region")]
    pub preset: String,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Override the number of stations of the preset.
    #[arg(long)]
    pub stations: Option<usize>,
    /// Also list every wrong suggestion.
    #[arg(long)]
    pub wrong: bool,
}

/// One scenario of the sweep: a name and how it changes the base configuration.
pub struct Scenario {
    pub name: &'static str,
    pub apply: fn(&mut SimConfig),
}

pub fn scenarios() -> Vec<Scenario> {
    /// No heat pumps or EVs, meters 0.3% off: the weakest phase signal.
    fn quiet(c: &mut SimConfig) {
        c.heat_pump_share = 0.0;
        c.ev_share = 0.0;
        c.meter_gain_sigma = 0.003;
    }
    fn summer(c: &mut SimConfig) {
        let _ = c.set_season("summer");
        c.pv_share = 0.55;
    }
    vec![
        Scenario { name: "10 d, 0.1 V, 100% smart, winter", apply: |_| {} },
        Scenario { name: "10 d, 1 V, 100% smart, winter", apply: |c| c.rounding_v = 1.0 },
        Scenario { name: "7 d, 0.1 V, 100% smart, winter", apply: |c| c.days = 7 },
        Scenario {
            name: "7 d, 1 V, 100% smart, winter",
            apply: |c| {
                c.days = 7;
                c.rounding_v = 1.0
            },
        },
        Scenario { name: "3 d, 0.1 V, 100% smart, winter", apply: |c| c.days = 3 },
        Scenario {
            name: "3 d, 1 V, 100% smart, winter",
            apply: |c| {
                c.days = 3;
                c.rounding_v = 1.0
            },
        },
        Scenario { name: "10 d, 0.1 V, 70% smart, winter", apply: |c| c.smart_share = 0.7 },
        Scenario {
            name: "10 d, 1 V, 70% smart, winter",
            apply: |c| {
                c.smart_share = 0.7;
                c.rounding_v = 1.0
            },
        },
        Scenario { name: "10 d, 0.1 V, 100% smart, summer PV", apply: summer },
        Scenario {
            name: "10 d, 0.1 V, 100% smart, summer no PV",
            apply: |c| {
                let _ = c.set_season("summer");
                c.pv_share = 0.0;
            },
        },
        Scenario {
            name: "10 d, 1 V, 100% smart, summer PV",
            apply: |c| {
                summer(c);
                c.rounding_v = 1.0
            },
        },
        Scenario {
            name: "10 d, 1 V, quiet, meters 0.3%",
            apply: |c| {
                quiet(c);
                c.rounding_v = 1.0;
            },
        },
        Scenario { name: "10 d, 0.1 V, quiet, meters 0.3%", apply: quiet },
    ]
}

/// The base configuration of the sweep (full smart-meter coverage, winter, 0.1 V,
/// meter gain error 0.1%).
pub fn base_config(stations: usize, connections_per_station: usize) -> SimConfig {
    let mut c = SimConfig::preset("street").expect("street preset exists");
    c.preset = "bench".into();
    c.stations = stations;
    c.connections_per_station = connections_per_station;
    c.town = None;
    c.smart_share = 1.0;
    // Real meters are calibrated to a few tenths of a percent: at 1 V rounding that
    // decides which meters cross a rounding threshold together (docs/independent-check.md).
    c.meter_gain_sigma = 0.001;
    c.feed_in = false;
    c.outages = false;
    c
}

/// Generates and analyses one network; returns its accuracy.
pub fn run_one(cfg: &SimConfig, seed: u64, opts: &AnalysisOptions) -> anyhow::Result<Accuracy> {
    Ok(run_many(cfg, seed, std::slice::from_ref(opts))?.remove(0))
}

/// Generates one network and analyses it once per options set.
pub fn run_many(cfg: &SimConfig, seed: u64, opts: &[AnalysisOptions]) -> anyhow::Result<Vec<Accuracy>> {
    run_and_dump(cfg, seed, opts, None)
}

/// [`run_many`], also writing the generated network to `dump` when given.
fn run_and_dump(
    cfg: &SimConfig,
    seed: u64,
    opts: &[AnalysisOptions],
    dump: Option<&std::path::Path>,
) -> anyhow::Result<Vec<Accuracy>> {
    let out = sim::generate(cfg, seed, &NoProgress).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(dir) = dump {
        sim::write::write(&out, dir, &Default::default()).map_err(|e| anyhow::anyhow!("writing {}: {e}", dir.display()))?;
    }
    let voltage = out.measurements.voltage.as_ref().ok_or_else(|| anyhow::anyhow!("the generator produced no voltage table"))?;
    let topo = Topology::build(&out.network);
    opts.iter()
        .map(|o| {
            let res = analyze(&out.network, &topo, voltage, o, &NoProgress).map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(metrics::evaluate(&out.network, &res, &out.truth))
        })
        .collect()
}

pub fn accuracy(args: AccuracyArgs) -> anyhow::Result<ExitCode> {
    let mut sets: Vec<(String, AnalysisOptions)> = Vec::new();
    for p in &args.options {
        let text = std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("reading {}: {e}", p.display()))?;
        let o = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: expected analysis options as JSON: {e}", p.display()))?;
        sets.push((p.display().to_string(), o));
    }
    if sets.is_empty() {
        sets.push(("default options".into(), AnalysisOptions::default()));
    }
    println!(
        "Inference accuracy on generated networks ({} seed(s) x {} stations x ~{} connections per scenario)",
        args.seeds, args.stations, args.connections_per_station
    );
    println!("phase: single-phase connections; rotation: three-phase meters; accuracies over connections with voltage data;");
    println!(
        "prec.: share of suggest_change that are right; recall: GIS errors (phase/feeder/cable) found with the right value;"
    );
    println!("insuf.: share of all connections with status insufficient_data (conventional meters included).");
    let opts: Vec<AnalysisOptions> = sets.iter().map(|s| s.1.clone()).collect();
    let mut rows: Vec<Vec<(&'static str, Accuracy)>> = vec![Vec::new(); sets.len()];
    let mut all: Vec<Accuracy> = vec![Accuracy::default(); sets.len()];
    for sc in scenarios() {
        if args.only.as_deref().is_some_and(|o| !sc.name.contains(o)) {
            continue;
        }
        let mut cfg = base_config(args.stations, args.connections_per_station);
        (sc.apply)(&mut cfg);
        let mut totals = vec![Accuracy::default(); sets.len()];
        let slug: String = sc.name.chars().map(|ch| if ch.is_ascii_alphanumeric() || ch == '.' { ch } else { '-' }).collect();
        for seed in 1..=args.seeds {
            let dump = args.dump.as_ref().map(|d| d.join(format!("{slug}-seed{seed}")));
            for (t, a) in totals.iter_mut().zip(run_and_dump(&cfg, seed, &opts, dump.as_deref())?) {
                t.add(&a);
            }
        }
        for (i, t) in totals.into_iter().enumerate() {
            all[i].add(&t);
            // Progress on stderr; the tables follow on stdout when every scenario is done.
            eprintln!("{} [{}]", metrics::table_row(sc.name, &t), sets[i].0);
            rows[i].push((sc.name, t));
        }
    }
    for (i, (name, _)) in sets.iter().enumerate() {
        println!("\n{name}:\n{}", metrics::table_header());
        println!("|{}|", "-".repeat(metrics::table_header().len() - 2));
        for (sc, t) in &rows[i] {
            println!("{}", metrics::table_row(sc, t));
            if args.reliability {
                println!("|   confidence reliability: {}", t.reliability());
            }
            if args.wrong {
                t.wrong_suggestions.iter().for_each(|w| println!("|   wrong: {w}"));
            }
        }
        println!("{}", metrics::table_row("all scenarios", &all[i]));
        println!(
            "suggestions {} ({} right); GIS errors {} ({} found)",
            all[i].suggestions, all[i].suggestions_right, all[i].gis_errors, all[i].gis_errors_found
        );
        if args.reliability {
            println!("confidence reliability (all scenarios): {}", all[i].reliability());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Peak resident memory of this process (VmHWM), in MB.
pub fn peak_memory_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn speed(args: SpeedArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = SimConfig::preset(&args.preset).map_err(|e| anyhow::anyhow!(e))?;
    if let Some(s) = args.stations {
        cfg.stations = s;
    }
    cfg.outages = false;
    cfg.feed_in = false;
    eprintln!(
        "generating preset {:?}: {} stations x ~{} connections x {} days ...",
        cfg.preset, cfg.stations, cfg.connections_per_station, cfg.days
    );
    let t0 = Instant::now();
    let out = sim::generate(&cfg, args.seed, &NoProgress).map_err(|e| anyhow::anyhow!("{e}"))?;
    let gen_s = t0.elapsed().as_secs_f64();
    let mem_after_gen = peak_memory_mb();
    let voltage = out.measurements.voltage.as_ref().ok_or_else(|| anyhow::anyhow!("no voltage table"))?;
    let t1 = Instant::now();
    let cpu1 = super::process_cpu_seconds();
    let topo = Topology::build(&out.network);
    let topo_s = t1.elapsed().as_secs_f64();
    let res =
        analyze(&out.network, &topo, voltage, &AnalysisOptions::default(), &NoProgress).map_err(|e| anyhow::anyhow!("{e}"))?;
    let analysis_s = t1.elapsed().as_secs_f64();
    let cpu_s = super::process_cpu_seconds().zip(cpu1).map(|(b, a)| b - a);
    let acc = metrics::evaluate(&out.network, &res, &out.truth);
    println!(
        "region: {} stations, {} connections, {} voltage series x {} steps (generated in {gen_s:.1} s)",
        out.network.stations.len(),
        out.network.connections.len(),
        voltage.keys.len(),
        voltage.grid.len
    );
    println!("threads: {}", rayon::current_num_threads());
    println!("analysis (topology + inference): {analysis_s:.2} s wall (topology {topo_s:.2} s)");
    if let Some(c) = cpu_s {
        // CPU time does not grow when other processes share the cores; wall time does.
        println!("analysis CPU time (all threads): {c:.2} s");
    }
    if let (Some(a), Some(b)) = (mem_after_gen, peak_memory_mb()) {
        println!("peak memory (VmHWM): {b:.0} MB in all; {a:.0} MB after generating the region");
    }
    println!("{}\n{}", metrics::table_header(), metrics::table_row(&args.preset, &acc));
    println!(
        "suggestions {} ({} right); GIS errors {} ({} found)",
        acc.suggestions, acc.suggestions_right, acc.gis_errors, acc.gis_errors_found
    );
    if args.wrong {
        acc.wrong_suggestions.iter().for_each(|w| println!("wrong: {w}"));
    }
    Ok(ExitCode::SUCCESS)
}
