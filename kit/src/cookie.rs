//! The session cookie: natter's `natter=…` pair among a response's
//! `Set-Cookie` headers.

/// The session cookie's name.
pub const NAME: &str = "natter";

/// The `natter=…` pair among `Set-Cookie` values, attributes stripped.
pub fn session_pair<'a>(set_cookies: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    set_cookies.into_iter().find_map(|value| {
        let pair = value.split(';').next()?.trim();
        let (name, _) = pair.split_once('=')?;
        (name == NAME).then_some(pair)
    })
}

/// The session id the response sets, if it sets one (`natter=` stripped).
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    let values = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok());
    let pair = session_pair(values)?;
    Some(pair[NAME.len() + 1..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_pair_is_found_among_other_cookies() {
        let values = [
            "other=1; Path=/",
            "natter=abc.def; Path=/; HttpOnly; SameSite=Lax",
        ];
        assert_eq!(session_pair(values), Some("natter=abc.def"));
        assert_eq!(session_pair(["natterly=1"]), None);
    }
}
