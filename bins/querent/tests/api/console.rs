//! The web console in a real browser: headless Chromium driven through chromedriver
//! (WebDriver, with fantoccini) against the real server. First-boot setup, a question on
//! the demo database with its table and chart, review-first approval, History, a viewer's
//! narrower console, and server errors shown to the user.
//!
//! Without Chromium or chromedriver (`/usr/bin/chromium`, `/usr/bin/chromedriver`, or
//! `QUERENT_CHROMIUM` / `QUERENT_CHROMEDRIVER`) the tests skip, or fail under
//! `QUERENT_REQUIRE_BROWSER=1`. With `QUERENT_SCREENSHOTS=1` they save their screenshots
//! of the main screens as `docs/img/console-*.png` (the README shows them).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use querent_domain::TeamRole;
use querent_test_support::TestApp;
use querent_test_support::gate;
use serde_json::{Value, json};

/// How long a step may take before the test fails (a debug build on a busy machine).
const STEP: Duration = Duration::from_secs(60);

const ADMIN_PASSWORD: &str = "console-password-1";

/// A chromedriver process and one browser session in it; both end on drop.
struct Browser {
    client: Option<Client>,
    driver: Child,
    port: u16,
    session: Option<String>,
    base: String,
}

/// Ends a WebDriver session with a plain blocking request, so that it also happens while
/// a failed test unwinds: chromedriver then closes the browser and all its processes
/// (killing chromedriver alone would leave Chromium running).
fn end_session(port: u16, session: &str) {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if s.write_all(request.as_bytes()).is_ok() {
        // chromedriver keeps the connection open after its answer: read up to the end of
        // the JSON body (it answers once the browser is gone).
        let mut answer = Vec::new();
        let mut chunk = [0u8; 1024];
        while let Ok(n @ 1..) = s.read(&mut chunk) {
            answer.extend_from_slice(&chunk[..n]);
            if answer.ends_with(b"}") {
                break;
            }
        }
    }
}

