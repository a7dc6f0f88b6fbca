//! What "open" means in the app: sort the dropped or chosen paths into a
//! network (GeoPackage or GeoJSON folder) and measurement files, read them
//! with the `io` readers on a worker thread, and build everything the map
//! needs (topology, spatial index) before handing the result to the UI.

use super::state::Dataset;
use lvtopo_core::io::{ImportReport, Location};
use lvtopo_core::model::Measurements;
use lvtopo_core::progress::{Cancelled, Progress};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The measurement files of the data contract, by file stem.
pub const MEASUREMENT_FILES: [&str; 6] = ["voltage", "feed_in", "voltage_events", "outage_log", "incidents", "voltage_presence"];

/// The paths of one open request, sorted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpenPlan {
    pub network: Option<PathBuf>,
    pub measurements: Vec<PathBuf>,
    /// Paths that are neither, with the reason.
    pub ignored: Vec<(PathBuf, String)>,
    /// The purposes of the meter reads and consent to trim (see `views::privacy_load`).
    pub privacy: super::views::privacy_load::PrivacyChoices,
}

/// Stem of a measurement file (`voltage` for `voltage.csv.gz`), if it is one.
pub fn measurement_kind(p: &Path) -> Option<&'static str> {
    let name = p.file_name()?.to_str()?.to_ascii_lowercase();
    let stem = name.strip_suffix(".gz").unwrap_or(&name);
    let stem = stem.strip_suffix(".csv")?;
    MEASUREMENT_FILES.iter().copied().find(|k| *k == stem)
}

fn is_network_folder(p: &Path) -> bool {
    p.is_dir() && p.join("connections.geojson").is_file()
}

/// A folder holding `network.gpkg` (as the bundled `town` sample): the GeoPackage is
/// the network and the folder's measurement files come with it.
fn folder_gpkg(p: &Path) -> Option<PathBuf> {
    Some(p.join("network.gpkg")).filter(|g| p.is_dir() && g.is_file())
}

/// Sorts paths: a `.gpkg` or a GeoJSON folder (or one of its `.geojson` files)
/// is the network; contract CSVs are measurements; a network folder's own
/// measurement files come along with it.
pub fn plan(paths: &[PathBuf]) -> OpenPlan {
    let mut plan = OpenPlan::default();
    let set_network = |plan: &mut OpenPlan, p: PathBuf| {
        if let Some(old) = plan.network.replace(p.clone())
            && old != p
        {
            plan.ignored.push((old, "more than one network given; the last one is opened".into()));
        }
    };
    // The folder whose measurement files come along with the network.
    let mut measurement_dir: Option<PathBuf> = None;
    for p in paths {
        let ext = p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        if p.is_dir() {
            if is_network_folder(p) {
                set_network(&mut plan, p.clone());
                measurement_dir = Some(p.clone());
            } else if let Some(gpkg) = folder_gpkg(p) {
                set_network(&mut plan, gpkg);
                measurement_dir = Some(p.clone());
            } else {
                plan.ignored.push((p.clone(), "folder has neither connections.geojson nor network.gpkg".into()));
            }
        } else if ext.as_deref() == Some("gpkg") {
            set_network(&mut plan, p.clone());
        } else if ext.as_deref() == Some("geojson") {
            match p.parent().filter(|d| is_network_folder(d)) {
                Some(d) => {
                    set_network(&mut plan, d.to_path_buf());
                    measurement_dir = Some(d.to_path_buf());
                }
                None => plan
                    .ignored
                    .push((p.clone(), "a GeoJSON network is a folder with stations, cables and connections.geojson".into())),
            }
        } else if measurement_kind(p).is_some() {
            plan.measurements.push(p.clone());
        } else {
            plan.ignored.push((
                p.clone(),
                format!(
                    "not a network (.gpkg, GeoJSON folder) or a measurement file ({}.csv[.gz])",
                    MEASUREMENT_FILES.join(", ")
                ),
            ));
        }
    }
    if let Some(dir) = measurement_dir {
        for kind in MEASUREMENT_FILES {
            for name in [format!("{kind}.csv"), format!("{kind}.csv.gz")] {
                let f = dir.join(name);
                if f.is_file() && !plan.measurements.iter().any(|m| measurement_kind(m) == Some(kind)) {
                    plan.measurements.push(f);
                }
            }
        }
    }
    plan
}

