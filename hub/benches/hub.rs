//! Hub benchmarks (`cargo bench -p hub`), printing figures:
//!
//! 1. ingest: passages per second over HTTP into a real server on 127.0.0.1:0, in
//!    batches of 100, each batch durable (flushed) before it is acknowledged;
//! 2. timeline: p50/p99 latency of one plate's timeline with 1,000,000 passages
//!    stored (filled through the Store API, ~50k plates, 30 checkpoints), measured at
//!    the store and over HTTP (which adds the audit line and its flush);
//! 3. crosscheck: p50/p99 latency of a tip's cross-check at the store, for a concrete
//!    plate (plate index plus its confusable variants) and a partial one (a 2-hour
//!    scan of every checkpoint in and next to the county), over 200,000 passages at
//!    30 checkpoints in 3 counties.
//! 4. report: the ledger (台账) of one China day and of the whole span over the same
//!    store as 2, which scans only the range's index keys.
//!
//! `HUB_BENCH_PASSAGES` (default 1000000), `HUB_BENCH_INGEST` (default 50000) and
//! `HUB_BENCH_CROSSCHECK` (default 200000) shrink the runs.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use hub::api::*;
use hub::auth;
use hub::client::HubClient;
use hub::config::Config;
use hub::server::Application;
use hub::store::{Store, UserRecord};
use rand::Rng;

const PROVINCES: [&str; 6] = ["冀", "晋", "京", "蒙", "辽", "津"];

fn plate(n: usize) -> PlateText {
    let letters = b"ABCDEFGHJK";
    PlateText::parse(&format!(
        "{}{}{:05}",
        PROVINCES[n % 6],
        letters[(n / 6) % 10] as char,
        n % 100_000
    ))
    .unwrap()
}

