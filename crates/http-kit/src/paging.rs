//! Paged lists, as the storefront reads them: without `page` and `limit` a plain array of
//! everything; with either, one page as `{<items>, meta}`. Products and orders share the shape.

use crate::error::{FieldError, RequestError};
use serde::Serialize;

/// One page of a list: which page, and how many items per page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// From 1.
    pub page: u32,
    /// 1 to [`PageRequest::MAX_LIMIT`].
    pub limit: u32,
}

impl PageRequest {
    /// Items per page when only `page` is given.
    pub const DEFAULT_LIMIT: u32 = 10;
    /// Most items one page may ask for.
    pub const MAX_LIMIT: u32 = 100;

    /// The page the query parameters ask for: `None` without either (the whole list), else
    /// `page` (default 1, at least 1) of `limit` items (default [`Self::DEFAULT_LIMIT`], 1 to
    /// [`Self::MAX_LIMIT`]).
    pub fn from_query(page: Option<u32>, limit: Option<u32>) -> Result<Option<Self>, RequestError> {
        if page.is_none() && limit.is_none() {
            return Ok(None);
        }
        let request = Self {
            page: page.unwrap_or(1),
            limit: limit.unwrap_or(Self::DEFAULT_LIMIT),
        };
        if request.page < 1 {
            return Err(invalid("page", "page must be at least 1"));
        }
        if !(1..=Self::MAX_LIMIT).contains(&request.limit) {
            return Err(invalid("limit", "limit must be between 1 and 100"));
        }
        Ok(Some(request))
    }

    /// How many items come before this page (SQL `OFFSET`).
    pub fn offset(self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.limit)
    }
}

fn invalid(field: &str, message: &str) -> RequestError {
    RequestError::InvalidQuery {
        message: message.to_owned(),
        errors: vec![FieldError::new(field, message)],
    }
}

/// `meta` of a paged list.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PageMeta {
    /// Matches over all pages.
    pub total: i64,
    /// The page shown.
    pub page: u32,
    /// Items per page.
    pub limit: u32,
    /// The last page (1 when there is nothing).
    pub last_page: i64,
    /// Whether a page follows.
    pub has_next_page: bool,
    /// Whether a page comes before.
    pub has_previous_page: bool,
}

impl PageMeta {
    /// The meta of `page` over `total` matches.
    pub fn new(total: i64, page: PageRequest) -> Self {
        let limit = i64::from(page.limit);
        let last_page = if total == 0 {
            1
        } else {
            (total + limit - 1) / limit
        };
        PageMeta {
            total,
            page: page.page,
            limit: page.limit,
            last_page,
            has_next_page: i64::from(page.page) < last_page,
            has_previous_page: page.page > 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_parameters_ask_for_the_whole_list_and_either_for_a_page() {
        assert_eq!(PageRequest::from_query(None, None).unwrap(), None);
        let page = |p, l| PageRequest::from_query(p, l).unwrap().unwrap();
        assert_eq!(page(Some(3), None), PageRequest { page: 3, limit: 10 });
        assert_eq!(page(None, Some(5)), PageRequest { page: 1, limit: 5 });
        assert_eq!(page(Some(3), Some(5)).offset(), 10);
    }

    #[test]
    fn out_of_range_pages_and_limits_are_refused() {
        for (page, limit) in [(Some(0), None), (None, Some(0)), (None, Some(101))] {
            assert!(
                PageRequest::from_query(page, limit).is_err(),
                "{page:?} {limit:?}"
            );
        }
    }

    #[test]
    fn meta_counts_pages_and_an_empty_list_has_one() {
        let meta = PageMeta::new(21, PageRequest { page: 3, limit: 10 });
        assert_eq!(
            (meta.last_page, meta.has_next_page, meta.has_previous_page),
            (3, false, true)
        );
        let empty = PageMeta::new(0, PageRequest { page: 1, limit: 10 });
        assert_eq!((empty.last_page, empty.has_next_page), (1, false));
        let past = PageMeta::new(5, PageRequest { page: 4, limit: 10 });
        assert_eq!(
            (past.last_page, past.has_next_page, past.has_previous_page),
            (1, false, true)
        );
    }
}
