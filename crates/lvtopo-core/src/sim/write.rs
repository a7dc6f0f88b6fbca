//! Writes a generated network: every file of the data contract, `truth.csv`
//! and `scenario.json`, each atomically.

use super::SimOutput;
use crate::io::atomic::write_atomic;
use crate::io::write_csv;
use crate::io::write_geojson::write_network_geojson;
use crate::model::Crs;
use std::io;
use std::path::{Path, PathBuf};

/// How the network layers are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NetworkFormat {
    /// `stations.geojson`, `cables.geojson`, `connections.geojson`.
    #[default]
    GeoJson,
    /// One `network.gpkg` with the layers `stations`, `cables`, `connections`.
    GeoPackage,
}

#[derive(Clone, Debug)]
pub struct WriteOptions {
    pub crs: Crs,
    pub format: NetworkFormat,
    /// Write `voltage.csv.gz` and `feed_in.csv.gz` instead of plain CSV.
    pub gzip_large: bool,
    /// Write the outage log in the DSMR form `ean,end,duration_s`.
    pub outage_log_dsmr: bool,
    /// Write a README.md naming this command to regenerate the folder.
    pub readme_command: Option<String>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            crs: Crs::RdNew,
            format: NetworkFormat::GeoJson,
            gzip_large: true,
            outage_log_dsmr: false,
            readme_command: None,
        }
    }
}

/// Writes everything into `dir` (created if needed); returns the files written.
pub fn write(out: &SimOutput, dir: &Path, opts: &WriteOptions) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut files = Vec::new();
    match opts.format {
        NetworkFormat::GeoJson => {
            write_network_geojson(dir, &out.network, opts.crs)?;
            for f in ["stations.geojson", "cables.geojson", "connections.geojson"] {
                files.push(dir.join(f));
            }
        }
        NetworkFormat::GeoPackage => {
            // The GeoPackage writer of the session export (rusqlite + GPKG geometry blobs),
            // which writes in the network's CRS.
            let p = dir.join("network.gpkg");
            let net = if out.network.source_crs == opts.crs {
                std::borrow::Cow::Borrowed(&out.network)
            } else {
                let mut net = out.network.clone();
                net.source_crs = opts.crs;
                std::borrow::Cow::Owned(net)
            };
            // Same seed, same bytes: the layers' last_change is the end of the
            // simulated period instead of the wall clock.
            let stamp = crate::model::time::format_utc(out.measurements.voltage.as_ref().map_or(0, |v| v.grid.end()));
            crate::io::atomic::write_atomic_via_path(&p, |tmp| -> io::Result<()> {
                crate::session::export::gpkg::write_network_gpkg_file(tmp, &net, &p)?;
                let fix = || -> rusqlite::Result<()> {
                    let db = rusqlite::Connection::open(tmp)?;
                    db.execute(
                        "UPDATE gpkg_contents SET last_change = ?1, description = 'lvtopo sample network ' || table_name",
                        [stamp.replace('Z', ".000Z")],
                    )?;
                    // Rewrite the file so no page keeps the old timestamps in its free space.
                    db.execute_batch("VACUUM")?;
                    db.close().map_err(|(_, e)| e)
                };
                fix().map_err(|e| io::Error::other(format!("finishing {}: {e}", p.display())))
            })?;
            files.push(p);
        }
    }
    let gz = if opts.gzip_large { ".gz" } else { "" };
    let m = &out.measurements;
    if let Some(v) = &m.voltage {
        let p = dir.join(format!("voltage.csv{gz}"));
        write_csv::write_voltage(&p, v, Some(&out.voltage_write_order), &out.voltage_duplicates)?;
        files.push(p);
    }
    if let Some(f) = &m.feed_in {
        let p = dir.join(format!("feed_in.csv{gz}"));
        write_csv::write_feed_in(&p, f)?;
        files.push(p);
    }
    let p = dir.join("voltage_events.csv");
    write_csv::write_voltage_events(&p, &m.voltage_events)?;
    files.push(p);
    let p = dir.join("outage_log.csv");
    if opts.outage_log_dsmr {
        write_csv::write_outage_log_dsmr(&p, &m.outage_log)?;
    } else {
        write_csv::write_outage_log(&p, &m.outage_log)?;
    }
    files.push(p);
    let p = dir.join("incidents.csv");
    write_csv::write_incidents(&p, &m.incidents)?;
    files.push(p);
    let p = dir.join("voltage_presence.csv");
    write_csv::write_presence(&p, &m.presence)?;
    files.push(p);
    let p = dir.join("truth.csv");
    write_csv::write_truth(&p, &out.truth)?;
    files.push(p);
    let p = dir.join("scenario.json");
    write_atomic(&p, |w| {
        serde_json::to_writer_pretty(&mut *w, &out.scenario).map_err(io::Error::other)?;
        w.write_all(b"\n")
    })?;
    files.push(p);
    if let Some(cmd) = &opts.readme_command {
        let p = dir.join("README.md");
        let crs = match opts.crs {
            Crs::RdNew => "RD New",
            Crs::Wgs84 => "WGS84",
        };
        let network_files = match opts.format {
            NetworkFormat::GeoJson => format!(
                "`stations.geojson`, `cables.geojson`, `connections.geojson` ({crs}{})",
                if opts.crs == Crs::RdNew { ", legacy `crs` member" } else { "" }
            ),
            NetworkFormat::GeoPackage => format!("`network.gpkg` (layers `stations`, `cables`, `connections`, {crs})"),
        };
        let text = super::scenario::readme(&out.scenario, cmd, &network_files);
        write_atomic(&p, |w| w.write_all(text.as_bytes()))?;
        files.push(p);
    }
    Ok(files)
}
