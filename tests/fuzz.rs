//! Mutation fuzzing on the stable toolchain: seeded byte and token mutations of the
//! sample files go through every reader (the CSV measurement readers, GeoJSON,
//! GeoPackage). A reader may reject anything, but must not panic, hang or grow
//! memory past a stated bound. Bounded: a fixed number of cases per reader and a
//! time budget, so CI runs it every time (seeds are fixed: a failure reproduces).

use lvtopo::io::ImportReport;
use lvtopo::io::measurements::{read_feed_in, read_incidents, read_outage_log, read_presence, read_truth, read_voltage_events};
use lvtopo::io::network::load_network;
use lvtopo::io::voltage::read_voltage;
use lvtopo::progress::NoProgress;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Cases per reader, and the time each reader may take in all.
const CASES: usize = 150;
const BUDGET: Duration = Duration::from_secs(6);
/// Peak resident memory the whole fuzz run may reach (the readers hold at most a
/// row of 1 MB and the table of a small file).
const MAX_RSS_KB: u64 = 600 * 1024;

fn sample(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-networks").join(p)
}

/// The first `lines` lines of a sample file (gunzipped): the corpus.
fn corpus(p: &str, lines: usize) -> Vec<u8> {
    let mut s = String::new();
    let f = std::fs::File::open(sample(p)).unwrap();
    if p.ends_with(".gz") {
        flate2::read::GzDecoder::new(f).read_to_string(&mut s).unwrap();
    } else {
        std::io::BufReader::new(f).read_to_string(&mut s).unwrap();
    }
    s.lines().take(lines).collect::<Vec<_>>().join("\n").into_bytes()
}

const TOKENS: [&[u8]; 14] =
    [b",", b";", b"\"", b"\n", b".", b"-", b"\xEF\xBB\xBF", b"\0", b"nan", b"1e309", b"L4", b"99999999999999999999", b"{", b"}"];

/// One to four mutations: flip, insert a token, delete or duplicate a span, swap two spans.
fn mutate(base: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        let n = b.len().max(1);
        let at = rng.gen_range(0..n).min(b.len());
        match rng.gen_range(0..6) {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] ^= 1 << rng.gen_range(0..8);
            }
            1 => {
                let t = TOKENS[rng.gen_range(0..TOKENS.len())];
                b.splice(at..at, t.iter().copied());
            }
            2 => {
                let end = (at + rng.gen_range(0..64)).min(b.len());
                b.drain(at..end);
            }
            3 => {
                let end = (at + rng.gen_range(0..256)).min(b.len());
                let chunk = b[at..end].to_vec();
                b.splice(at..at, chunk);
            }
            4 => b.truncate(at),
            _ => {
                let j = rng.gen_range(0..n).min(b.len());
                let (x, y) = (at.min(j), at.max(j));
                b[x..y].reverse();
            }
        }
    }
    b
}

/// Runs `read` on mutations of `base` written to `name` in a temp folder.
fn fuzz(seed: u64, name: &str, base: &[u8], read: impl Fn(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let t0 = Instant::now();
    for k in 0..CASES {
        let m = mutate(base, &mut rng);
        std::fs::write(&p, &m).unwrap();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(&p)));
        if r.is_err() {
            let keep = std::env::temp_dir().join(format!("lvtopo-fuzz-{seed}-{k}-{name}"));
            std::fs::write(&keep, &m).unwrap();
            panic!("{name}: case {k} of seed {seed} panicked; input kept at {}", keep.display());
        }
        if t0.elapsed() > BUDGET {
            break;
        }
    }
}

fn peak_rss_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn csv_readers_survive_mutations() {
    let cases: [(&str, &str, fn(&Path)); 7] = [
        ("street/voltage.csv.gz", "voltage.csv", |p| {
            let _ = read_voltage(p, None, &mut ImportReport::default(), &NoProgress);
        }),
        ("street/feed_in.csv.gz", "feed_in.csv", |p| {
            read_feed_in(p, None, &mut ImportReport::default());
        }),
        ("street/voltage_events.csv", "voltage_events.csv", |p| {
            read_voltage_events(p, None, &mut ImportReport::default());
        }),
        ("street/outage_log.csv", "outage_log.csv", |p| {
            read_outage_log(p, None, &mut ImportReport::default());
        }),
        ("street/incidents.csv", "incidents.csv", |p| {
            read_incidents(p, None, &mut ImportReport::default());
        }),
        ("street/voltage_presence.csv", "voltage_presence.csv", |p| {
            read_presence(p, None, &mut ImportReport::default());
        }),
        ("street/truth.csv", "truth.csv", |p| {
            read_truth(p, None, &mut ImportReport::default());
        }),
    ];
    for (seed, (src, name, read)) in cases.into_iter().enumerate() {
        fuzz(seed as u64, name, &corpus(src, 400), read);
    }
    if let Some(kb) = peak_rss_kb() {
        assert!(kb < MAX_RSS_KB, "peak memory {kb} KB past the bound of {MAX_RSS_KB} KB");
    }
}

#[test]
fn geojson_reader_survives_mutations() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["stations.geojson", "cables.geojson"] {
        std::fs::copy(sample("street").join(f), dir.path().join(f)).unwrap();
    }
    let base = std::fs::read(sample("street/connections.geojson")).unwrap();
    let net = dir.path().to_path_buf();
    let d = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(100);
    let t0 = Instant::now();
    for k in 0..CASES {
        let m = mutate(&base, &mut rng);
        std::fs::write(net.join("connections.geojson"), &m).unwrap();
        if std::panic::catch_unwind(|| load_network(&net, &NoProgress)).is_err() {
            let keep = d.keep().join(format!("connections-{k}.geojson"));
            std::fs::write(&keep, &m).unwrap();
            panic!("GeoJSON case {k} panicked; input kept at {}", keep.display());
        }
        if t0.elapsed() > BUDGET {
            break;
        }
    }
}

#[test]
fn geopackage_reader_survives_mutations() {
    // Mutations of the bytes of a real GeoPackage (SQLite pages, geometry blobs).
    let base = std::fs::read(sample("town/network.gpkg")).unwrap();
    fuzz(200, "network.gpkg", &base, |p| {
        let _ = load_network(p, &NoProgress);
    });
    // And of its geometry blobs and attribute values, through SQL.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("network.gpkg");
    let mut rng = ChaCha8Rng::seed_from_u64(201);
    let t0 = Instant::now();
    for _ in 0..40 {
        std::fs::copy(sample("town/network.gpkg"), &p).unwrap();
        {
            let db = rusqlite::Connection::open(&p).unwrap();
            let table = ["stations", "cables", "connections"][rng.gen_range(0..3)];
            let blob: Vec<u8> = db.query_row(&format!("SELECT geom FROM {table} LIMIT 1"), [], |r| r.get(0)).unwrap();
            let m = mutate(&blob, &mut rng);
            db.execute(&format!("UPDATE {table} SET geom = ?1 WHERE rowid IN (SELECT rowid FROM {table} LIMIT 3)"), [m]).unwrap();
        }
        let _ = load_network(&p, &NoProgress);
        if t0.elapsed() > BUDGET {
            break;
        }
    }
}
