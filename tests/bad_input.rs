//! Hostile and careless input against the real binary: every case asserts the exit
//! code, the message, that no input file changed and that nothing was written on error.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_lvtopo");

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-networks").join(name)
}

/// A private copy of the `street` sample (the tests must not touch the repository's).
fn street() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(sample("street")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    dir
}

/// Every file under `dir` with a fingerprint of its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, u64)> {
    let mut m = BTreeMap::new();
    for e in walk(dir) {
        let b = std::fs::read(&e).unwrap();
        let h = b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| (h ^ x as u64).wrapping_mul(0x100_0000_01b3));
        m.insert(e, (b.len() as u64, h));
    }
    m
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(BIN).current_dir(dir).args(args).env("LVTOPO_PRIVACY_DIR", dir.join(".privacy")).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn gunzip(p: &Path) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap()).read_to_string(&mut s).unwrap();
    s
}

/// Runs `args` in a copy of `street` prepared by `prep`; asserts the exit code, that
/// stderr holds `msg`, that every file that was there is unchanged and (on an error)
/// that nothing new appeared.
fn case(prep: impl FnOnce(&Path), args: &[&str], code: i32, msg: &str) -> Run {
    let d = street();
    prep(d.path());
    let before = snapshot(d.path());
    let r = run(d.path(), args);
    assert_eq!(r.code, code, "{args:?}\nstdout: {}\nstderr: {}", r.stdout, r.stderr);
    // `validate` prints its report on stdout, the other commands on stderr.
    assert!(r.stderr.contains(msg) || r.stdout.contains(msg), "{args:?}: expected {msg:?} in\n{}{}", r.stdout, r.stderr);
    let after = snapshot(d.path());
    for (p, h) in &before {
        assert_eq!(after.get(p), Some(h), "{} changed or vanished", p.display());
    }
    if code != 0 && code != 3 {
        let new: Vec<_> =
            after.keys().filter(|p| !before.contains_key(*p) && !p.starts_with(d.path().join(".privacy"))).collect();
        assert!(new.is_empty(), "written on error: {new:?}");
    }
    r
}

const NET: &[&str] = &["--network", "."];

fn args<'a>(cmd: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![cmd, "--quiet"];
    if cmd != "analyze" {
        v.pop();
    }
    v.extend(NET);
    v.extend(rest);
    v
}

#[test]
fn an_output_that_is_an_input_is_refused_before_reading() {
    for extra in [
        vec!["--voltage", "voltage.csv.gz", "--out", "voltage.csv.gz"],
        vec!["--voltage", "voltage.csv.gz", "--out", "a.csv", "--report", "voltage.csv.gz"],
        vec!["--voltage", "voltage.csv.gz", "--out", "connections.geojson"],
        vec!["--voltage", "voltage.csv.gz", "--out", "./sub/../cables.geojson"],
    ] {
        case(|d| std::fs::create_dir_all(d.join("sub")).unwrap(), &args("analyze", &extra), 1, "refusing to write");
    }
    case(|_| {}, &args("pv", &["--feed-in", "feed_in.csv.gz", "--out", "feed_in.csv.gz"]), 1, "it is the input");
    case(
        |d| std::fs::copy(d.join("outage_log.csv"), d.join("out_log.csv")).map(|_| ()).unwrap(),
        &args("outage", &["--log", "out/register.csv", "--out", "out"]),
        1,
        "refusing to write",
    );
}

#[test]
fn outage_with_a_bad_row_writes_nothing_unless_keep_going() {
    let prep = |d: &Path| {
        let s = std::fs::read_to_string(d.join("incidents.csv")).unwrap();
        std::fs::write(d.join("incidents.csv"), s.replacen(",false,", ",unknown,", 1)).unwrap();
    };
    let a = args("outage", &["--log", "outage_log.csv", "--incidents", "incidents.csv", "--out", "out"]);
    let r = case(prep, &a, 1, "nothing was written");
    assert!(r.stderr.contains("column \"planned\": expected true or false, found \"unknown\""), "{}", r.stderr);
    let mut k = a.clone();
    k.push("--keep-going");
    let r = case(prep, &k, 3, "expected true or false");
    assert!(r.stdout.contains("--keep-going: left out 1 row(s) of incidents.csv"), "{}", r.stdout);
}

fn voltage_variant(d: &Path, f: impl Fn(usize, &str) -> String) {
    let text = gunzip(&d.join("voltage.csv.gz"));
    let lines: Vec<String> = text.lines().enumerate().map(|(i, l)| if i == 0 { l.to_string() } else { f(i, l) }).collect();
    std::fs::create_dir_all(d.join("v")).unwrap();
    std::fs::write(d.join("v/voltage.csv"), lines.join("\n") + "\n").unwrap();
}

