//! Accuracy sweep and speed benchmark of the inference.

use lvtopo_core::analysis::metrics::{self, Accuracy};
use lvtopo_core::analysis::sweep::{base_config, run_and_dump, scenarios};
use lvtopo_core::analysis::{AnalysisOptions, analyze};
use lvtopo_core::model::Topology;
use lvtopo_core::progress::NoProgress;
use lvtopo_core::sim::{self, SimConfig};
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
    /// Score the independent grid corpus in DIR (e.g. `sample-networks/corpus`) instead of
    /// generated networks: a row per network and read, per family and rounding, overall.
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<std::path::PathBuf>,
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
    if let Some(dir) = &args.corpus {
        for (name, o) in &sets {
            println!("\n{name}:");
            corpus_tables(dir, o, &args)?;
        }
        return Ok(ExitCode::SUCCESS);
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
    let cpu1 = lvtopo_core::analysis::process_cpu_seconds();
    let topo = Topology::build(&out.network);
    let topo_s = t1.elapsed().as_secs_f64();
    let res =
        analyze(&out.network, &topo, voltage, &AnalysisOptions::default(), &NoProgress).map_err(|e| anyhow::anyhow!("{e}"))?;
    let analysis_s = t1.elapsed().as_secs_f64();
    let cpu_s = lvtopo_core::analysis::process_cpu_seconds().zip(cpu1).map(|(b, a)| b - a);
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

/// The corpus tables: every read, then per family and rounding, then per rounding; the
/// GIS as registered beside feeder and cable; the reliability of the stated values.
fn corpus_tables(dir: &std::path::Path, opts: &AnalysisOptions, args: &AccuracyArgs) -> anyhow::Result<()> {
    use std::collections::BTreeMap;
    let scored = lvtopo_core::analysis::corpus::evaluate_all(dir, opts)?;
    let pct = |v: f64| if v.is_nan() { "-".to_string() } else { format!("{:.1}%", 100.0 * v) };
    let row = |name: &str, a: &Accuracy| {
        format!(
            "{} {:>6} {:>6} | {:>7} {:>7} | {:>4}/{:<4}",
            metrics::table_row(name, a),
            pct(a.gis_feeder()),
            pct(a.gis_cable()),
            pct(a.reliability_above_099()),
            pct(a.reliability_090_099()),
            a.suggestions_right,
            a.suggestions
        )
    };
    let header =
        format!("{} {:>6} {:>6} | {:>7} {:>7} | right/sugg.", metrics::table_header(), "GIS f.", "GIS c.", ">=0.99", "0.9-.99");
    println!("Independent grid corpus {} (voltages from power-grid-model, 10 days)", dir.display());
    println!("GIS f./c.: feeder / cable as registered; >=0.99, 0.9-.99: share right of the values stated in that range.");
    println!("{header}");
    let mut by_family: BTreeMap<(String, &str), Accuracy> = BTreeMap::new();
    let mut by_rounding: BTreeMap<&str, Accuracy> = BTreeMap::new();
    for (read, a) in &scored {
        println!("{}", row(&format!("{} {}", read.network, read.rounding), a));
        if args.reliability {
            println!("|   confidence reliability: {}", a.reliability());
        }
        if args.wrong {
            a.wrong_suggestions.iter().for_each(|w| println!("|   wrong: {w}"));
        }
        by_family.entry((read.family.clone(), read.rounding)).or_default().add(a);
        by_rounding.entry(read.rounding).or_default().add(a);
    }
    println!("{header}");
    for ((family, rounding), a) in &by_family {
        println!("{}", row(&format!("{family} {rounding}"), a));
    }
    for (rounding, a) in &by_rounding {
        println!("{}", row(&format!("all networks {rounding}"), a));
        if args.reliability {
            println!("|   confidence reliability: {}", a.reliability());
        }
    }
    let worst = |f: fn(&Accuracy) -> f64| {
        scored
            .iter()
            .map(|(r, a)| (f(a), format!("{} {}", r.network, r.rounding)))
            .filter(|(v, _)| !v.is_nan())
            .min_by(|x, y| x.0.total_cmp(&y.0))
    };
    let metrics_list: [(&str, fn(&Accuracy) -> f64); 7] = [
        ("phase", Accuracy::phase),
        ("rotation", Accuracy::rotation),
        ("feeder", Accuracy::feeder),
        ("cable", Accuracy::cable),
        ("precision", Accuracy::precision),
        ("recall", Accuracy::recall),
        (">=0.99 right", Accuracy::reliability_above_099),
    ];
    for (name, f) in metrics_list {
        if let Some((v, at)) = worst(f) {
            println!("worst {name}: {} ({at})", pct(v));
        }
    }
    pv_table(dir, &scored)
}

/// PV detection (use case 6) on each corpus network's week of feed-in.
fn pv_table(dir: &std::path::Path, scored: &[(lvtopo_core::analysis::corpus::CorpusRead, Accuracy)]) -> anyhow::Result<()> {
    use lvtopo_core::analysis::corpus::{PvScore, evaluate_pv};
    let settings = lvtopo_core::quality::solar::SolarSettings::default();
    let mut networks: Vec<&std::path::Path> = scored.iter().map(|(r, _)| r.dir.as_path()).collect();
    networks.dedup();
    println!("\nPV detection on the week of feed-in (smart meters with feed-in; dip: found only as a midday dip):");
    println!("| network                  | found | false | missed | precision | recall | kWp within 25% | dip |");
    let mut total = PvScore::default();
    for d in networks {
        let Some(p) = evaluate_pv(d, &settings)? else { continue };
        let name = d.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        println!(
            "| {name:<24} | {:>5} | {:>5} | {:>6} | {:>8.1}% | {:>5.1}% | {:>14} | {:>3} |",
            p.true_positive,
            p.false_positive,
            p.missed,
            100.0 * p.precision(),
            100.0 * p.recall(),
            format!("{} of {}", p.kwp_within_25, p.true_positive),
            p.dip_only
        );
        for (ean, kwp) in &p.missed_systems {
            println!("|   missed: {ean} ({kwp} kWp)");
        }
        total.add(&p);
    }
    println!(
        "| {:<24} | {:>5} | {:>5} | {:>6} | {:>8.1}% | {:>5.1}% | {:>14} | {:>3} |",
        "all networks",
        total.true_positive,
        total.false_positive,
        total.missed,
        100.0 * total.precision(),
        100.0 * total.recall(),
        format!("{} of {}", total.kwp_within_25, total.true_positive),
        total.dip_only
    );
    let _ = dir;
    Ok(())
}
