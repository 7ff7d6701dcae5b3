//! A bounded fuzzer for everything that reads untrusted input: the CSV,
//! TSV and NDJSON record readers and every per-type value parser.
//!
//! Inputs are mutations of valid seeds (byte flips, the bytes the parsers
//! care about, cut, doubled and spliced ranges). For each input: no panic,
//! no hang (a watchdog), and no allocation beyond what the record limit
//! allows (a counting allocator). It runs for `DBCHUNK_FUZZ_SECONDS` (10
//! by default, CI included) from the seed `DBCHUNK_FUZZ_SEED` (printed, so
//! a failure can be replayed), and prints the failing input.
//!
//! A separate test binary, so its allocator counts only this.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::BufRead;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dbchunk::format::Format;
use dbchunk::input::{Reader, Record};
use dbchunk::values::{parse, TargetType};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The longest record the readers are given: anything past it must be an
/// error, not a buffer.
const MAX_RECORD: usize = 4096;
/// Inputs grow up to this; the readers may hold a record and their
/// buffers, never the input.
const MAX_INPUT: usize = 64 * 1024;
const ALLOWED: usize = 512 * 1024;

const SEEDS: &[&[u8]] = &[
    b"id,name,v\n1,\"a, \"\"b\"\"\nc\",2.5\n2,,\\N\n3,\"\",-0\n",
    b"id\tname\n1\ta\\tb\\nc\n2\t\\N\n",
    b"\xEF\xBB\xBFa,b\r\n1,2\r\n",
    b"{\"id\":1,\"name\":\"a\\\"b\\u00e9\\ud83d\\ude00\",\"v\":[1,{\"k\":null}]}\n{\"id\":2,\"name\":null}\n",
    b"{\"a\":1e400,\"b\":-0.0,\"c\":true,\"d\":\"\\u0000\"}\n\n  \n{\"a\":{}}\n",
];

const VALUE_SEEDS: &[&str] = &[
    "0", "-9223372036854775808", "18446744073709551615", "1.5e-3", "NaN", "-Infinity", "true",
    "yes", "0.000", "123456789012345678901234567890.5", "\\x0aff", "0aff", "2024-02-29",
    "0001-01-01", "2024-01-01 12:34:56.123456", "2024-01-01T23:59:60+05:30", "-838:59:59.000000",
    "24:00:00", "{\"a\":[1,2,{\"b\":null}]}", "[\"x\",\"y\"]", "{1,2,NULL,\"a,b\"}",
    "123e4567-e89b-12d3-a456-426614174000", "101", "", " ",
];

const TARGETS: &[TargetType] = &[
    TargetType::Bool,
    TargetType::Int {
        min: i64::MIN as i128,
        max: i64::MAX as i128,
    },
    TargetType::Int {
        min: 0,
        max: u64::MAX as i128,
    },
    TargetType::IntOrBool {
        min: -128,
        max: 127,
    },
    TargetType::Decimal { special: true },
    TargetType::Decimal { special: false },
    TargetType::Float,
    TargetType::Text,
    TargetType::Bytes,
    TargetType::Date,
    TargetType::Time,
    TargetType::Timestamp { zoned: true },
    TargetType::Timestamp { zoned: false },
    TargetType::Json,
    TargetType::Uuid,
    TargetType::Bit { width: 64 },
    TargetType::Bit { width: 1 },
    TargetType::Array,
    TargetType::Other,
];

#[path = "rng.rs"]
mod rng;
use rng::Rng;

/// One to eight mutations of `input`, splicing from `pool`.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>, pool: &[&[u8]]) {
    const SPECIAL: &[u8] = b"\",\t\n\r\\{}[]:nNtfu0-+.eE \x00\xEF\xBB\xBF\xff\xc3\xa9";
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(input.len() + 1);
        match rng.below(7) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] ^= 1 << rng.below(8);
            }
            1 => input.insert(at, SPECIAL[rng.below(SPECIAL.len())]),
            2 if at < input.len() => {
                let end = (at + 1 + rng.below(16)).min(input.len());
                input.drain(at..end);
            }
            3 if at < input.len() => {
                let end = (at + 1 + rng.below(64)).min(input.len());
                let copy = input[at..end].to_vec();
                let most = if rng.below(8) == 0 { 512 } else { 4 };
                let times = 1 + rng.below(most);
                for _ in 0..times {
                    if input.len() + copy.len() > MAX_INPUT {
                        break;
                    }
                    input.splice(at..at, copy.iter().copied());
                }
            }
            4 => {
                let other = pool[rng.below(pool.len())];
                let start = rng.below(other.len());
                let end = start + rng.below(other.len() - start + 1);
                input.splice(at..at, other[start..end].iter().copied());
            }
            5 => input.truncate(at),
            _ => input.insert(at, rng.next() as u8),
        }
    }
    input.truncate(MAX_INPUT);
}