#[test]
fn decimal_commas_and_semicolons_are_diagnosed_not_misread() {
    let a = args("analyze", &["--voltage", "v/voltage.csv", "--out", "a.csv"]);
    // One unquoted decimal comma: that row is an error with the hint.
    let r = case(|d| voltage_variant(d, |i, l| if i == 7 { l.replacen('.', ",", 1) } else { l.into() }), &a, 1, "row 7");
    assert!(r.stderr.contains("expected 4 fields like the header, found 5; decimal comma? quote the field or use a dot"));
    // A whole Dutch export with decimal commas.
    case(
        |d| voltage_variant(d, |_, l| l.replace('.', ",")),
        &a,
        1,
        "split at a decimal comma (a spreadsheet export in Dutch settings?)",
    );
    // `;` between fields.
    case(
        |d| {
            voltage_variant(d, |_, l| l.replace(',', ";"));
            let s = std::fs::read_to_string(d.join("v/voltage.csv")).unwrap().replacen(',', ";", 3);
            std::fs::write(d.join("v/voltage.csv"), s).unwrap();
        },
        &a,
        1,
        "this file uses \";\" between fields",
    );
    // A quoted decimal comma is refused with the hint, not read as 236 V.
    case(
        |d| {
            voltage_variant(d, |i, l| {
                if i == 3 {
                    let (h, v) = l.rsplit_once(',').unwrap();
                    format!("{h},\"{}\"", v.replace('.', ","))
                } else {
                    l.into()
                }
            })
        },
        &a,
        1,
        "(decimal comma? use a dot)",
    );
    // Lower-case channels are read, and said once.
    let r = case(|d| voltage_variant(d, |_, l| l.replace(",L1,", ",l1,")), &a, 0, "give the channel in lower case");
    assert_eq!(r.stderr.matches("lower case").count(), 1);
}

#[test]
fn rows_and_headers_past_the_limits_are_errors_naming_them() {
    let pv = args("pv", &["--feed-in", "f/feed_in.csv", "--trim-consent", "--out", "pv.csv"]);
    let feed = |d: &Path, f: &dyn Fn(Vec<String>) -> Vec<String>| {
        let lines: Vec<String> = gunzip(&d.join("feed_in.csv.gz")).lines().map(str::to_string).collect();
        std::fs::create_dir_all(d.join("f")).unwrap();
        std::fs::write(d.join("f/feed_in.csv"), f(lines).join("\n") + "\n").unwrap();
    };
    case(
        |d| {
            feed(d, &|mut l| {
                l[6] = format!("{}{}", l[6], ",1".repeat(30_000));
                l
            })
        },
        &pv,
        1,
        "row 6: expected 4 fields like the header, found 30004",
    );
    case(
        |d| {
            feed(d, &|mut l| {
                l[0] = format!("{}{}", l[0], (0..10_000).map(|i| format!(",x{i}")).collect::<String>());
                l
            })
        },
        &pv,
        1,
        "the header has 10004 fields, more than the limit of 10000",
    );
    case(
        |d| {
            feed(d, &|mut l| {
                l[3] = format!("{},{}", l[3], "9".repeat(2 << 20));
                l
            })
        },
        &pv,
        1,
        "row 3 is longer than 1 MB",
    );
    let r = case(
        |d| {
            std::fs::create_dir_all(d.join("v")).unwrap();
            let mut s = String::from("ean,timestamp,channel,voltage_v\n");
            s.push_str(&"1".repeat(10 << 20));
            std::fs::write(d.join("v/voltage.csv"), s).unwrap();
        },
        &args("analyze", &["--voltage", "v/voltage.csv", "--out", "a.csv"]),
        1,
        "row 1 is longer than 1 MB",
    );
    assert!(r.stderr.len() < 4000, "no value echoed whole: {} bytes", r.stderr.len());
}

#[test]
fn network_rough_edges() {
    let validate = ["validate", "."];
    // A GeoJSON with a UTF-8 byte order mark is read.
    case(
        |d| {
            let s = std::fs::read(d.join("stations.geojson")).unwrap();
            std::fs::write(d.join("stations.geojson"), [b"\xEF\xBB\xBF".as_slice(), &s].concat()).unwrap();
        },
        &validate,
        0,
        "",
    );
    // An empty connections layer is an error.
    case(
        |d| std::fs::write(d.join("connections.geojson"), r#"{"type":"FeatureCollection","features":[]}"#).unwrap(),
        &validate,
        1,
        "the connections layer has no features",
    );
    // Swapped axes are named as such.
    case(
        |d| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(d.join("stations.geojson")).unwrap()).unwrap();
            let mut v = v;
            for f in v["features"].as_array_mut().unwrap() {
                let c = f["geometry"]["coordinates"].as_array_mut().unwrap();
                c.swap(0, 1);
            }
            std::fs::write(d.join("stations.geojson"), v.to_string()).unwrap();
        },
        &validate,
        1,
        "the coordinates look swapped",
    );
}

#[test]
fn geopackage_missing_layer_lists_the_layers_and_leaves_no_wal_files() {
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("network.gpkg");
    std::fs::copy(sample("town").join("network.gpkg"), &g).unwrap();
    {
        let db = rusqlite::Connection::open(&g).unwrap();
        db.execute_batch(
            "PRAGMA foreign_keys = OFF; ALTER TABLE connections RENAME TO aansluitingen; \
             UPDATE gpkg_geometry_columns SET table_name = 'aansluitingen' WHERE table_name = 'connections'; \
             UPDATE gpkg_contents SET table_name = 'aansluitingen' WHERE table_name = 'connections'; PRAGMA journal_mode = WAL;",
        )
        .unwrap();
    }
    let before = snapshot(dir.path());
    let r = run(dir.path(), &["validate", "network.gpkg"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        all.contains("layer \"connections\" not found")
            && all.contains("the GeoPackage has the layers: aansluitingen, cables, stations"),
        "{all}"
    );
    assert_eq!(snapshot(dir.path()), before, "no -wal/-shm left, nothing changed");
}