/// Reads a plan. Without a network in it, the measurements are added to `current`.
/// Problems in the files go to the import report; only cancelling (or having
/// nothing to add measurements to) is an `Err`.
pub fn load(plan: &OpenPlan, current: Option<&Dataset>, progress: &dyn Progress) -> Result<Dataset, String> {
    let cancelled = |_: Cancelled| Cancelled.to_string();
    let mut privacy_reads = match (&plan.network, current) {
        (None, Some(ds)) => ds.privacy_reads.clone(),
        _ => Vec::new(),
    };
    let (network, topology, mut report, name, mut measurements, mut measurement_paths) = match (&plan.network, current) {
        (Some(path), _) => {
            let loaded = lvtopo_core::io::network::load_network(path, progress).map_err(cancelled)?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
            (Arc::new(loaded.network), Arc::new(loaded.topology), loaded.report, name, Measurements::default(), Vec::new())
        }
        // Measurements added to the open network: share it, do not copy it.
        (None, Some(ds)) => (
            ds.network.clone(),
            ds.topology.clone(),
            (*ds.report).clone(),
            ds.name.clone(),
            (*ds.measurements).clone(),
            ds.measurement_paths.clone(),
        ),
        (None, None) => return Err("open a network first (a .gpkg file or a folder with connections.geojson)".into()),
    };
    for (p, why) in &plan.ignored {
        let label = p.display().to_string();
        report.begin_file(&label);
        report.warning(&label, Location::File, None, format!("not opened: {why}"));
    }
    if !plan.measurements.is_empty() && !network.connections.is_empty() {
        let mut lm =
            lvtopo_core::io::measurements::load_measurements(&plan.measurements, &network, progress).map_err(cancelled)?;
        let mut m = lm.measurements;
        // Privacy: every meter read admitted for its purpose, or dropped and reported.
        let mut windows = super::views::privacy_load::incident_windows(&m);
        windows.extend(super::views::privacy_load::incident_windows(&measurements));
        let reads = super::views::privacy_load::admit_loaded(&mut m, &plan.measurements, &plan.privacy, windows, &mut lm.report);
        privacy_reads.retain(|r| !reads.iter().any(|n| n.kind == r.kind));
        privacy_reads.extend(reads);
        // Each file read replaces what the dataset held of its kind.
        if m.voltage.is_some() {
            measurements.voltage = m.voltage;
        }
        if m.feed_in.is_some() {
            measurements.feed_in = m.feed_in;
        }
        let has = |k: &str| plan.measurements.iter().any(|p| measurement_kind(p) == Some(k));
        if has("voltage_events") {
            measurements.voltage_events = m.voltage_events;
        }
        if has("outage_log") {
            measurements.outage_log = m.outage_log;
        }
        if has("incidents") {
            measurements.incidents = m.incidents;
        }
        if has("voltage_presence") {
            measurements.presence = m.presence;
        }
        report.merge(lm.report);
        for p in &plan.measurements {
            measurement_paths.retain(|m| measurement_kind(m) != measurement_kind(p));
            measurement_paths.push(p.clone());
        }
    }
    if progress.is_cancelled() {
        return Err(Cancelled.to_string());
    }
    progress.set(0.9, "building the map");
    let mut ds = match (&plan.network, current) {
        // Only measurements were added: the network, topology and map index stay shared,
        // so the app keeps its review session and view.
        (None, Some(cur)) => Dataset { name, measurements: Arc::new(measurements), report: Arc::new(report), ..cur.clone() },
        _ => Dataset::from_loaded(name, network, topology, measurements, report),
    };
    ds.network_path = plan.network.clone().or_else(|| current.and_then(|c| c.network_path.clone()));
    ds.measurement_paths = measurement_paths;
    ds.privacy_reads = privacy_reads;
    progress.set(1.0, "ready");
    Ok(ds)
}

/// Where the bundled sample network is: `$LVTOPO_SAMPLE`, or `sample-networks/town`
/// next to the executable (or up to four folders above it), the working folder,
/// or the source tree this binary was built from.
pub fn find_sample() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LVTOPO_SAMPLE").map(PathBuf::from).filter(|p| p.exists()) {
        return Some(p);
    }
    let rel = Path::new("sample-networks").join("town");
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).take(5).map(Path::to_path_buf));
    }
    if let Ok(cwd) = std::env::current_dir() {
        roots.push(cwd);
    }
    roots.push(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")));
    roots.into_iter().map(|r| r.join(&rel)).find(|p| is_network_folder(p) || folder_gpkg(p).is_some())
}

/// When the bundled sample is missing (a bare binary): generate the same
/// `town` preset in memory with the simulator, so the app still opens on a
/// network with meter reads.
pub fn generate_sample(progress: &dyn Progress) -> Result<Dataset, String> {
    let cfg = lvtopo_core::sim::SimConfig::preset("town")?;
    let out = lvtopo_core::sim::generate(&cfg, 1, progress).map_err(|e| e.to_string())?;
    let mut report = ImportReport::default();
    report.warning(
        "sample-networks/town",
        Location::File,
        None,
        "bundled sample network not found: generated the `town` preset in memory instead (not autosaved; open a network with File > Open)",
    );
    Ok(Dataset::from_parts("town (generated)", out.network, out.measurements, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_with_network_gpkg_opens_it_with_its_measurements() {
        let town = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("sample-networks/town");
        let plan = plan(std::slice::from_ref(&town));
        assert_eq!(plan.network, Some(town.join("network.gpkg")));
        assert!(plan.measurements.iter().any(|m| measurement_kind(m) == Some("voltage")), "{:?}", plan.measurements);
        assert!(plan.ignored.is_empty(), "{:?}", plan.ignored);
        assert_eq!(find_sample().and_then(|p| folder_gpkg(&p)), Some(town.join("network.gpkg")));
    }

    #[test]
    fn measurement_files_are_recognised_by_name() {
        assert_eq!(measurement_kind(Path::new("/x/voltage.csv.gz")), Some("voltage"));
        assert_eq!(measurement_kind(Path::new("Outage_Log.CSV")), Some("outage_log"));
        assert_eq!(measurement_kind(Path::new("voltage.txt")), None);
        assert_eq!(measurement_kind(Path::new("notes.csv")), None);
    }

    #[test]
    fn plan_sorts_folder_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let net = dir.path().join("town");
        std::fs::create_dir(&net).unwrap();
        std::fs::write(net.join("connections.geojson"), "{}").unwrap();
        std::fs::write(net.join("voltage.csv.gz"), "").unwrap();
        let other = dir.path().join("readme.txt");
        std::fs::write(&other, "").unwrap();
        let p = plan(&[net.join("connections.geojson"), other.clone()]);
        assert_eq!(p.network.as_deref(), Some(net.as_path()));
        assert_eq!(p.measurements, vec![net.join("voltage.csv.gz")]);
        assert_eq!(p.ignored.len(), 1);
        assert_eq!(p.ignored[0].0, other);
    }
}