fn tool(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

impl Browser {
    /// Starts chromedriver and a headless Chromium `width` × `height` pixels large (in
    /// dark mode with `dark`), or `None` (after the gate's skip line) when either is
    /// missing.
    async fn start(app: &TestApp, width: u32, height: u32, dark: bool) -> Option<Self> {
        let chromium = tool("QUERENT_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = tool("QUERENT_CHROMEDRIVER", "/usr/bin/chromedriver");
        if !gate::BROWSER.path("Chromium", &chromium)
            || !gate::BROWSER.path("chromedriver", &chromedriver)
        {
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let mut browser = Browser {
            client: None,
            driver,
            port,
            session: None,
            base: app.base_url.clone(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut options = json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--hide-scrollbars", "--force-color-profile=srgb", "--lang=en-US",
                format!("--window-size={width},{height}"),
            ],
        });
        if width < 500 {
            // Headless windows are at least 500 px wide: a phone is emulated instead.
            options["mobileEmulation"] =
                json!({"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0}});
        }
        if dark {
            // prefers-color-scheme: dark.
            for flag in [
                "--force-dark-mode",
                "--blink-settings=preferredColorScheme=0",
            ] {
                options["args"]
                    .as_array_mut()
                    .expect("args")
                    .push(json!(flag));
            }
        }
        let caps = json!({"browserName": "chrome", "goog:chromeOptions": options});
        let Value::Object(caps) = caps else {
            unreachable!("a JSON object")
        };
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => {
                    browser.session = c.session_id().await.expect("session id");
                    browser.client = Some(c);
                    return Some(browser);
                }
                Err(e) => last = Some(e.to_string()),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start a session: {last:?}");
    }

    fn c(&self) -> &Client {
        self.client.as_ref().expect("a session")
    }

    /// Opens a console path (`/`, `/#/review`…).
    async fn open(&self, path: &str) {
        self.c()
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigate");
    }

    /// Moves to a screen by its hash without reloading the page (tokens stay in memory).
    async fn go(&self, hash: &str) {
        self.js(&format!("location.hash = {}; return true;", json!(hash)))
            .await;
    }

    /// The first element matching `css`, waiting for it. On a timeout the page is saved
    /// (screenshot and visible text) in the temporary directory, named in the panic.
    async fn wait(&self, css: &str) -> Element {
        match self
            .c()
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => {
                let shot = std::env::temp_dir().join(format!(
                    "querent-console-failure-{}.png",
                    std::process::id()
                ));
                if let Ok(png) = self.c().screenshot().await {
                    let _ = std::fs::write(&shot, png);
                }
                let page = self
                    .c()
                    .execute("return document.body.innerText;", vec![])
                    .await
                    .unwrap_or_default();
                panic!(
                    "no element {css}: {e}; screenshot {}; page: {page}",
                    shot.display()
                )
            }
        }
    }

    /// The text of the first element matching `css` once it contains `needle`.
    async fn wait_text(&self, css: &str, needle: &str) -> String {
        let deadline = std::time::Instant::now() + STEP;
        loop {
            let text = self.text(css).await;
            if text.contains(needle) {
                return text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{css} never said {needle:?}; it says {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn count(&self, css: &str) -> usize {
        self.c()
            .find_all(Locator::Css(css))
            .await
            .expect("find")
            .len()
    }

    async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.expect("text")
    }

    async fn click(&self, css: &str) {
        self.wait(css).await.click().await.expect("click");
    }

    /// Replaces a field's value with `text` as typed by the user.
    async fn fill(&self, css: &str, text: &str) {
        let el = self.wait(css).await;
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("type");
    }

    async fn js(&self, script: &str) -> Value {
        self.c().execute(script, vec![]).await.expect("script")
    }

    /// Asks a question on the Ask screen and waits for its card to settle; returns the
    /// status of the newest answer.
    async fn ask(&self, question: &str) -> String {
        let before = self.count("#thread article.answer").await;
        self.fill("#question", question).await;
        self.click("#ask").await;
        let css = format!(
            "#thread article.answer:nth-of-type({}):not([aria-busy])",
            before + 1
        );
        self.wait(&css)
            .await
            .attr("data-status")
            .await
            .expect("attr")
            .unwrap_or_else(|| "none".into())
    }

    /// Starts recording Content-Security-Policy violations of the page (the vendored
    /// chart libraries load later, on the first chart, so they are covered).
    async fn watch_csp(&self) {
        self.js(
            "window.__csp = []; document.addEventListener('securitypolicyviolation', \
             (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile)); \
             return true;",
        )
        .await;
    }

    async fn csp_violations(&self) -> Value {
        self.js("return window.__csp || ['not watching'];").await
    }

    /// Scrolls the newest element matching `css` to the top, then takes a screenshot.
    async fn screenshot_of(&self, name: &str, css: &str) {
        self.js(&format!(
            "const all = document.querySelectorAll({}); \
             if (all.length) all[all.length - 1].scrollIntoView({{block: 'start'}}); return true;",
            json!(css)
        ))
        .await;
        self.screenshot(name).await;
    }

    /// Takes a screenshot of the page; saves it as `docs/img/console-{name}.png` with
    /// `QUERENT_SCREENSHOTS=1`.
    async fn screenshot(&self, name: &str) {
        // Let the charts' transitions and the fonts settle.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let png = self.c().screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        if std::env::var("QUERENT_SCREENSHOTS").is_ok_and(|v| v == "1") {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/img");
            std::fs::create_dir_all(&dir).expect("docs/img");
            std::fs::write(dir.join(format!("console-{name}.png")), png).expect("write");
        }
    }

    /// The page's Ask form, after setup or login.
    async fn signed_in(&self) {
        self.wait("#ask-form").await;
    }

    async fn login(&self, username: &str, password: &str) {
        self.wait("#login-form").await;
        self.fill("#login-form input[name=username]", username)
            .await;
        self.fill("#login-form input[name=password]", password)
            .await;
        self.click("#login-form button[type=submit]").await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(session) = &self.session {
            end_session(self.port, session);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_boot_ask_chart_review_and_approve() {
    let app = TestApp::builder().demo().spawn().await;
    let Some(b) = Browser::start(&app, 1280, 1500, false).await else {
        return;
    };

    // First start: the page offers setup, and nothing else.
    b.open("/").await;
    b.wait("#setup-form").await;
    assert_eq!(b.count("#nav a").await, 0, "no screens before setup");
    b.screenshot("setup").await;
    b.fill("#setup-form input[name=username]", "admin").await;
    b.fill("#setup-form input[name=password]", ADMIN_PASSWORD)
        .await;
    b.fill("#setup-form input[name=password2]", ADMIN_PASSWORD)
        .await;
    b.click("#setup-form button[type=submit]").await;
    b.signed_in().await;
    b.watch_csp().await;
    assert!(
        b.text("#connection").await.contains("demo"),
        "the demo connection is offered"
    );

    // A question with a category and a number: rows, SQL, a drawn bar chart.
    let status = b.ask("how many customers are there in each country?").await;
    assert_eq!(status, "executed");
    assert!(b.count("#thread article.answer table.grid tbody tr").await > 1);
    assert!(
        b.text("#thread article.answer .sql-block")
            .await
            .contains("GROUP BY")
    );
    b.wait("#thread figure.chart[data-kind=bar][data-rendered=true] svg")
        .await;
    assert_eq!(
        b.wait("#thread table.grid td.num")
            .await
            .css_value("text-align")
            .await
            .unwrap(),
        "right",
        "numbers are right-aligned"
    );
    b.screenshot("ask").await;

    // Sorting by a column reorders the rows.
    let first = b
        .text("#thread table.grid tbody tr:first-child td:last-child")
        .await;
    b.click("#thread table.grid thead th:last-child button.sort")
        .await;
    b.click("#thread table.grid thead th:last-child button.sort")
        .await;
    let sorted = b
        .text("#thread table.grid tbody tr:first-child td:last-child")
        .await;
    assert_ne!(first, sorted, "descending order puts another country first");

    // Thumbs up keeps it as an example; "Save as query" puts it in the Workspace.
    b.click("#thread button.thumb[data-rating=up]").await;
    b.wait("#thread .feedback [role=status]:not(:empty)").await;
    assert!(
        b.text("#thread .feedback [role=status]")
            .await
            .contains("Thanks")
    );
    b.click("#thread button.save-query").await;
    b.fill(
        "#thread .inline-form input[name=name]",
        "Customers per country",
    )
    .await;
    b.click("#thread .inline-form button[type=submit]").await;
    b.wait("#thread .inline-form [role=status]:not(:empty)")
        .await;
    assert!(
        b.text("#thread .inline-form [role=status]")
            .await
            .starts_with("Saved")
    );

    // A follow-up in the same conversation, and a question it cannot translate.
    assert_eq!(b.ask("how many customers are there?").await, "executed");
    assert!(b.text("#session-note").await.contains("continue"));
    let status = b.ask("what's the weather like tomorrow in Paris?").await;
    assert_eq!(status, "error");
    assert!(!b.text("#thread .cannot-translate").await.is_empty());

    // Admin: the demo connection switches to review first.
    b.go("#/admin/connections").await;
    let mode = b.wait("select.mode[data-connection=demo]").await;
    mode.select_by_value("review_first").await.expect("select");
    b.wait("#admin-connections .outcome:not(:empty)").await;
    assert!(
        b.text("#admin-connections .outcome")
            .await
            .contains("review first")
    );
    b.screenshot("admin").await;

    // The semantic model's tables are edited as forms and saved as a new version.
    b.go("#/admin/semantic").await;
    b.click("#admin-semantic details.model-table summary").await;
    let name = "#admin-semantic details.model-table[open] input[aria-label^='Display name of']";
    b.fill(name, "Clients").await;
    b.click("#admin-semantic button[type=submit]").await;
    b.wait_text("#admin-semantic .outcome", "Saved as version")
        .await;

    // A question now waits; the Review screen lists it; approving runs it.
    b.go("#/ask").await;
    b.wait("#ask-form").await;
    assert_eq!(
        b.ask("how many orders are there?").await,
        "pending_approval"
    );
    // Editing checks the SQL with the guard as it is typed; saved, it waits again.
    b.click("#thread .approval button.edit").await;
    b.fill("#thread .sql-editor textarea", "SELECT nosuch FROM orders")
        .await;
    b.wait("#thread .verdict[data-valid=false]").await;
    assert!(b.text("#thread .verdict").await.contains("nosuch"));
    b.fill(
        "#thread .sql-editor textarea",
        "SELECT COUNT(*) AS order_count FROM orders",
    )
    .await;
    b.wait("#thread .verdict[data-valid=true]").await;
    b.click("#thread .sql-editor button.save-sql").await;
    b.wait("#thread article.answer[data-status=pending_approval]:not([aria-busy]) .approval")
        .await;
    b.go("#/review").await;
    b.wait("#pending article.answer[data-status=pending_approval]")
        .await;
    assert!(b.text("#pending-count").await.starts_with('1'));
    b.wait_text("#nav a[data-path=review] .count", "1").await;
    b.screenshot("review").await;
    b.click("#pending button.approve").await;
    b.wait("#pending article.answer[data-status=executed]:not([aria-busy])")
        .await;
    assert!(b.count("#pending table.grid tbody tr").await >= 1);
    assert!(
        b.text("#pending table.grid thead")
            .await
            .contains("order_count")
    );

    // History lists the conversations and shows their messages.
    b.go("#/history").await;
    b.click("#sessions li:first-child a").await;
    b.wait(".history-detail article.answer").await;
    b.screenshot("history").await;

    // The saved query runs from the Workspace.
    b.go("#/workspace/queries").await;
    assert_eq!(
        b.text("#main article.card h2").await,
        "Customers per country"
    );
    b.click("#main article.card button.run-query").await;
    b.wait("#main article.card table.grid tbody tr").await;

    let csp = b.csp_violations().await;
    assert_eq!(csp, json!([]), "the console runs under its policy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_no_admin_or_review_screens() {
    // Access tokens live three seconds: the console must refresh them quietly.
    let app = TestApp::builder()
        .with_demo()
        .config(|c| c.access_token_ttl_secs = 3)
        .spawn()
        .await;
    let team = app.setup().team.id;
    // (A token of its own, right before: the setup's may have lived its three seconds
    // already on a loaded machine.)
    let fresh = app
        .anonymous()
        .login("admin", "admin-password-1")
        .await
        .access_token;
    app.client(fresh)
        .create_member(team, "vera", TeamRole::Viewer)
        .await;
    // A phone-sized window.
    let Some(b) = Browser::start(&app, 390, 1000, false).await else {
        return;
    };
    b.open("/").await;
    b.login("vera", "vera-password-1").await;
    b.signed_in().await;
    let nav = b.text("#nav").await;
    assert!(nav.contains("Ask") && nav.contains("History"), "{nav}");
    assert!(!nav.contains("Admin") && !nav.contains("Review"), "{nav}");
    // Long after the first access token expired, the console still answers.
    tokio::time::sleep(Duration::from_secs(7)).await;
    // Typing the address of an admin screen shows Ask instead.
    b.go("#/admin").await;
    b.wait(".screen[data-screen=ask]").await;
    assert_eq!(b.count(".screen[data-screen=admin]").await, 0);
    assert_eq!(
        b.ask("how many customers are there in each country?").await,
        "executed"
    );
    b.wait("#thread figure.chart[data-rendered=true] svg").await;
    b.screenshot_of("mobile", "#thread figure.chart").await;
    // Signing out returns to the login form and forgets the login.
    b.click("#logout").await;
    b.wait("#login-form").await;
    b.open("/").await;
    b.wait("#login-form").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_shown_not_swallowed() {
    let app = TestApp::builder().with_demo().spawn().await;
    let Some(b) = Browser::start(&app, 1280, 900, true).await else {
        return;
    };
    b.open("/").await;
    // A wrong password: the server's message and code under the form.
    b.login("admin", "not-the-password").await;
    let error = b.text("#login-form .form-error:not([hidden])").await;
    assert!(error.contains("invalid_credentials"), "{error}");
    b.login("admin", "admin-password-1").await;
    b.signed_in().await;
    // Months written as text are drawn as a line (in dark mode, as the system asks).
    assert_eq!(
        b.ask("how many orders per month in 2024?").await,
        "executed"
    );
    b.wait("#thread figure.chart[data-kind=line][data-rendered=true] svg")
        .await;
    // The connection goes away behind the page's back: asking shows the server's 404.
    app.admin()
        .delete(&format!("/api/v1/connections/{}", app.demo().id))
        .await;
    assert_eq!(b.ask("how many customers are there?").await, "none");
    let shown = b.text("#thread .error-box").await;
    assert!(shown.contains("not_found"), "{shown}");
    b.screenshot_of("error", "#thread figure.chart").await;
    // A reload keeps the login (refresh token in this tab's session storage), and Ask
    // says what to do without a connection.
    b.open("/").await;
    assert_eq!(b.text("#whoami").await, "admin");
    assert!(
        b.text(".screen[data-screen=ask]")
            .await
            .contains("no connection")
    );
}

#[tokio::test]
async fn the_console_is_served_with_its_policy_types_and_caching() {
    let app = TestApp::builder().spawn().await;
    let get = |path: &str| app.client.get(format!("{}{path}", app.base_url));

    let page = get("/").send().await.unwrap();
    assert_eq!(page.status(), 200);
    let h = page.headers().clone();
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    let csp = h["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-cache");
    let body = page.text().await.unwrap();
    assert!(body.contains("/console/js/app.js"));

    // The console's own files revalidate by ETag.
    let js = get("/console/js/app.js").send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let etag = js.headers()["etag"].to_str().unwrap().to_owned();
    let again = get("/console/js/app.js")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // Vendored libraries live under versioned paths and are cached for good, compressed
    // on request.
    let vega = get("/console/vendor/vega-embed-6.29.0/vega-embed.min.js")
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(vega.status(), 200);
    assert!(
        vega.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(vega.headers()["content-encoding"], "gzip");
    let css = get("/console/app.css").send().await.unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");

    // Unknown files are the API's JSON 404, never the page.
    let missing = get("/console/nope.js").send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let err: Value = missing.json().await.unwrap();
    assert_eq!(err["code"], "not_found");
    assert_eq!(
        get("/console/../Cargo.toml").send().await.unwrap().status(),
        404
    );
}
