//! The fake identity providers over real HTTP on loopback.

use std::collections::HashMap;

use almanac_fakecloud::{id_token, FakeCloud};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

const MS_CLIENT: &str = "almanac-test-ms";
const MS_REDIRECT: &str = "http://127.0.0.1:53682/callback/microsoft";
const G_CLIENT: &str = "almanac-test-google.apps.googleusercontent.com";
const G_SECRET: &str = "almanac-test-google-secret";
const G_REDIRECT: &str = "http://127.0.0.1:53683/callback/google";

struct Fake {
    cloud: FakeCloud,
    http: reqwest::Client,
}

async fn start() -> Fake {
    let cloud = FakeCloud::start().await.expect("start the fake cloud");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("build the HTTP client");
    Fake { cloud, http }
}

fn redirect_of(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .find(|(k, _)| *k == "redirect_uri")
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

fn query_of(location: &str) -> HashMap<String, String> {
    let url = url::Url::parse(location).expect("Location is a URL");
    url.query_pairs()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Fake {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.cloud.base_url())
    }

    async fn get_authorize(&self, path: &str, params: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .query(params)
            .send()
            .await
            .expect("authorize request")
    }

    /// Authorize and return the redirect's query parameters (asserts a 302 to `redirect`).
    async fn authorize_redirect(
        &self,
        path: &str,
        redirect: &str,
        params: &[(&str, &str)],
    ) -> HashMap<String, String> {
        let response = self.get_authorize(path, params).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response
            .headers()
            .get("location")
            .expect("a Location header")
            .to_str()
            .expect("ASCII Location")
            .to_string();
        assert!(location.starts_with(&format!("{redirect}?")), "{location}");
        query_of(&location)
    }

    async fn ms_authorize(&self, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut params = vec![
            ("client_id", MS_CLIENT),
            ("response_type", "code"),
            ("redirect_uri", MS_REDIRECT),
            (
                "scope",
                "openid profile email offline_access Calendars.ReadWrite",
            ),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("state", "st-ms-1"),
            ("nonce", "nonce-ms-1"),
        ];
        for (k, v) in extra {
            params.retain(|(pk, _)| pk != k);
            params.push((k, v));
        }
        let redirect = redirect_of(&params);
        self.authorize_redirect("/common/oauth2/v2.0/authorize", &redirect, &params)
            .await
    }

    async fn google_authorize(&self, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut params = vec![
            ("client_id", G_CLIENT),
            ("response_type", "code"),
            ("redirect_uri", G_REDIRECT),
            (
                "scope",
                "openid email https://www.googleapis.com/auth/calendar.events",
            ),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("access_type", "offline"),
            ("state", "st-g-1"),
            ("nonce", "nonce-g-1"),
        ];
        for (k, v) in extra {
            params.retain(|(pk, _)| pk != k);
            params.push((k, v));
        }
        let redirect = redirect_of(&params);
        self.authorize_redirect("/o/oauth2/v2/auth", &redirect, &params)
            .await
    }

    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("token request");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }

    async fn ms_token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        self.post_form("/common/oauth2/v2.0/token", form).await
    }

    async fn google_token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        self.post_form("/token", form).await
    }

    async fn ms_redeem(&self, code: &str) -> (StatusCode, Value) {
        self.ms_token(&[
            ("grant_type", "authorization_code"),
            ("client_id", MS_CLIENT),
            ("code", code),
            ("redirect_uri", MS_REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .await
    }

    /// A fresh Microsoft sign-in: the token response.
    async fn ms_sign_in(&self) -> Value {
        let code = self.ms_authorize(&[]).await["code"].clone();
        let (status, body) = self.ms_redeem(&code).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn google_redeem(&self, code: &str) -> (StatusCode, Value) {
        self.google_token(&[
            ("grant_type", "authorization_code"),
            ("client_id", G_CLIENT),
            ("client_secret", G_SECRET),
            ("code", code),
            ("redirect_uri", G_REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .await
    }

    async fn google_sign_in(&self) -> Value {
        let code = self.google_authorize(&[]).await["code"].clone();
        let (status, body) = self.google_redeem(&code).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn ms_refresh(&self, refresh_token: &str) -> (StatusCode, Value) {
        self.ms_token(&[
            ("grant_type", "refresh_token"),
            ("client_id", MS_CLIENT),
            ("refresh_token", refresh_token),
            ("scope", "openid offline_access Calendars.ReadWrite"),
        ])
        .await
    }

    async fn google_refresh(&self, refresh_token: &str) -> (StatusCode, Value) {
        self.google_token(&[
            ("grant_type", "refresh_token"),
            ("client_id", G_CLIENT),
            ("client_secret", G_SECRET),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    async fn me(&self, access_token: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(self.url("/v1.0/me"))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("/me request");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(self.url(&format!("/_control/{path}")))
            .json(&body)
            .send()
            .await
            .expect("control request");
        assert_eq!(response.status(), StatusCode::OK, "control {path}");
        response.json().await.expect("a JSON body")
    }

    async fn stats(&self) -> Value {
        self.http
            .get(self.url("/_control/stats"))
            .send()
            .await
            .expect("stats request")
            .json()
            .await
            .expect("stats JSON")
    }
}

fn text(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {value}"))
        .to_string()
}

fn assert_ms_error(
    status: StatusCode,
    body: &Value,
    want_status: StatusCode,
    error: &str,
    code: u64,
) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    assert!(
        text(body, "error_description").starts_with(&format!("AADSTS{code}: ")),
        "{body}"
    );
    for key in ["timestamp", "trace_id", "correlation_id"] {
        assert!(body[key].is_string(), "{key} in {body}");
    }
    assert_eq!(text(body, "trace_id").len(), 36);
}

#[tokio::test]
async fn microsoft_code_flow_with_pkce_id_token_and_me() {
    let fake = start().await;
    let redirect = fake.ms_authorize(&[]).await;
    assert_eq!(redirect["state"], "st-ms-1");
    let body = {
        let (status, body) = fake.ms_redeem(&redirect["code"]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    };
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert!(text(&body, "scope").contains("Calendars.ReadWrite"));
    assert!(body["refresh_token"].is_string());
    let access = text(&body, "access_token");

    let claims = id_token::decode(&text(&body, "id_token")).expect("a valid ID token");
    let base = fake.cloud.base_url();
    assert_eq!(
        claims["iss"],
        format!(
            "{base}/{}/v2.0",
            almanac_fakecloud::state::MICROSOFT_TENANT_ID
        )
    );
    assert_eq!(claims["aud"], MS_CLIENT);
    assert_eq!(claims["nonce"], "nonce-ms-1");
    assert_eq!(claims["email"], "adele@contoso.example");
    assert_eq!(claims["preferred_username"], "adele@contoso.example");
    assert_eq!(claims["name"], "Adele Vance");
    assert_eq!(claims["tid"], almanac_fakecloud::state::MICROSOFT_TENANT_ID);
    assert!(claims["sub"].is_string());
    let (iat, exp) = (
        claims["iat"].as_u64().expect("iat"),
        claims["exp"].as_u64().expect("exp"),
    );
    assert!(exp > iat);

    let (status, me) = fake.me(&access).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["id"], claims["oid"]);
    assert_eq!(me["displayName"], "Adele Vance");
    assert_eq!(me["mail"], "adele@contoso.example");
    assert_eq!(me["userPrincipalName"], "adele@contoso.example");

    let stats = fake.stats().await;
    assert_eq!(stats["authorize"], 1);
    assert_eq!(stats["token"]["authorization_code"], 1);
    assert_eq!(stats["token"]["refresh_token"], 0);
    assert_eq!(stats["microsoft"]["me"], 1);
    fake.cloud.stop().await;
}

#[tokio::test]
async fn microsoft_without_offline_access_gets_no_refresh_token() {
    let fake = start().await;
    let code = fake.ms_authorize(&[("scope", "openid User.Read")]).await["code"].clone();
    let (status, body) = fake.ms_redeem(&code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body["id_token"].is_string());
}

#[tokio::test]
async fn google_code_flow_with_secret_post_and_basic() {
    let fake = start().await;
    let redirect = fake.google_authorize(&[]).await;
    assert_eq!(redirect["state"], "st-g-1");
    assert!(redirect["code"].starts_with("4/0"));
    let (status, body) = fake.google_redeem(&redirect["code"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(text(&body, "access_token").starts_with("ya29."));
    assert!(text(&body, "refresh_token").starts_with("1//"));
    let claims = id_token::decode(&text(&body, "id_token")).expect("a valid ID token");
    assert_eq!(claims["iss"], fake.cloud.base_url());
    assert_eq!(claims["aud"], G_CLIENT);
    assert_eq!(claims["email"], "alex.kim@gmail.example");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Alex Kim");
    assert_eq!(claims["nonce"], "nonce-g-1");

    // client_secret_basic, and no refresh token without access_type=offline.
    let code = fake.google_authorize(&[("access_type", "online")]).await["code"].clone();
    let response = fake
        .http
        .post(fake.url("/token"))
        .basic_auth(G_CLIENT, Some(G_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", G_REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("JSON");
    assert!(body.get("refresh_token").is_none(), "{body}");
}

#[tokio::test]
async fn wrong_verifier_is_invalid_grant() {
    let fake = start().await;
    let code = fake.ms_authorize(&[]).await["code"].clone();
    let (status, body) = fake
        .ms_token(&[
            ("grant_type", "authorization_code"),
            ("client_id", MS_CLIENT),
            ("code", &code),
            ("redirect_uri", MS_REDIRECT),
            (
                "code_verifier",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            ),
        ])
        .await;
    assert_ms_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        501481,
    );

    let code = fake.google_authorize(&[]).await["code"].clone();
    let (status, body) = fake
        .google_token(&[
            ("grant_type", "authorization_code"),
            ("client_id", G_CLIENT),
            ("client_secret", G_SECRET),
            ("code", &code),
            ("redirect_uri", G_REDIRECT),
            (
                "code_verifier",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
        ])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn replayed_code_is_invalid_grant_and_revokes_its_tokens() {
    let fake = start().await;
    let code = fake.ms_authorize(&[]).await["code"].clone();
    let (status, first) = fake.ms_redeem(&code).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = fake.ms_redeem(&code).await;
    assert_ms_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        54005,
    );
    let (status, _) = fake.me(&text(&first, "access_token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = fake.ms_refresh(&text(&first, "refresh_token")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");

    // Google shape.
    let code = fake.google_authorize(&[]).await["code"].clone();
    assert_eq!(fake.google_redeem(&code).await.0, StatusCode::OK);
    let (status, body) = fake.google_redeem(&code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body.get("error_codes").is_none());
}

#[tokio::test]
async fn expired_code_is_invalid_grant() {
    let fake = start().await;
    fake.control("config", json!({"code_lifetime_secs": 0}))
        .await;
    let code = fake.ms_authorize(&[]).await["code"].clone();
    let (status, body) = fake.ms_redeem(&code).await;
    assert_ms_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        70008,
    );
}

#[tokio::test]
async fn google_client_secret_is_required() {
    let fake = start().await;
    let code = fake.google_authorize(&[]).await["code"].clone();
    let base = [
        ("grant_type", "authorization_code"),
        ("client_id", G_CLIENT),
        ("code", code.as_str()),
        ("redirect_uri", G_REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, body) = fake.google_token(&base).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_request", "error_description": "client_secret is missing."})
    );
    let mut wrong = base.to_vec();
    wrong.push(("client_secret", "nope"));
    let (status, body) = fake.google_token(&wrong).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    // Failed client authentication did not burn the code.
    assert_eq!(fake.google_redeem(&code).await.0, StatusCode::OK);
}

#[tokio::test]
async fn microsoft_refresh_keeps_old_token_valid() {
    let fake = start().await;
    let first = fake.ms_sign_in().await;
    let rt0 = text(&first, "refresh_token");
    let (status, second) = fake.ms_refresh(&rt0).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let rt1 = text(&second, "refresh_token");
    assert_ne!(rt0, rt1);
    assert_ne!(first["access_token"], second["access_token"]);
    let claims = id_token::decode(&text(&second, "id_token")).expect("ID token");
    assert!(claims.get("nonce").is_none());
    // keep_old: both still work.
    assert_eq!(fake.ms_refresh(&rt0).await.0, StatusCode::OK);
    assert_eq!(fake.ms_refresh(&rt1).await.0, StatusCode::OK);
    assert_eq!(fake.stats().await["token"]["refresh_token"], 3);
}

#[tokio::test]
async fn google_refresh_invalidates_old_and_reuse_kills_the_chain() {
    let fake = start().await;
    let first = fake.google_sign_in().await;
    let rt0 = text(&first, "refresh_token");
    let (status, second) = fake.google_refresh(&rt0).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let rt1 = text(&second, "refresh_token");
    assert_ne!(rt0, rt1);
    let (status, body) = fake.google_refresh(&rt0).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    );
    // The reuse revoked the chain: the newest refresh token is dead too.
    let (status, body) = fake.google_refresh(&rt1).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    let stats = fake.stats().await;
    assert_eq!(stats["refresh_by_token"][rt0.as_str()], 2);
    assert_eq!(stats["refresh_by_token"][rt1.as_str()], 1);
}

#[tokio::test]
async fn rotation_modes_are_configurable() {
    let fake = start().await;
    let config = fake
        .control(
            "config",
            json!({"rotation": {"microsoft": "invalidate_old", "google": "none"}}),
        )
        .await;
    assert_eq!(config["rotation"]["microsoft"], "invalidate_old");
    assert_eq!(config["rotation"]["google"], "none");

    let rt0 = text(&fake.ms_sign_in().await, "refresh_token");
    let (status, body) = fake.ms_refresh(&rt0).await;
    assert_eq!(status, StatusCode::OK);
    let rt1 = text(&body, "refresh_token");
    let (status, body) = fake.ms_refresh(&rt0).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(fake.ms_refresh(&rt1).await.0, StatusCode::BAD_REQUEST);

    let rt = text(&fake.google_sign_in().await, "refresh_token");
    for _ in 0..2 {
        let (status, body) = fake.google_refresh(&rt).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("refresh_token").is_none(), "{body}");
    }
}

#[tokio::test]
async fn microsoft_token_error_faults() {
    let fake = start().await;
    let rt = text(&fake.ms_sign_in().await, "refresh_token");
    let cases: [(&str, Option<u32>, StatusCode, u64); 8] = [
        ("invalid_grant", None, StatusCode::BAD_REQUEST, 700082),
        ("invalid_grant", Some(70008), StatusCode::BAD_REQUEST, 70008),
        ("invalid_grant", Some(50173), StatusCode::BAD_REQUEST, 50173),
        ("interaction_required", None, StatusCode::BAD_REQUEST, 50076),
        ("consent_required", None, StatusCode::BAD_REQUEST, 65001),
        ("invalid_client", None, StatusCode::UNAUTHORIZED, 7000215),
        (
            "temporarily_unavailable",
            None,
            StatusCode::SERVICE_UNAVAILABLE,
            90033,
        ),
        (
            "server_error",
            None,
            StatusCode::INTERNAL_SERVER_ERROR,
            50000,
        ),
    ];
    for (error, code, status, want_code) in cases {
        let mut fault = json!({"provider": "microsoft", "error": error, "count": 1});
        if let Some(code) = code {
            fault["code"] = json!(code);
        }
        fake.control("faults", json!({"token_error": fault})).await;
        let (got_status, body) = fake.ms_refresh(&rt).await;
        assert_ms_error(got_status, &body, status, error, want_code);
        // count: 1 — the next call goes through.
        assert_eq!(
            fake.ms_refresh(&rt).await.0,
            StatusCode::OK,
            "after {error}"
        );
    }
    // count: 2, Google unaffected.
    fake.control(
        "faults",
        json!({"token_error": {"provider": "microsoft", "error": "invalid_grant", "count": 2}}),
    )
    .await;
    let g = fake.google_sign_in().await;
    assert!(g["access_token"].is_string());
    assert_eq!(fake.ms_refresh(&rt).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(fake.ms_refresh(&rt).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(fake.ms_refresh(&rt).await.0, StatusCode::OK);
}

#[tokio::test]
async fn google_token_error_fault_shape() {
    let fake = start().await;
    let rt = text(&fake.google_sign_in().await, "refresh_token");
    fake.control(
        "faults",
        json!({"token_error": {"provider": "google", "error": "invalid_grant"}}),
    )
    .await;
    let (status, body) = fake.google_refresh(&rt).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    );
    fake.control(
        "faults",
        json!({"token_error": {"provider": "google", "error": "temporarily_unavailable"}}),
    )
    .await;
    assert_eq!(
        fake.google_refresh(&rt).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(fake.google_refresh(&rt).await.0, StatusCode::OK);
}

#[tokio::test]
async fn authorize_access_denied_fault() {
    let fake = start().await;
    fake.control(
        "faults",
        json!({"authorize_error": {"provider": "microsoft", "error": "access_denied"}}),
    )
    .await;
    let redirect = fake.ms_authorize(&[]).await;
    assert_eq!(redirect["error"], "access_denied");
    assert_eq!(redirect["state"], "st-ms-1");
    assert!(redirect["error_description"].starts_with("AADSTS65004"));
    assert!(!redirect.contains_key("code"));
    // Only once.
    assert!(fake.ms_authorize(&[]).await.contains_key("code"));

    fake.control("faults", json!({"authorize_error": {"provider": "google"}}))
        .await;
    let redirect = fake.google_authorize(&[]).await;
    assert_eq!(redirect["error"], "access_denied");
    assert_eq!(redirect["state"], "st-g-1");
}

#[tokio::test]
async fn drop_connection_fault_loses_the_response_after_processing() {
    let fake = start().await;
    fake.control(
        "config",
        json!({"rotation": {"microsoft": "invalidate_old"}}),
    )
    .await;
    let rt0 = text(&fake.ms_sign_in().await, "refresh_token");
    fake.control(
        "faults",
        json!({"drop_connection": {"provider": "microsoft", "count": 1}}),
    )
    .await;
    let outcome = fake
        .http
        .post(fake.url("/common/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", MS_CLIENT),
            ("refresh_token", rt0.as_str()),
        ])
        .send()
        .await;
    assert!(outcome.is_err(), "the response should be lost: {outcome:?}");
    // It was processed: rt0 was rotated away, so using it again is a reuse.
    let (status, body) = fake.ms_refresh(&rt0).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    // The fault is used up and the server still serves.
    assert!(fake.ms_sign_in().await["access_token"].is_string());
}

#[tokio::test]
async fn google_revoke() {
    let fake = start().await;
    let tokens = fake.google_sign_in().await;
    let rt = text(&tokens, "refresh_token");
    let at = text(&tokens, "access_token");
    let (status, body) = fake.post_form("/revoke", &[("token", &rt)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({}));
    let (status, body) = fake.google_refresh(&rt).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    // The access tokens of that refresh token are revoked too; revoking again fails.
    for token in [&at, &rt, &"garbage".to_string()] {
        let (status, body) = fake.post_form("/revoke", &[("token", token)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"error": "invalid_token", "error_description": "Token expired or revoked"})
        );
    }
    // Revoking an access token works too (and takes its refresh token with it).
    let tokens = fake.google_sign_in().await;
    let (status, _) = fake
        .post_form("/revoke", &[("token", &text(&tokens, "access_token"))])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        fake.google_refresh(&text(&tokens, "refresh_token")).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(fake.stats().await["revoke"], 5);
}

#[tokio::test]
async fn me_with_expired_or_invalid_token_is_401() {
    let fake = start().await;
    let tokens = fake.ms_sign_in().await;
    let at = text(&tokens, "access_token");
    assert_eq!(fake.me(&at).await.0, StatusCode::OK);
    let expired = fake.control("expire_access_tokens", json!({})).await;
    assert_eq!(expired["expired"], 1);
    let (status, body) = fake.me(&at).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    assert!(body["error"]["message"].is_string());
    // A refresh gives a working token again.
    let (status, body) = fake.ms_refresh(&text(&tokens, "refresh_token")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        fake.me(&text(&body, "access_token")).await.0,
        StatusCode::OK
    );

    let (status, body) = fake.me("not-a-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    let response = fake
        .http
        .get(fake.url("/v1.0/me"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    // A Google token is no Graph token.
    let g = fake.google_sign_in().await;
    assert_eq!(
        fake.me(&text(&g, "access_token")).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Lifetime 0: expired at once.
    fake.control("config", json!({"access_token_lifetime_secs": 0}))
        .await;
    let tokens = fake.ms_sign_in().await;
    assert_eq!(tokens["expires_in"], 0);
    assert_eq!(
        fake.me(&text(&tokens, "access_token")).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn revoke_all_kills_every_token_of_the_user() {
    let fake = start().await;
    let a = fake.ms_sign_in().await;
    let b = fake.ms_sign_in().await;
    let result = fake
        .control(
            "revoke_all",
            json!({"provider": "microsoft", "email": "Adele@contoso.example"}),
        )
        .await;
    assert_eq!(result["revoked_grants"], 2);
    for tokens in [&a, &b] {
        assert_eq!(
            fake.me(&text(tokens, "access_token")).await.0,
            StatusCode::UNAUTHORIZED
        );
        let (status, body) = fake.ms_refresh(&text(tokens, "refresh_token")).await;
        assert_ms_error(
            status,
            &body,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50173,
        );
    }
}

#[tokio::test]
async fn invalid_authorize_requests() {
    let fake = start().await;
    let ms = "/common/oauth2/v2.0/authorize";
    let base = |redirect: &'static str| {
        vec![
            ("client_id", MS_CLIENT),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("scope", "openid offline_access"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("state", "s"),
        ]
    };
    // Redirect URIs that fail validation: a 400 page, never a redirect.
    for bad in [
        "http://[::1]:53682/callback/microsoft",
        "http://127.0.0.1:53682/callback/microsoft?x=1",
        "http://127.0.0.1:53682/callback/google",
        "https://127.0.0.1:53682/callback/microsoft",
        "http://evil.example/callback/microsoft",
    ] {
        let response = fake.get_authorize(ms, &base(bad)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(response.headers().get("location").is_none());
        let page = response.text().await.expect("page");
        assert!(page.contains("AADSTS50011"), "{page}");
    }
    // Google accepts [::1] (and localhost).
    fake.google_authorize(&[("redirect_uri", "http://[::1]:4000/callback/google")])
        .await;
    // Unknown client: a page, even with a valid redirect URI.
    let mut unknown = base(MS_REDIRECT);
    unknown[0] = ("client_id", "someone-else");
    let response = fake.get_authorize(ms, &unknown).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
    // Other bad parameters with a good redirect URI: an error redirect with the state.
    for (key, value) in [
        ("code_challenge_method", "plain"),
        ("response_type", "token"),
        ("scope", "offline_access Calendars.Read"),
        ("code_challenge", "short"),
    ] {
        let mut params = base(MS_REDIRECT);
        params.retain(|(k, _)| *k != key);
        params.push((key, value));
        let redirect = fake.authorize_redirect(ms, MS_REDIRECT, &params).await;
        assert_eq!(redirect["error"], "invalid_request", "{key}={value}");
        assert_eq!(redirect["state"], "s");
        assert!(redirect.contains_key("error_description"));
    }
    let mut params = base(MS_REDIRECT);
    params.retain(|(k, _)| *k != "code_challenge");
    let redirect = fake.authorize_redirect(ms, MS_REDIRECT, &params).await;
    assert_eq!(redirect["error"], "invalid_request");
}

#[tokio::test]
async fn single_flight_is_measured_per_chain() {
    let fake = start().await;
    let rt = text(&fake.ms_sign_in().await, "refresh_token");
    fake.control("config", json!({"token_delay_ms": 300})).await;
    // Sequential refreshes: never more than one in flight.
    assert_eq!(fake.ms_refresh(&rt).await.0, StatusCode::OK);
    assert_eq!(fake.ms_refresh(&rt).await.0, StatusCode::OK);
    assert_eq!(fake.stats().await["max_concurrent_refresh"], 1);
    // Two at once on the same chain are seen as such.
    let (a, b) = tokio::join!(fake.ms_refresh(&rt), fake.ms_refresh(&rt));
    assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK));
    assert_eq!(fake.stats().await["max_concurrent_refresh"], 2);
}

#[tokio::test]
async fn control_users_clients_prefix_and_reset() {
    let fake = start().await;
    // login_hint picks a seeded user; `current` switches the default one.
    let code = fake
        .ms_authorize(&[("login_hint", "megan@contoso.example")])
        .await["code"]
        .clone();
    let (_, body) = fake.ms_redeem(&code).await;
    let claims = id_token::decode(&text(&body, "id_token")).expect("ID token");
    assert_eq!(claims["name"], "Megan Bowen");
    let user = fake
        .control(
            "users",
            json!({"provider": "microsoft", "email": "lee@contoso.example", "name": "Lee Gu", "current": true}),
        )
        .await;
    assert_eq!(user["email"], "lee@contoso.example");
    let tokens = fake.ms_sign_in().await;
    let (_, me) = fake.me(&text(&tokens, "access_token")).await;
    assert_eq!(me["displayName"], "Lee Gu");
    assert_eq!(me["id"], user["id"]);

    // Another client with its own path and (confidential) secret.
    fake.control(
        "clients",
        json!({"provider": "google", "client_id": "other.apps.googleusercontent.com",
               "client_secret": "s2", "redirect_path": "/cb"}),
    )
    .await;
    let params = [
        ("client_id", "other.apps.googleusercontent.com"),
        ("response_type", "code"),
        ("redirect_uri", "http://localhost:9/cb"),
        ("scope", "openid"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let redirect = fake
        .authorize_redirect("/o/oauth2/v2/auth", "http://localhost:9/cb", &params)
        .await;
    let (status, body) = fake
        .google_token(&[
            ("grant_type", "authorization_code"),
            ("client_id", "other.apps.googleusercontent.com"),
            ("client_secret", "s2"),
            ("code", &redirect["code"]),
            ("redirect_uri", "http://localhost:9/cb"),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The canary prefix lands on every access and refresh token.
    fake.control("config", json!({"token_prefix": "CANARY-7f3a."}))
        .await;
    for tokens in [fake.ms_sign_in().await, fake.google_sign_in().await] {
        assert!(text(&tokens, "access_token").starts_with("CANARY-7f3a."));
        assert!(text(&tokens, "refresh_token").starts_with("CANARY-7f3a."));
    }

    fake.control("reset", json!({})).await;
    let stats = fake.stats().await;
    assert_eq!(stats["authorize"], 0);
    let tokens = fake.ms_sign_in().await;
    assert!(!text(&tokens, "access_token").starts_with("CANARY"));
    let (_, me) = fake.me(&text(&tokens, "access_token")).await;
    assert_eq!(me["displayName"], "Adele Vance");
}

#[tokio::test]
async fn hostile_inputs_get_errors_not_panics() {
    let fake = start().await;
    let token_url = fake.url("/common/oauth2/v2.0/token");
    // JSON instead of a form.
    let response = fake
        .http
        .post(&token_url)
        .json(&json!({"grant_type": "refresh_token"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"], "invalid_request");
    // Oversized body.
    let response = fake
        .http
        .post(&token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 200 * 1024])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Duplicate parameters, broken escapes, unknown grant types.
    for raw in [
        "grant_type=refresh_token&grant_type=refresh_token",
        "grant_type=%ff%fe&code=%zz",
        "grant_type=password&username=a&password=b",
        "",
    ] {
        let response = fake
            .http
            .post(&token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(raw)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{raw}");
        let body: Value = response.json().await.expect("JSON");
        assert!(body["error"].is_string(), "{raw}");
    }
    // Broken control JSON and invalid values.
    for (path, body) in [
        ("config", "{not json"),
        ("config", r#"{"token_prefix":"has space"}"#),
        (
            "faults",
            r#"{"token_error":{"provider":"aol","error":"x"}}"#,
        ),
        ("users", r#"{"provider":"google","email":"no-at-sign"}"#),
    ] {
        let response = fake
            .http
            .post(fake.url(&format!("/_control/{path}")))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path} {body}");
    }
    // Bad Basic credentials.
    let response = fake
        .http
        .post(fake.url("/token"))
        .header("authorization", "Basic !!!")
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // Still serving.
    assert!(fake.ms_sign_in().await["access_token"].is_string());
}

#[tokio::test]
async fn binary_prints_base_url_and_stops_on_sigterm() {
    use std::io::BufRead;
    /// Kills the child if the test fails before it is stopped.
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Reap(
        std::process::Command::new(env!("CARGO_BIN_EXE_almanac-fakecloud"))
            .args(["--port", "0"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn the binary"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the first line");
    let printed: Value = serde_json::from_str(line.trim()).expect("a JSON line");
    let base_url = text(&printed, "base_url");
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    let stats: Value = reqwest::get(format!("{base_url}/_control/stats"))
        .await
        .expect("stats")
        .json()
        .await
        .expect("JSON");
    assert_eq!(stats["authorize"], 0);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = child.0.wait().expect("wait for the binary");
    assert!(status.success(), "{status:?}");
}