fn passage(cp: &CheckpointId, plate: PlateText, ms: i64) -> Passage {
    let sha = Sha256::of(&ms.to_be_bytes());
    Passage {
        id: PassageId::new(),
        checkpoint_id: cp.clone(),
        seen_at: Utc.timestamp_millis_opt(ms).unwrap(),
        lane: 1,
        direction: Direction::Inbound,
        plate: Some(PlateRead {
            text: plate,
            color: PlateColor::Yellow,
            layout: PlateLayout::Single,
            confidence: 0.95,
        }),
        cargo: Some(CargoRead {
            cover: Cover::Open,
            material: Material::Coal,
            confidence: 0.9,
        }),
        evidence: vec![
            EvidenceRef {
                sha256: sha,
                kind: EvidenceKind::Frame,
            },
            EvidenceRef {
                sha256: sha,
                kind: EvidenceKind::Plate,
            },
        ],
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// "p50 .. ms, p99 .. ms, max .. ms" of `lat` (sorted in place).
fn latencies(lat: &mut [Duration]) -> String {
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!(
        "p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ms(percentile(lat, 0.5)),
        ms(percentile(lat, 0.99)),
        ms(lat[lat.len() - 1])
    )
}

fn config(dir: &std::path::Path) -> Config {
    Config {
        data: dir.to_path_buf(),
        workers: 2,
        ..Config::default()
    }
}

/// Stores `total` passages of `plates` random plates at random checkpoints of `cps`,
/// one every `step_ms` from `t0_ms`, through the Store API in batches of 1000.
fn fill(
    store: &Store,
    cps: &[CheckpointId],
    county: &County,
    total: usize,
    plates: usize,
    t0_ms: i64,
    step_ms: i64,
) {
    let mut rng = rand::rng();
    let mut done = 0;
    while done < total {
        let n = 1000.min(total - done);
        let batch: Vec<Passage> = (0..n)
            .map(|k| {
                passage(
                    &cps[rng.random_range(0..cps.len())],
                    plate(rng.random_range(0..plates)),
                    t0_ms + (done + k) as i64 * step_ms,
                )
            })
            .collect();
        store.insert_passages(&batch, county, Utc::now()).unwrap();
        done += n;
    }
}

async fn ingest() {
    let total = env_usize("HUB_BENCH_INGEST", 50_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 256 << 20).unwrap();
    let token = auth::new_token();
    let cp = CheckpointId::parse("bench-01").unwrap();
    store
        .add_checkpoint(
            &cp,
            "bench",
            &County::parse("滦平县").unwrap(),
            auth::token_hash(&token),
        )
        .unwrap();
    let app = Application::build(
        config(dir.path()),
        store,
        TcpListener::bind("127.0.0.1:0").unwrap(),
    )
    .unwrap();
    let base = format!("http://{}", app.addr());
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());

    let t0 = Utc::now().timestamp_millis();
    let batches: Vec<Vec<Passage>> = (0..total / 100)
        .map(|b| {
            (0..100)
                .map(|k| passage(&cp, plate(b * 100 + k), t0 + (b * 100 + k) as i64))
                .collect()
        })
        .collect();
    for concurrency in [1usize, 8] {
        let share = batches.len() / concurrency;
        let jobs: Vec<Vec<Vec<Passage>>> = (0..concurrency)
            .map(|c| {
                batches[c * share..(c + 1) * share]
                    .iter()
                    .map(|b| {
                        b.iter()
                            .map(|p| Passage {
                                id: PassageId::new(),
                                ..p.clone()
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let sent: usize = jobs
            .iter()
            .map(|j| j.iter().map(Vec::len).sum::<usize>())
            .sum();
        let start = Instant::now();
        let tasks: Vec<_> = jobs
            .into_iter()
            .map(|job| {
                let client = HubClient::new(&base, &token).unwrap();
                tokio::spawn(async move {
                    let mut accepted = 0;
                    for batch in job {
                        accepted += client.post_passages(&batch).await.unwrap().accepted;
                    }
                    accepted
                })
            })
            .collect();
        let mut accepted = 0;
        for t in tasks {
            accepted += t.await.unwrap();
        }
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(accepted as usize, sent);
        println!(
            "ingest: {sent} passages in batches of 100, {concurrency} client(s): {secs:.2} s, {:.0} passages/s ({:.1} ms per batch)",
            sent as f64 / secs,
            secs * 1000.0 * concurrency as f64 / (sent / 100) as f64
        );
    }
    handle.stop(true).await;
    server.await.unwrap().unwrap();
}

async fn timeline() {
    let total = env_usize("HUB_BENCH_PASSAGES", 1_000_000);
    let plates = 50_000usize.min(total.max(1));
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 256 << 20).unwrap();
    let cps: Vec<CheckpointId> = (0..30)
        .map(|i| CheckpointId::parse(&format!("cp-{i:02}")).unwrap())
        .collect();
    let county = County::parse("滦平县").unwrap();
    let mut rng = rand::rng();
    let start = Instant::now();
    let t0 = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .unwrap()
        .timestamp_millis();
    fill(&store, &cps, &county, total, plates, t0, 2_000);
    store.flush().await.unwrap();
    println!(
        "fill: {total} passages over {plates} plates and {} checkpoints through the Store API in {:.1} s; store {} MiB",
        cps.len(),
        start.elapsed().as_secs_f64(),
        store.size_on_disk() >> 20
    );

    // At the store.
    let queries = 5_000;
    let mut lat = Vec::with_capacity(queries);
    let mut found = 0;
    for _ in 0..queries {
        let p = plate(rng.random_range(0..plates));
        let s = Instant::now();
        found += store
            .plate_passages(
                &p,
                chrono::DateTime::<Utc>::MIN_UTC,
                chrono::DateTime::<Utc>::MAX_UTC,
                5000,
            )
            .unwrap()
            .len();
        lat.push(s.elapsed());
    }
    println!(
        "timeline (Store API): {queries} random plates, {:.1} passages each: {}",
        found as f64 / queries as f64,
        latencies(&mut lat)
    );

    // The ledger of one day and of the whole span.
    for cp in &cps {
        store
            .add_checkpoint(cp, cp.as_str(), &county, auth::token_hash(cp.as_str()))
            .unwrap();
    }
    let first = hub::store::china_day(Utc.timestamp_millis_opt(t0).unwrap());
    let last = hub::store::china_day(Utc.timestamp_millis_opt(t0 + total as i64 * 2_000).unwrap());
    let second = first.succ_opt().unwrap().min(last);
    for (label, from, to) in [("one day", second, second), ("whole span", first, last)] {
        let s = Instant::now();
        let rows = store.report(from, to, None).unwrap();
        let took = s.elapsed();
        let counted: u64 = rows
            .iter()
            .filter(|r| r.checkpoint.is_some())
            .map(|r| r.passages)
            .sum();
        println!(
            "report ({label}, {} day(s)): {counted} passages in {} rows: {:.1} ms",
            (to - from).num_days() + 1,
            rows.len(),
            took.as_secs_f64() * 1e3
        );
    }

    // Over HTTP, as a logged-in person (each search writes and flushes an audit line).
    store
        .add_user(&UserRecord {
            name: UserName::parse("bench").unwrap(),
            role: Role::Investigator,
            county: County::parse("滦平县").unwrap(),
            password_hash: auth::hash_password("bench password").unwrap(),
            created_at: Utc::now(),
        })
        .unwrap();
    let app = Application::build(
        config(dir.path()),
        store,
        TcpListener::bind("127.0.0.1:0").unwrap(),
    )
    .unwrap();
    let base = format!("http://{}", app.addr());
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    let token = http
        .post(format!("{base}/api/v1/login"))
        .json(&LoginRequest {
            name: "bench".into(),
            password: "bench password".into(),
        })
        .send()
        .await
        .unwrap()
        .json::<LoginResponse>()
        .await
        .unwrap()
        .token;
    let queries = 2_000;
    let mut lat = Vec::with_capacity(queries);
    for _ in 0..queries {
        let p = plate(rng.random_range(0..plates));
        let url = format!("{base}/api/v1/plates/{}/passages?reason=bench", p);
        let s = Instant::now();
        let resp = http.get(url).bearer_auth(&token).send().await.unwrap();
        assert!(resp.status().is_success());
        let tl: PlateTimeline = resp.json().await.unwrap();
        lat.push(s.elapsed());
        assert!(tl.passages.windows(2).all(|w| w[0].seen_at <= w[1].seen_at));
    }
    lat.sort();
    println!(
        "timeline (HTTP, audited + flushed): {queries} random plates: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3
    );
    handle.stop(true).await;
    server.await.unwrap().unwrap();
}

async fn crosscheck() {
    use hub::store::TipRecord;
    use hub::tips::Neighbours;
    let total = env_usize("HUB_BENCH_CROSSCHECK", 200_000);
    let plates = 50_000usize.min(total.max(1));
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 256 << 20).unwrap();
    let counties = ["滦平县", "承德县", "兴隆县"].map(|c| County::parse(c).unwrap());
    let cps: Vec<CheckpointId> = (0..30)
        .map(|i| {
            let id = CheckpointId::parse(&format!("cp-{i:02}")).unwrap();
            store
                .add_checkpoint(
                    &id,
                    "bench",
                    &counties[i % 3],
                    auth::token_hash(&auth::new_token()),
                )
                .unwrap();
            id
        })
        .collect();
    let mut rng = rand::rng();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let step_ms = 2_000;
    // Passages carry their checkpoint's county only for evidence access, unused here.
    fill(
        &store,
        &cps,
        &counties[0],
        total,
        plates,
        t0.timestamp_millis(),
        step_ms,
    );
    let mut table = std::collections::BTreeMap::new();
    table.insert("滦平县".to_string(), vec!["承德县".to_string()]);
    let neighbours = Neighbours::new(&table);
    let span = chrono::Duration::milliseconds(total as i64 * step_ms);
    let queries = 500;
    for (what, partial) in [("concrete plate", false), ("partial plate", true)] {
        let mut lat = Vec::with_capacity(queries);
        let mut found = 0;
        for _ in 0..queries {
            let p = plate(rng.random_range(0..plates)).to_string();
            // The last four characters, as a tipster might remember them.
            let heard = if partial {
                format!("*{}", p.chars().skip(3).collect::<String>())
            } else {
                p
            };
            let from = t0
                + chrono::Duration::milliseconds(
                    rng.random_range(0..span.num_milliseconds().max(1)),
                );
            let tip = TipRecord {
                id: TipId::new(),
                case_id: CaseId::new(),
                county: counties[0].clone(),
                channel: TipChannel::Hotline12315,
                received_at: from,
                recorded_at: from,
                recorded_by: "bench".into(),
                tipster: Tipster {
                    name: None,
                    phone: None,
                },
                plate: PlatePattern::parse(&heard).unwrap(),
                place: String::new(),
                window_from: from,
                window_to: from + chrono::Duration::hours(2),
                said: String::new(),
                status: TipStatus::Open,
                deadline: from,
            };
            let s = Instant::now();
            found += store.crosscheck(&tip, &neighbours, 200).unwrap().len();
            lat.push(s.elapsed());
        }
        println!(
            "crosscheck ({what}, 2 h window, {total} passages, 20 of 30 checkpoints near): {queries} tips, {:.2} matches each: {}",
            found as f64 / queries as f64,
            latencies(&mut lat)
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    ingest().await;
    timeline().await;
    crosscheck().await;
}
