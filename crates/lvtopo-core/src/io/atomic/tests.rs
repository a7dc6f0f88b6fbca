use super::*;
use std::io::Read;

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn writes_whole_file_and_leaves_nothing_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.txt");
    write_atomic(&p, |w| w.write_all(b"hello")).unwrap();
    assert_eq!(fs::read_to_string(&p).unwrap(), "hello");
    let r = write_atomic(&p, |w| {
        w.write_all(b"partial")?;
        Err(io::Error::other("disk full"))
    });
    let e = r.unwrap_err().to_string();
    assert!(e.contains(&p.display().to_string()) && e.contains("disk full"), "{e}");
    assert_eq!(fs::read_to_string(&p).unwrap(), "hello", "old content kept");
    assert_eq!(names(dir.path()), ["a.txt"], "no temp file left");
}

#[cfg(unix)]
#[test]
fn mode_is_that_of_a_normal_file_or_private_on_request() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    fs::File::create(&plain).unwrap();
    let normal = fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
    let p = dir.path().join("a.csv");
    write_atomic(&p, |w| w.write_all(b"x")).unwrap();
    assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, normal, "0666 minus the umask");
    let k = dir.path().join("key");
    write_bytes(&k, Mode::Private, b"secret").unwrap();
    assert_eq!(fs::metadata(&k).unwrap().permissions().mode() & 0o777, 0o600);
    // A rewrite keeps the mode the user gave the file.
    fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
    write_atomic(&p, |w| w.write_all(b"y")).unwrap();
    assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o640);
}

#[test]
fn stale_temp_files_of_a_killed_run_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    // A pid above the Linux maximum (4,194,304) cannot be alive.
    for n in [".a.txt.lvtopo-999999999-1a.tmp", ".a.txt.lvtopo-999999999-1a.tmp-journal"] {
        fs::write(dir.path().join(n), b"half").unwrap();
    }
    fs::write(dir.path().join(".b.txt.lvtopo-999999999-1a.tmp"), b"other target").unwrap();
    write_atomic(&dir.path().join("a.txt"), |w| w.write_all(b"ok")).unwrap();
    let left = names(dir.path());
    if Path::new("/proc/self").exists() {
        assert_eq!(left, [".b.txt.lvtopo-999999999-1a.tmp", "a.txt"], "only the same target's temp files go");
    }
}

#[test]
fn via_path_renames_on_success_only() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("b.bin");
    write_atomic_via_path(&p, |t| fs::write(t, b"new")).unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"new");
    let r: io::Result<()> = write_atomic_via_path(&p, |t| {
        fs::write(t, b"partial")?;
        let mut j = t.as_os_str().to_owned();
        j.push("-journal");
        fs::write(PathBuf::from(j), b"j")?;
        Err(io::Error::other("boom"))
    });
    assert!(r.is_err());
    assert_eq!(fs::read(&p).unwrap(), b"new");
    assert_eq!(names(dir.path()), ["b.bin"], "no temp or side file left");
}

#[test]
fn a_folder_is_not_a_target() {
    let dir = tempfile::tempdir().unwrap();
    let e = write_atomic(dir.path(), |w| w.write_all(b"x")).unwrap_err().to_string();
    assert!(e.contains("it is a folder"), "{e}");
}

#[test]
fn gz_suffix_compresses() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.csv.gz");
    write_atomic_maybe_gz(&p, |w| w.write_all(b"x,y\n1,2\n")).unwrap();
    let mut s = String::new();
    flate2::read::GzDecoder::new(fs::File::open(&p).unwrap()).read_to_string(&mut s).unwrap();
    assert_eq!(s, "x,y\n1,2\n");
}

#[test]
fn a_set_is_written_together_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("sub/b.json"));
    let mut set = OutputSet::new();
    set.write(&a, |w| w.write_all(b"a1")).unwrap();
    set.write(&b, |w| w.write_all(b"b1")).unwrap();
    assert!(!a.exists(), "nothing in place before the commit");
    assert_eq!(set.commit().unwrap(), vec![a.clone(), b.clone()]);
    assert_eq!((fs::read(&a).unwrap(), fs::read(&b).unwrap()), (b"a1".to_vec(), b"b1".to_vec()));

    // An error while writing the second file: the first is not replaced either.
    let mut set = OutputSet::new();
    set.write(&a, |w| w.write_all(b"a2")).unwrap();
    assert!(set.write(&b, |_| Err(io::Error::other("disk full"))).is_err());
    drop(set);
    assert_eq!(fs::read(&a).unwrap(), b"a1");
    assert_eq!(names(dir.path()), ["a.csv", "sub"], "staging folder removed");
    assert_eq!(names(&dir.path().join("sub")), ["b.json"]);

    // The same file twice is refused.
    let mut set = OutputSet::new();
    set.write(&a, |w| w.write_all(b"x")).unwrap();
    assert!(set.write(&dir.path().join("./a.csv"), |w| w.write_all(b"y")).is_err());
}

#[test]
fn a_failed_commit_puts_the_old_files_back() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("sub/b.json"));
    fs::create_dir_all(dir.path().join("sub")).unwrap();
    fs::write(&a, b"old a").unwrap();
    fs::write(&b, b"old b").unwrap();
    let mut set = OutputSet::new();
    set.write(&a, |w| w.write_all(b"new a")).unwrap();
    set.write(&b, |w| w.write_all(b"new b")).unwrap();
    // Take the second staged file away: its rename fails after the first went in.
    let sub = dir.path().join("sub");
    let staging = names(&sub).into_iter().find(|n| n.ends_with(".staging")).unwrap();
    fs::remove_file(sub.join(&staging).join("b.json")).unwrap();
    let e = set.commit().unwrap_err().to_string();
    assert!(e.contains("b.json"), "{e}");
    assert_eq!(fs::read(&a).unwrap(), b"old a");
    assert_eq!(fs::read(&b).unwrap(), b"old b");
    assert_eq!(names(dir.path()), ["a.csv", "sub"]);
}
