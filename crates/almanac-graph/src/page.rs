//! A Graph collection page (`value` and its paging links) whose events are read as the
//! text of their properties ([`RawObject`]).

use almanac_provider::raw::RawObject;
use serde::Deserialize;

/// One page of a collection (`value`, paging links).
#[derive(Debug, Deserialize)]
pub struct RawPage<'a> {
    #[serde(borrow)]
    pub value: Vec<RawObject<'a>>,
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink")]
    pub delta_link: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_keeps_its_links_and_refuses_items_that_are_not_objects() {
        let page: RawPage = serde_json::from_str(
            r#"{"@odata.context":"x","value":[{"id":"a"},{"id":"b"}],"@odata.deltaLink":"https://g/d"}"#,
        )
        .expect("a page");
        assert_eq!(page.value.len(), 2);
        assert_eq!(page.delta_link.as_deref(), Some("https://g/d"));
        assert_eq!(page.next_link, None);
        assert!(serde_json::from_str::<RawPage>(r#"{"value":[{"id":"a"},"b"]}"#).is_err());
        assert!(serde_json::from_str::<RawPage>(r#"{"value":{"id":"a"}}"#).is_err());
        assert!(serde_json::from_str::<RawPage>(r#"{"@odata.deltaLink":"d"}"#).is_err());
    }
}
