//! The device sign-in page (`verification_uri`): a person enters the code shown by the
//! device, signs in as a directory user with their password, or declines. It is a plain
//! HTML form, so a browser or a script (`curl -d otc=… -d login=… -d passwd=…`) can use it.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::device_code::{self, DeviceLoginError};
use super::model::Ctx;
use crate::router::Sim;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#1b1b1b}}\
h1{{font-size:1.4rem}}label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.45rem;box-sizing:border-box}}\
.row{{display:flex;gap:.6rem;margin-top:1.2rem}}button{{padding:.5rem 1rem}}.err{{color:#a4262c}}.note{{color:#605e5c;font-size:.85rem}}</style>\
</head><body><p class=\"note\">aksflow simulated Microsoft Entra ID</p>{body}</body></html>"
    )
}

fn form_page(code: &str, error: Option<&str>) -> String {
    let err = error.map(|e| format!("<p class=\"err\" id=\"error\">{}</p>", escape(e))).unwrap_or_default();
    page(
        "Enter code",
        &format!(
            "<h1>Enter code</h1><p>Enter the code displayed on your app or device, then sign in.</p>{err}\
<form method=\"post\" action=\"devicelogin\">\
<label for=\"otc\">Code</label><input id=\"otc\" name=\"otc\" value=\"{}\" autocomplete=\"off\" required>\
<label for=\"login\">Email or phone</label><input id=\"login\" name=\"login\" type=\"email\" autocomplete=\"username\">\
<label for=\"passwd\">Password</label><input id=\"passwd\" name=\"passwd\" type=\"password\" autocomplete=\"current-password\">\
<div class=\"row\"><button id=\"signin\" name=\"action\" value=\"signin\" type=\"submit\">Sign in</button>\
<button id=\"decline\" name=\"action\" value=\"decline\" type=\"submit\" formnovalidate>Cancel sign-in</button></div></form>",
            escape(code)
        ),
    )
}

pub(crate) async fn form(Query(q): Query<HashMap<String, String>>) -> Html<String> {
    Html(form_page(q.get("otc").map(String::as_str).unwrap_or(""), None))
}

/// The page again, with what went wrong, for the code the person entered.
pub(crate) struct Refused {
    code: String,
    error: DeviceLoginError,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let message = match self.error {
            DeviceLoginError::UnknownCode => "That code didn't work. Check the code and try again.".to_string(),
            DeviceLoginError::Expired => "That code has expired. Go back to your device and start again to get a new code.".to_string(),
            DeviceLoginError::WrongPassword => "Your account or password is incorrect.".to_string(),
            DeviceLoginError::NoSuchUser => "This username may be incorrect. Make sure you typed it correctly.".to_string(),
            DeviceLoginError::Login(l) => {
                let (_, _, code, text) = l.parts();
                format!("AADSTS{code}: {text}")
            }
        };
        (StatusCode::BAD_REQUEST, Html(form_page(&self.code, Some(&message)))).into_response()
    }
}

pub(crate) async fn submit(Sim(s): Sim, body: Bytes) -> Result<Html<String>, Refused> {
    let f: HashMap<String, String> = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body).unwrap_or_default().into_iter().collect();
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let code = get("otc");
    let refused = |error| Refused { code: code.to_string(), error };
    let mut w = s.world();
    let w = &mut *w;
    let mut ctx = Ctx { dir: &mut w.directory, login: &mut w.login, ids: &mut w.ids, key: &s.key, now_ms: s.clock.now_ms(), base_url: &s.config.base_url };
    if get("action") == "decline" {
        device_code::decline(&mut ctx, code).map_err(refused)?;
        return Ok(Html(page("Sign-in cancelled", "<h1 id=\"result\">Sign-in cancelled</h1><p>You declined to sign in to the application on your device. You may now close this window.</p>")));
    }
    let approved = device_code::approve(&mut ctx, code, get("login"), get("passwd")).map_err(refused)?;
    Ok(Html(page(
        "Signed in",
        &format!(
            "<h1 id=\"result\">You have signed in</h1><p>You have signed in to the {} application on your device as {}. You may now close this window.</p>",
            escape(&approved.client_display_name),
            escape(&approved.user_principal_name)
        ),
    )))
}
