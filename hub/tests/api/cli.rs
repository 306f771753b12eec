//! The `hub` binary: `checkpoint add|revoke` and `user add`, then a server on that dir.

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::Utc;

use crate::helpers::*;

fn hub(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hub"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn cli_adds_checkpoints_and_users_that_the_server_accepts() {
    let mut app = TestApp::spawn().await;
    app.stop().await;
    let data = app.dir.path().to_str().unwrap().to_owned();

    let out = hub(
        &[
            "checkpoint",
            "add",
            "--data",
            &data,
            "--id",
            "pingquan-03",
            "--name",
            "平泉 3 号",
            "--county",
            "平泉市",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(token.len(), 64);
    // Adding an active checkpoint again is refused.
    let again = hub(
        &[
            "checkpoint",
            "add",
            "--data",
            &data,
            "--id",
            "pingquan-03",
            "--name",
            "x",
            "--county",
            "平泉市",
        ],
        None,
    );
    assert!(!again.status.success());
    // Bad input is refused by the parser.
    assert!(!hub(
        &[
            "checkpoint",
            "add",
            "--data",
            &data,
            "--id",
            "Bad Id",
            "--name",
            "x",
            "--county",
            "c"
        ],
        None
    )
    .status
    .success());
    assert!(!hub(
        &[
            "user",
            "add",
            "--data",
            &data,
            "--name",
            "x",
            "--role",
            "root",
            "--county",
            "c",
            "--password-stdin"
        ],
        None
    )
    .status
    .success());

    let out = hub(
        &[
            "user",
            "add",
            "--data",
            &data,
            "--name",
            "disp",
            "--role",
            "dispatcher",
            "--county",
            "平泉市",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!hub(
        &[
            "user",
            "add",
            "--data",
            &data,
            "--name",
            "short",
            "--role",
            "officer",
            "--county",
            "c",
            "--password-stdin"
        ],
        Some("short\n")
    )
    .status
    .success());

    app.start().await;
    let client = app.client(&token);
    let p = passage("pingquan-03", Some("冀H12345"), Utc::now(), vec![]);
    assert_eq!(
        client
            .post_passages(std::slice::from_ref(&p))
            .await
            .unwrap()
            .accepted,
        1
    );
    let resp = app
        .http
        .post(app.url("/api/v1/login"))
        .json(&serde_json::json!({"name": "disp", "password": "a long enough password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    app.stop().await;
    let out = hub(
        &[
            "checkpoint",
            "revoke",
            "--data",
            &data,
            "--id",
            "pingquan-03",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!hub(
        &["checkpoint", "revoke", "--data", &data, "--id", "nowhere-9"],
        None
    )
    .status
    .success());
    app.start().await;
    assert_eq!(
        app.client(&token)
            .post_passages(&[p])
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
}

#[tokio::test]
async fn serve_stops_gracefully_on_sigterm_with_the_store_flushed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let out = hub(
        &[
            "checkpoint",
            "add",
            "--data",
            &data,
            "--id",
            "cp-1",
            "--name",
            "n",
            "--county",
            "c",
        ],
        None,
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let added = hub(
        &[
            "user",
            "add",
            "--data",
            &data,
            "--name",
            "wang",
            "--role",
            "officer",
            "--county",
            "c",
            "--password-stdin",
        ],
        Some("a long password"),
    );
    assert!(added.status.success(), "{added:?}");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let listen = format!("127.0.0.1:{port}");
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, "workers = 1\nmax_page = 20\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hub"))
        .args([
            "serve",
            "--data",
            &data,
            "--listen",
            &listen,
            "--config",
            config.to_str().unwrap(),
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = hub::client::HubClient::new(&format!("http://{listen}"), &token).unwrap();
    let p = passage("cp-1", None, Utc::now(), vec![]);
    let mut stored = None;
    for _ in 0..200 {
        match client.post_passages(std::slice::from_ref(&p)).await {
            Ok(r) => {
                stored = Some(r);
                break;
            }
            Err(e) if e.is_retryable() => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(stored.expect("server came up").accepted, 1);
    // A tablet with the live queue open does not hold the shutdown up.
    let http = reqwest::Client::new();
    let login: hub::api::LoginResponse = http
        .post(format!("http://{listen}/api/v1/login"))
        .json(&serde_json::json!({"name": "wang", "password": "a long password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut stream = http
        .get(format!("http://{listen}/api/v1/incidents/events"))
        .bearer_auth(&login.token)
        .send()
        .await
        .unwrap();
    assert!(
        stream.chunk().await.unwrap().is_some(),
        "the stream is open"
    );
    let asked = std::time::Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    // The shutdown timeout is 10 s: an open stream would have used all of it.
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
    assert!(
        matches!(stream.chunk().await, Ok(None) | Err(_)),
        "the stream ended"
    );
    // The passage is there for the next process.
    let store = open_store(dir.path()).await;
    assert!(store.passage(&p.id).unwrap().is_some());
}
