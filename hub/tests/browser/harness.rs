//! A real hub on 127.0.0.1:0 (the API tests' [`TestApp`]), chromedriver on a free
//! port and headless Chromium driven through it with fantoccini, plus the steps every
//! browser test needs (log in, wait for an element). New browser tests start with
//! [`Browser::start`].
//!
//! The browser and its driver are Debian's `chromium` and `chromium-driver`
//! (`make deps`); `KADIAN_CHROMEDRIVER` and `KADIAN_CHROMIUM` point elsewhere. Missing
//! ones fail the test: a browser test that silently passes tests nothing.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::helpers::{TestApp, PASSWORD};

fn tool(var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.exists(),
        "{} not found ({var} to point elsewhere): run `make deps` to install Debian's chromium and chromium-driver",
        path.display()
    );
    path
}

/// chromedriver, killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A hub and a headless browser looking at it.
pub struct Browser {
    pub app: TestApp,
    pub client: Client,
    _driver: Driver,
}

impl Browser {
    /// Starts a fresh hub, chromedriver and a headless Chromium session.
    pub async fn start() -> Browser {
        let driver_path = tool("KADIAN_CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = tool("KADIAN_CHROMIUM", "/usr/bin/chromium");
        let app = TestApp::spawn().await;
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let driver = Driver(
            Command::new(&driver_path)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot start {}: {e} (run `make deps`)",
                        driver_path.display()
                    )
                }),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port} within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1024,1366", "--lang=zh-CN"]
            }),
        );
        let client = ClientBuilder::rustls()
            .expect("rustls connector")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session from chromedriver");
        Browser {
            app,
            client,
            _driver: driver,
        }
    }

    pub async fn goto(&self, path: &str) {
        self.client.goto(&self.app.url(path)).await.unwrap();
    }

    /// Logs `name` in through the login form; ends on the queue.
    pub async fn log_in(&self, name: &str) {
        self.goto("/login").await;
        self.fill("input[name=name]", name).await;
        self.fill("input[name=password]", PASSWORD).await;
        self.click("form.login button[type=submit]").await;
        self.wait_for("ul.queue", Duration::from_secs(5)).await;
    }

    /// The element matching `css` once it exists, within `within`.
    pub async fn wait_for(&self, css: &str, within: Duration) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(within)
            .every(Duration::from_millis(25))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}` within {within:?}: {e}"))
    }

    /// The element matching `css` now.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}`: {e}"))
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// Types `text` into the element matching `css`.
    pub async fn fill(&self, css: &str, text: &str) {
        self.find(css).await.send_keys(text).await.unwrap();
    }

    /// The visible text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// Runs `js` in the page and returns its value.
    pub async fn js(&self, js: &str) -> serde_json::Value {
        self.client.execute(js, vec![]).await.unwrap()
    }

    /// Closes the browser session (the driver and hub go when dropped).
    pub async fn close(self) {
        let Browser { client, .. } = self;
        let _ = client.close().await;
    }
}
