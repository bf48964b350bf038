//! Languages: Accept-Language, the remembered switcher, translated messages.

use super::*;

#[tokio::test]
async fn the_language_follows_accept_language() {
    let app = app().await;
    for (accept, lang, heading) in [
        ("pt-BR,pt;q=0.9", "pt-BR", "Entrar no console"),
        ("pt", "pt-BR", "Entrar no console"),
        ("es-MX,es;q=0.8", "es", "Iniciar sesión en la consola"),
        ("de-DE,fr;q=0.5", "en", "Sign in to the console"),
    ] {
        let page = Browser::new(&app)
            .with_header("Accept-Language", accept)
            .get("/console/")
            .await;
        assert!(page.has(&format!("<html lang=\"{lang}\">")), "{accept}");
        assert!(page.has(heading), "{accept}");
    }
}

#[tokio::test]
async fn the_switcher_sets_a_cookie_that_beats_accept_language() {
    let app = app().await;
    let mut browser = Browser::new(&app).with_header("Accept-Language", "pt-BR");
    let settings = browser.sign_in(ADMIN).await;
    assert!(settings.has("<h1>Configurações</h1>"));

    let page = browser
        .get("/console/lang?to=es&next=%2Fconsole%2Fsettings")
        .await;
    assert_eq!(page.location(), "/console/settings");
    let cookie = page.set_cookie("porteiro_lang").unwrap();
    assert!(cookie.starts_with("porteiro_lang=es;") && cookie.contains("Max-Age="));
    let settings = browser.follow(&page).await;
    assert!(settings.has("<html lang=\"es\">") && settings.has("<h1>Configuración</h1>"));
    let users = browser.get("/console/users").await;
    assert!(users.has("<h1>Usuarios</h1>"));
}

#[tokio::test]
async fn the_switcher_never_sends_anyone_to_another_site() {
    let app = app().await;
    let page = Browser::new(&app)
        .get("/console/lang?to=en&next=%2F%2Fevil.example%2F")
        .await;
    assert_eq!(page.location(), "/console/");
}

#[tokio::test]
async fn messages_of_actions_are_translated() {
    let app = app().await;
    let mut browser = Browser::new(&app).with_header("Accept-Language", "es");
    browser.sign_in(ADMIN).await;
    let page = browser.post("/console/settings", &[("name", "X")]).await;
    assert_eq!(page.status, 403);
    assert!(page.has("Solo los propietarios pueden cambiar"));
}

#[tokio::test]
async fn the_language_links_of_a_form_answer_lead_back_to_a_page() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let refused = browser.try_sign_in(ADMIN, "wrong-password").await;
    assert!(refused.has("/console/lang?to=es&#38;next=%2Fconsole%2F\""));
    browser.sign_in(ADMIN).await;
    let created = browser
        .post("/console/integrations", &[("name", "ERP"), ("scopes", "")])
        .await;
    assert!(created.has("next=%2Fconsole%2Fintegrations\""));
}
