//! The admin API's lists a page at a time: `limit` (100 by default, at most 500), a cursor, and
//! the next page announced by an RFC 8288 `Link: <…>; rel="next"` header. The body stays the
//! plain JSON array of the whole-list days, so clients that read only it still work.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{ApiError, Result};

/// The rows a list page may hold: `limit` when none is given, and at most.
const DEFAULT_PAGE: i64 = 100;
const LARGEST_PAGE: i64 = 500;

/// A list's page as the query asks for it: `limit` (a positive integer; above 500 reads 500)
/// and the raw `after` or `before` cursor. Other parameters are left to the handler.
pub(super) struct PageQuery {
    pub limit: i64,
    pub after: Option<String>,
    pub before: Option<String>,
}

impl PageQuery {
    pub fn parse(query: Option<&str>) -> Result<Self> {
        let mut page = PageQuery {
            limit: DEFAULT_PAGE,
            after: None,
            before: None,
        };
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match &*name {
                "limit" => match value.trim().parse::<i64>() {
                    Ok(n) if n > 0 => page.limit = n.min(LARGEST_PAGE),
                    _ => return Err(ApiError::BadPageParameter("limit")),
                },
                "after" => page.after = Some(value.trim().to_owned()),
                "before" => page.before = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        Ok(page)
    }

    /// Cuts `rows` (read with one row more than the limit) to the page; with an RFC 8288
    /// `Link` to the next page, whose cursor is `cursor` of the page's last row, when the extra
    /// row shows there is one.
    pub fn answer<T, V: Serialize>(
        &self,
        rows: Vec<T>,
        path: &str,
        cursor: (&str, impl Fn(&T) -> String),
        json: impl Fn(&T) -> V,
    ) -> Response {
        self.answer_filtered(rows, path, &[], cursor, json)
    }

    /// [`PageQuery::answer`] for a filtered list: the `Link` to the next page keeps `filters`.
    pub fn answer_filtered<T, V: Serialize>(
        &self,
        mut rows: Vec<T>,
        path: &str,
        filters: &[(&str, &str)],
        cursor: (&str, impl Fn(&T) -> String),
        json: impl Fn(&T) -> V,
    ) -> Response {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(usize::try_from(self.limit).unwrap_or(0));
        let body = Json(rows.iter().map(json).collect::<Vec<_>>());
        match rows.last() {
            Some(last) if more => {
                let query = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(filters)
                    .append_pair("limit", &self.limit.to_string())
                    .append_pair(cursor.0, &cursor.1(last))
                    .finish();
                let link = format!("<{path}?{query}>; rel=\"next\"");
                ([(axum::http::header::LINK, link)], body).into_response()
            }
            _ => body.into_response(),
        }
    }
}
