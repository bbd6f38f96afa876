//! Vietnamese text comes back byte-identical, in NFC.

use serde_json::json;

use crate::helpers::TestApp;

async fn the_article_text_is_the_page_byte_for_byte(app: &TestApp) {
    let page = bantin::domain::sample::PAGE;
    let data = app
        .data(
            "{ articles(first: 1) { nodes { title summary body media { caption } } } }",
            json!({}),
        )
        .await;
    let article = &data["articles"]["nodes"][0];
    let lines: Vec<&str> = page.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(
        article["title"].as_str().unwrap().as_bytes(),
        lines[2].as_bytes()
    );
    assert_eq!(
        article["summary"].as_str().unwrap().as_bytes(),
        lines[3].as_bytes()
    );
    let body = article["body"].as_str().unwrap();
    for paragraph in body.split("\n\n") {
        assert!(page.contains(paragraph), "not on the page: {paragraph}");
    }
    // Every stored string is NFC, as the page is.
    for text in [
        article["title"].as_str().unwrap(),
        article["summary"].as_str().unwrap(),
        body,
    ] {
        assert_eq!(bantin::text::nfc(text), text);
    }
    // The page keeps its own spelling ("tuyền thông", "thủ địch"): faithful, not corrected.
    assert!(body.contains("phương tiện tuyền thông mới"));
    assert!(body.contains("thủ địch"));
    assert_eq!(article["media"][0]["caption"], "Ông Võ Văn Thưởng");
}

async fn names_keep_their_diacritics(app: &TestApp) {
    let data = app
        .data(
            r#"{ person(slug: "don-tuan-phong") { name givenName } }"#,
            json!({}),
        )
        .await;
    let name = data["person"]["name"].as_str().unwrap();
    assert_eq!(name.as_bytes(), "Đôn Tuấn Phong".as_bytes());
    assert_eq!(name.chars().count(), 14, "NFC: one code point a letter");
}

crate::on_both!(
    the_article_text_is_the_page_byte_for_byte,
    names_keep_their_diacritics
);
