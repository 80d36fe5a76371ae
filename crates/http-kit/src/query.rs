//! Typed query strings: `?page=2` parses into a struct; unknown parameters and wrong types are
//! 400s naming the parameter.

use crate::body::describe;
use crate::error::RequestError;
use serde::de::DeserializeOwned;

/// Parses the raw query string (without `?`) into `T`, which should use
/// `#[serde(deny_unknown_fields)]` and `Option` for optional parameters.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, RequestError> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let mut error = describe(&path, &err.into_inner().to_string());
        if error.message.ends_with(": invalid digit found in string")
            || error
                .message
                .ends_with(": cannot parse integer from empty string")
        {
            error.message = format!("{} must be an integer", error.field);
        } else if error.message.ends_with(": invalid float literal") {
            error.message = format!("{} must be a number", error.field);
        }
        RequestError::InvalidQuery {
            message: error.message.clone(),
            errors: vec![error],
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Page {
        page: Option<u32>,
        min_price: Option<f64>,
        name: Option<String>,
    }

    fn message(query: &str) -> String {
        match parse_query::<Page>(query) {
            Err(RequestError::InvalidQuery { message, .. }) => message,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn typed_parameters_parse() {
        let page: Page = parse_query("page=2&minPrice=9.5&name=mug%20x").unwrap();
        assert_eq!(
            page,
            Page {
                page: Some(2),
                min_price: Some(9.5),
                name: Some("mug x".into())
            }
        );
        assert_eq!(
            parse_query::<Page>("").unwrap(),
            Page {
                page: None,
                min_price: None,
                name: None
            }
        );
    }

    #[test]
    fn unknown_parameters_are_rejected_by_name() {
        assert_eq!(
            message("page=1&colour=red"),
            "property colour should not exist"
        );
    }

    #[test]
    fn wrong_types_are_rejected_by_name() {
        assert_eq!(message("page=two"), "page must be an integer");
        assert_eq!(message("minPrice=cheap"), "minPrice must be a number");
    }
}
