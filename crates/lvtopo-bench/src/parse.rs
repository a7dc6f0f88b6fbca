//! Parse-throughput benchmark of the voltage reader: writes a synthetic
//! `voltage.csv` (simple values, not the simulator) to a temp folder and reads it.

use lvtopo_core::io::ImportReport;
use lvtopo_core::io::voltage::read_voltage;
use lvtopo_core::model::time::format_amsterdam;
use lvtopo_core::progress::NoProgress;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct ParseArgs {
    /// Number of meters (one channel each).
    #[arg(long, default_value_t = 20_000)]
    pub meters: usize,
    /// 10-minute steps per meter (1,440 = 10 days).
    #[arg(long, default_value_t = 1_440)]
    pub steps: usize,
}

pub fn parse(a: ParseArgs) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("voltage.csv");
    let t0 = Instant::now();
    let start = 1_741_561_200i64; // 2025-03-10T00:00:00+01:00
    let times: Vec<String> = (0..a.steps).map(|i| format_amsterdam(start + 600 * (i as i64 + 1))).collect();
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
        w.write_all(b"ean,timestamp,channel,voltage_v\n")?;
        for m in 0..a.meters {
            let ean = format!("8716871{:011}", m);
            for (i, t) in times.iter().enumerate() {
                let v = 225.0 + ((m * 7 + i * 13) % 100) as f64 / 10.0;
                writeln!(w, "{ean},{t},L1,{v:.1}")?;
            }
        }
        w.flush()?;
    }
    let bytes = std::fs::metadata(&path)?.len();
    println!("wrote {:.0} MB ({} rows) in {:.1} s", bytes as f64 / 1e6, a.meters * a.steps, t0.elapsed().as_secs_f64());
    let mut report = ImportReport::default();
    let t = Instant::now();
    let cpu0 = lvtopo_core::analysis::process_cpu_seconds();
    let table = read_voltage(&path, None, &mut report, &NoProgress).map_err(anyhow::Error::msg)?;
    let s = t.elapsed().as_secs_f64();
    let cpu = lvtopo_core::analysis::process_cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    let rows = report.files.first().map(|f| f.rows_read).unwrap_or(0);
    println!(
        "parsed {rows} rows into {} series x {} steps in {s:.2} s: {:.0} MB/s, {:.1} M rows/s ({} issue(s))",
        table.as_ref().map(|t| t.keys.len()).unwrap_or(0),
        table.as_ref().map(|t| t.grid.len).unwrap_or(0),
        bytes as f64 / 1e6 / s,
        rows as f64 / 1e6 / s,
        report.issues.len()
    );
    if let Some(c) = cpu {
        // CPU time does not grow when other processes share the cores; wall time does.
        println!("CPU time (all threads): {c:.2} s; {:.0} MB per CPU second", bytes as f64 / 1e6 / c.max(1e-9));
    }
    Ok(ExitCode::SUCCESS)
}
