//! Tablet pages: login by form, queue, detail with escaped notes, plate search that
//! requires a reason; no session → the login page.

use crate::helpers::*;

async fn page_login(app: &TestApp, name: &str) -> String {
    let resp = app
        .http
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("name={}&password={}", enc(name), enc(PASSWORD)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/");
    let cookie = resp.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

async fn get_page(app: &TestApp, cookie: &str, path: &str) -> (u16, String) {
    let resp = app
        .http
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn post_form(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> u16 {
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    let resp = app
        .http
        .post(app.url(path))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.join("&"))
        .send()
        .await
        .unwrap();
    resp.status().as_u16()
}

#[tokio::test]
async fn pages_render_and_escape_what_people_typed() {
    let app = TestApp::spawn().await;
    // Without a session every page sends you to the login page.
    let resp = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/login");
    let (s, html) = get_page(&app, "", "/login").await;
    assert_eq!(s, 200);
    assert!(html.contains("登录") && html.contains("/static/app.css"));
    let resp = app
        .http
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=officer1&password=wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("用户名或密码错误"));
    let css = app
        .http
        .get(app.url("/static/app.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);

    let (p, i) = seed_incident(&app, CP1, "晋H93513", 5).await;
    let cookie = page_login(&app, "officer1").await;
    let (s, html) = get_page(&app, &cookie, "/").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("晋H93513") && html.contains(CP1) && html.contains("疑似散煤"),
        "{html}"
    );
    assert!(html.contains(&format!("/api/v1/evidence/{}/thumb", p.evidence[0].sha256)));
    assert!(html.contains(&format!("/incidents/{}", i.id)));

    // Actions as forms; a note with markup comes back escaped.
    let url = format!("/incidents/{}/actions", i.id);
    assert_eq!(
        post_form(&app, &cookie, &url, &[("action", "claim")]).await,
        303
    );
    let evil = "<script>alert('x')</script> & 司机";
    assert_eq!(
        post_form(&app, &cookie, &url, &[("action", "note"), ("note", evil)]).await,
        303
    );
    assert_eq!(
        post_form(&app, &cookie, &url, &[("action", "claim")]).await,
        409
    );
    let (s, html) = get_page(&app, &cookie, &format!("/incidents/{}", i.id)).await;
    assert_eq!(s, 200);
    assert!(!html.contains("<script>alert"), "note must be escaped");
    assert!(
        html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; 司机")
            || html.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; 司机"),
        "{html}"
    );
    assert!(
        html.contains(&format!("/api/v1/evidence/{}", p.evidence[0].sha256)),
        "full photo"
    );
    assert!(
        html.contains(&format!("/api/v1/evidence/{}", p.evidence[1].sha256)),
        "plate crop"
    );
    assert!(html.contains("已认领"));
    // The evidence images load with the cookie alone.
    let img = app
        .http
        .get(app.url(&format!("/api/v1/evidence/{}", p.evidence[0].sha256)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(img.status(), 200);

    // Outcome form closes it.
    assert_eq!(
        post_form(
            &app,
            &cookie,
            &url,
            &[
                ("action", "outcome"),
                ("outcome", "turned_back"),
                ("tonnes", ""),
                ("fine_yuan", ""),
                ("note", "")
            ]
        )
        .await,
        303
    );
    let (_, html) = get_page(&app, &cookie, &format!("/incidents/{}", i.id)).await;
    assert!(html.contains("已结案") && html.contains("劝返"));

    // Plate search wants a reason; with one it shows the timeline.
    let (s, html) = get_page(&app, &cookie, &format!("/plates?plate={}", enc("晋H93513"))).await;
    assert_eq!(s, 200);
    assert!(html.contains("必须填写原因"));
    let (s, html) = get_page(
        &app,
        &cookie,
        &format!(
            "/plates?plate={}&reason={}",
            enc("晋H93513"),
            enc("<b>核查</b>")
        ),
    )
    .await;
    assert_eq!(s, 200);
    assert!(html.contains("过车轨迹") && html.contains(CP1));
    assert!(html.contains("&lt;b&gt;核查&lt;/b&gt;") && !html.contains("<b>核查"));
    let (_, html) = get_page(
        &app,
        &cookie,
        &format!("/plates?plate={}&reason=r", enc("<i>bad</i>")),
    )
    .await;
    assert!(html.contains("GA 36") && !html.contains("<i>bad"));

    // Another county's incident page is a 404 page, not the incident.
    let (_, other) = seed_incident(&app, CP2, "冀A1234挂", 6).await;
    let (s, _) = get_page(&app, &cookie, &format!("/incidents/{}", other.id)).await;
    assert_eq!(s, 404);

    // Log out: the session is gone.
    assert_eq!(post_form(&app, &cookie, "/logout", &[]).await, 303);
    let resp = app
        .http
        .get(app.url("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
}

#[tokio::test]
async fn pages_switch_to_english_and_show_each_outcomes_fields() {
    let app = TestApp::spawn().await;
    let (_, i) = seed_incident(&app, CP1, "晋H93513", 5).await;
    let cookie = page_login(&app, "officer1").await;
    let (_, html) = get_page(&app, &cookie, "/").await;
    assert!(
        html.contains("事件队列") && html.contains("href=\"/lang/en\""),
        "{html}"
    );
    assert!(html.contains("name=\"viewport\"") && html.contains("src=\"/static/app.js\""));
    assert!(html.contains("data-live=\"/api/v1/incidents/events\""));
    // The switch keeps English in a cookie and goes back where it was pressed.
    let resp = app
        .http
        .get(app.url("/lang/en"))
        .header("cookie", &cookie)
        .header("referer", app.url(&format!("/incidents/{}", i.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        format!("/incidents/{}", i.id).as_str()
    );
    let lang = resp.headers()["set-cookie"].to_str().unwrap();
    assert!(lang.starts_with("lang=en"), "{lang}");
    let both = format!("{cookie}; lang=en");
    let (_, html) = get_page(&app, &both, "/").await;
    assert!(
        html.contains("Incident queue") && html.contains("Suspected loose coal"),
        "{html}"
    );
    assert!(html.contains("lang=\"en\"") && !html.contains("事件队列"));
    // Each outcome field says which outcomes use it; the timeline is one tap away.
    let (_, html) = get_page(&app, &both, &format!("/incidents/{}", i.id)).await;
    assert!(
        html.contains("data-for=\"fined\"") && html.contains("Legal basis"),
        "{html}"
    );
    assert!(html.contains("data-for=\"released_with_papers\""));
    assert!(html.contains("data-for=\"seized\"") && html.contains("data-for=\"sampled\""));
    assert!(
        html.contains("/plates?plate=晋H93513&amp;reason="),
        "{html}"
    );
    // A form missing a fine's legal basis is refused, naming the field.
    let url = format!("/incidents/{}/actions", i.id);
    let form = [
        ("action", "outcome"),
        ("outcome", "fined"),
        ("fine_yuan", "3000"),
        ("legal_basis", ""),
    ];
    assert_eq!(post_form(&app, &cookie, &url, &form).await, 400);
    // In English, the error page is English too.
    let resp = app
        .http
        .post(app.url(&url))
        .header("cookie", &both)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("action=outcome&outcome=fined&fine_yuan=3000&legal_basis=")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Something went wrong") && html.contains("legal_basis: required"),
        "{html}"
    );
    assert!(!html.contains("出错了"), "{html}");
    let form = [
        ("action", "outcome"),
        ("outcome", "fined"),
        ("fine_yuan", "3000"),
        ("legal_basis", "art. 116"),
    ];
    assert_eq!(post_form(&app, &cookie, &url, &form).await, 303);
    let (_, html) = get_page(&app, &both, &format!("/incidents/{}", i.id)).await;
    assert!(
        html.contains("Fined") && html.contains("art. 116"),
        "{html}"
    );
    // Back to Chinese.
    let resp = app.http.get(app.url("/lang/zh")).send().await.unwrap();
    assert!(resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("lang=zh"));
    let js = app
        .http
        .get(app.url("/static/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.text().await.unwrap().contains("EventSource"));
}
