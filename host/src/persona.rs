//! A simulated person at the keyboard answering a device-code prompt: they open the
//! verification page and sign in with their password, or decline. The runner and `aksflow
//! get-token` both answer this way; only how the form reaches the page differs.
//!
//! The page is HTML meant for people. Its verdict is read as a browser shows it: the form's
//! fields are the page's own names, and a refusal is the text of the element with id `error`,
//! found with a real HTML parser.

use scraper::{Html, Selector};

/// Who signs in, and with what.
#[derive(Debug, Clone)]
pub struct SignIn<'a> {
    pub user: &'a str,
    pub password: &'a str,
    pub decline: bool,
}

impl SignIn<'_> {
    /// The form a person submits on the verification page for `user_code`.
    pub fn form(&self, user_code: &str) -> Vec<u8> {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("otc", user_code);
        if self.decline {
            form.append_pair("action", "decline");
        } else {
            form.append_pair("login", self.user).append_pair("passwd", self.password).append_pair("action", "signin");
        }
        form.finish().into_bytes()
    }

    /// The page's answer to the form: `Ok` when it took it, else what it told the person.
    pub fn outcome(&self, status: u16, page: &[u8]) -> Result<(), String> {
        if status < 400 {
            return Ok(());
        }
        Err(format!("persona {} could not sign in: {}", self.user, refusal(page)))
    }
}

/// The message the page shows in its `#error` element, or a generic one.
pub fn refusal(page: &[u8]) -> String {
    let doc = Html::parse_document(&String::from_utf8_lossy(page));
    let selector = Selector::parse("#error").expect("a valid selector");
    doc.select(&selector)
        .next()
        .map(|e| e.text().collect::<String>().trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "the sign-in page refused".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_in_sends_the_code_user_and_password() {
        let s = SignIn { user: "alice@contoso.onmicrosoft.com", password: "p&ss word", decline: false };
        let form = String::from_utf8(s.form("ABC-123")).unwrap();
        assert_eq!(form, "otc=ABC-123&login=alice%40contoso.onmicrosoft.com&passwd=p%26ss+word&action=signin");
    }

    #[test]
    fn declining_sends_no_credentials() {
        let s = SignIn { user: "bob@contoso.onmicrosoft.com", password: "secret", decline: true };
        let form = String::from_utf8(s.form("XYZ")).unwrap();
        assert_eq!(form, "otc=XYZ&action=decline");
        assert!(!form.contains("secret"));
    }

    #[test]
    fn a_refusal_is_the_error_element_text_with_entities_decoded() {
        let page = br#"<html><body><h1>Enter code</h1><p class="err" id="error">Your account or password &amp; &lt;code&gt; is &#39;incorrect&#39;.</p><form></form></body></html>"#;
        assert_eq!(refusal(page), "Your account or password & <code> is 'incorrect'.");
        let s = SignIn { user: "alice@contoso.onmicrosoft.com", password: "x", decline: false };
        assert_eq!(s.outcome(400, page).unwrap_err(), "persona alice@contoso.onmicrosoft.com could not sign in: Your account or password & <code> is 'incorrect'.");
    }

    #[test]
    fn a_page_without_an_error_element_gets_a_generic_refusal() {
        assert_eq!(refusal(b"<html><body>Bad gateway</body></html>"), "the sign-in page refused");
        assert_eq!(refusal(b"\xff\xfe not html"), "the sign-in page refused");
    }

    #[test]
    fn success_statuses_are_accepted_whatever_the_page_says() {
        let s = SignIn { user: "a", password: "b", decline: false };
        assert!(s.outcome(200, b"<p id=\"error\">ignored</p>").is_ok());
        assert!(s.outcome(302, b"").is_ok());
    }
}