/// Reads all of `input`, checking that the reader always moves on.
fn read_everything(format: Format, input: &[u8], header: bool, null: &str, trickle: bool) {
    let source: Box<dyn BufRead> = match trickle {
        true => Box::new(std::io::BufReader::with_capacity(7, input)),
        false => Box::new(input),
    };
    let mut reader = Reader::new(format, source, header, null, MAX_RECORD);
    let _ = reader.names();
    let mut record = Record::new();
    for _ in 0..=input.len() + 2 {
        match reader.read(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let fields = record.iter().flatten().map(<[u8]>::len).sum::<usize>();
                assert!(
                    fields <= MAX_RECORD,
                    "a record over the limit was handed out"
                );
            }
            Err(err) if err.fatal => break,
            Err(_) => {}
        }
        assert!(reader.bytes_read() <= input.len() as u64);
    }
    assert!(
        matches!(reader.read(&mut record), Ok(false) | Err(_)),
        "the reader did not end after {} reads",
        input.len() + 2
    );
}

fn check_bounded(what: &str, input: &[u8], run: impl FnOnce()) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    if outcome.is_err() || peak > ALLOWED {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
        let name: String = what.chars().filter(char::is_ascii_alphanumeric).collect();
        let path = dir.join(format!("{name}-{}.bin", input.len()));
        let saved = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, input));
        let shown: String = input.iter().take(256).map(|b| format!("{b:02x}")).collect();
        panic!(
            "{what}: {} on an input of {} bytes, saved in {} ({saved:?}); it starts (hex) {shown}",
            match outcome {
                Err(_) => "panicked".to_string(),
                Ok(()) => format!("allocated {peak} bytes"),
            },
            input.len(),
            path.display()
        );
    }
}

fn budget() -> Duration {
    let seconds = std::env::var("DBCHUNK_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok());
    Duration::from_secs_f64(seconds.unwrap_or(10.0) / 2.0)
}

fn seed() -> u64 {
    let seed = std::env::var("DBCHUNK_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok());
    let seed = seed.unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(1, |d| d.as_nanos() as u64) | 1
    });
    eprintln!("fuzz seed {seed} (replay with DBCHUNK_FUZZ_SEED={seed})");
    seed
}

/// Runs `work` on its own thread; a run that outlives its budget by a
/// minute has hung on some input.
fn with_watchdog(name: &str, work: impl FnOnce() -> u64 + Send + 'static) {
    // The allocation counters are global: one fuzz target at a time.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let limit = budget() + Duration::from_secs(60);
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        let _ = done.send(result);
    });
    match finished.recv_timeout(limit) {
        Ok(Ok(inputs)) => eprintln!("{name}: {inputs} inputs, no failure"),
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("{name}: still running after {limit:?}: an input makes it hang"),
    }
}

#[test]
fn fuzz_record_readers() {
    let mut rng = Rng(seed());
    with_watchdog("readers", move || {
        let started = Instant::now();
        let mut inputs = 0;
        while started.elapsed() < budget() {
            let mut input = SEEDS[rng.below(SEEDS.len())].to_vec();
            mutate(&mut rng, &mut input, SEEDS);
            let format = [Format::Csv, Format::Tsv, Format::Ndjson][rng.below(3)];
            let header = rng.below(2) == 0;
            let null = ["", "\\N", "NULL"][rng.below(3)];
            let trickle = rng.below(4) == 0;
            check_bounded(&format!("{format:?} reader"), &input, || {
                read_everything(format, &input, header, null, trickle)
            });
            inputs += 1;
        }
        inputs
    });
}

#[test]
fn fuzz_value_parsers() {
    let mut rng = Rng(seed() ^ 0x5555);
    let pool: Vec<&[u8]> = VALUE_SEEDS.iter().map(|s| s.as_bytes()).collect();
    with_watchdog("value parsers", move || {
        let started = Instant::now();
        let mut inputs = 0;
        while started.elapsed() < budget() {
            let mut input = pool[rng.below(pool.len())].to_vec();
            mutate(&mut rng, &mut input, &pool);
            input.truncate(MAX_RECORD);
            for &target in TARGETS {
                check_bounded(&format!("{target:?} parser"), &input, || {
                    let _ = parse(Some(&input), target);
                });
            }
            inputs += 1;
        }
        inputs
    });
}

/// `DBCHUNK_FUZZ_REPLAY=FILE`: runs one saved input through every reader
/// setting and prints what each allocates, to debug a failure.
#[test]
fn replay_a_saved_input() {
    let Ok(path) = std::env::var("DBCHUNK_FUZZ_REPLAY") else {
        return;
    };
    let input = std::fs::read(&path).expect("read DBCHUNK_FUZZ_REPLAY");
    for format in [Format::Csv, Format::Tsv, Format::Ndjson] {
        for header in [false, true] {
            for trickle in [false, true] {
                let before = LIVE.load(Ordering::Relaxed);
                PEAK.store(before, Ordering::Relaxed);
                read_everything(format, &input, header, "", trickle);
                let peak = PEAK.load(Ordering::Relaxed) - before;
                eprintln!("{format:?} header={header} trickle={trickle}: {peak} bytes");
            }
        }
    }
}
