//! Every root field and relation on the sample content, with exact values.

use serde_json::json;

use crate::helpers::TestApp;

const TITLE: &str = "Hội nghị sơ kết 5 năm thực hiện Kết luận Bộ Chính trị và Chỉ thị của Ban Bí thư về công tác thông tin đối ngoại";
const EVENT: &str = "Hội nghị sơ kết 5 năm thực hiện Kết luận số 16-KL/TƯ của Bộ Chính trị khóa XI và Chỉ thị số 26-CT/TƯ của Ban Bí thư khóa X về công tác thông tin đối ngoại";

fn names(list: &serde_json::Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn the_article_is_the_seed_page(app: &TestApp) {
    let slug = bantin::text::slugify(TITLE);
    let data = app
        .data(
            r#"query($slug: String!) { article(slug: $slug) {
                title slug language status publishedAt version
                summary paragraphs
                source { name url organization { name } }
                people { name } organizations { name } documents { code }
                events { name } tags { name slug }
                media { caption afterParagraph url depicts { name } }
                translations { title }
            } }"#,
            json!({ "slug": slug }),
        )
        .await;
    let article = &data["article"];
    assert_eq!(article["title"], TITLE);
    assert_eq!(
        article["slug"],
        "hoi-nghi-so-ket-5-nam-thuc-hien-ket-luan-bo-chinh-tri-va-chi-thi-cua-ban-bi-thu-ve-cong-tac-thong-tin-doi-ngoai"
    );
    assert_eq!(article["language"], "vi");
    assert_eq!(article["status"], "PUBLISHED");
    assert_eq!(article["publishedAt"], "2024-05-21T07:57:00Z");
    assert_eq!(article["version"], 1);
    assert!(
        article["summary"]
            .as_str()
            .unwrap()
            .starts_with("Ngày 2/8, Ban Tuyên giáo Trung ương và Ban chỉ đạo")
    );
    let paragraphs = article["paragraphs"].as_array().unwrap();
    assert_eq!(paragraphs.len(), 9);
    assert!(
        paragraphs[0]
            .as_str()
            .unwrap()
            .starts_with("Ủy viên Bộ Chính trị, Bí thư Trung ương Đảng")
    );
    assert!(
        paragraphs[8]
            .as_str()
            .unwrap()
            .starts_with("Tại hội nghị, Ban Tuyên giáo Trung ương đã tặng Bằng khen")
    );
    assert_eq!(
        article["source"],
        json!({ "name": "Liên hiệp các tổ chức hữu nghị Việt Nam", "url": "http://www.vietpeace.org.vn",
                "organization": { "name": "Liên hiệp các tổ chức hữu nghị Việt Nam" } })
    );
    assert_eq!(
        names(&article["people"], "name"),
        [
            "Võ Văn Thưởng",
            "Phạm Văn Linh",
            "Hà Kim Ngọc",
            "Đôn Tuấn Phong"
        ]
    );
    assert_eq!(
        names(&article["organizations"], "name"),
        [
            "Ban Tuyên giáo Trung ương",
            "Ban chỉ đạo công tác thông tin đối ngoại Trung ương",
            "Bộ Chính trị",
            "Ban Bí thư",
            "Bộ Ngoại giao",
            "Liên hiệp các tổ chức hữu nghị Việt Nam"
        ]
    );
    assert_eq!(
        names(&article["documents"], "code"),
        ["16-KL/TƯ", "26-CT/TƯ"]
    );
    assert_eq!(names(&article["events"], "name"), [EVENT]);
    assert_eq!(
        article["tags"],
        json!([{ "name": "Thông tin đối ngoại", "slug": "thong-tin-doi-ngoai" }])
    );
    assert_eq!(
        article["media"],
        json!([
            { "caption": "Ông Võ Văn Thưởng", "afterParagraph": 2, "url": "urn:bantin:sample:photo-1",
              "depicts": [{ "name": "Võ Văn Thưởng" }] },
            { "caption": "Phó Chủ tịch Đôn Tuấn Phong phát biểu tại Hội nghị", "afterParagraph": 6,
              "url": "urn:bantin:sample:photo-2", "depicts": [{ "name": "Đôn Tuấn Phong" }] }
        ])
    );
    assert_eq!(article["translations"], json!([]));
}

async fn the_event_has_its_organizers_chairs_and_award(app: &TestApp) {
    let slug = bantin::text::slugify(EVENT);
    let data = app
        .data(
            r#"query($slug: String!) { event(slug: $slug) {
                name startsOn datePrecision yearInferred dateNote attendance attendanceNote
                organizers { name }
                participants { role person { name } }
                documents { code kind term issuer { name } }
                awards { name period collectiveCount individualCount awardedBy { name } event { name } }
                statements { kind person { name } }
                articles { totalCount nodes { title } }
            } }"#,
            json!({ "slug": slug }),
        )
        .await;
    let event = &data["event"];
    assert_eq!(event["name"], EVENT);
    assert_eq!(event["startsOn"], "2017-08-02");
    assert_eq!(event["datePrecision"], "DAY");
    assert_eq!(event["yearInferred"], true);
    assert!(event["dateNote"].as_str().unwrap().contains("“Ngày 2/8”"));
    assert_eq!(event["attendance"], 500);
    assert!(
        event["attendanceNote"]
            .as_str()
            .unwrap()
            .contains("63 tỉnh, thành phố")
    );
    assert_eq!(
        names(&event["organizers"], "name"),
        [
            "Ban Tuyên giáo Trung ương",
            "Ban chỉ đạo công tác thông tin đối ngoại Trung ương"
        ]
    );
    let chairs: Vec<_> = event["participants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["role"] == "CHAIR")
        .map(|p| p["person"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(chairs, ["Võ Văn Thưởng", "Phạm Văn Linh", "Hà Kim Ngọc"]);
    assert_eq!(
        event["participants"][3],
        json!({ "role": "SPEAKER", "person": { "name": "Đôn Tuấn Phong" } })
    );
    assert_eq!(
        event["documents"],
        json!([
            { "code": "16-KL/TƯ", "kind": "conclusion", "term": "khóa XI", "issuer": { "name": "Bộ Chính trị" } },
            { "code": "26-CT/TƯ", "kind": "directive", "term": "khóa X", "issuer": { "name": "Ban Bí thư" } }
        ])
    );
    assert_eq!(
        event["awards"],
        json!([{ "name": "Bằng khen", "period": "2011 – 2020", "collectiveCount": 8, "individualCount": 6,
                 "awardedBy": { "name": "Ban Tuyên giáo Trung ương" }, "event": { "name": EVENT } }])
    );
    assert_eq!(event["statements"].as_array().unwrap().len(), 4);
    assert_eq!(
        event["statements"][3],
        json!({ "kind": "conclusion", "person": { "name": "Võ Văn Thưởng" } })
    );
    assert_eq!(
        event["articles"],
        json!({ "totalCount": 1, "nodes": [{ "title": TITLE }] })
    );
}

async fn positions_are_the_titles_held_on_the_day(app: &TestApp) {
    let query = r#"query($at: Date) { person(slug: "vo-van-thuong") {
        name familyName middleName givenName
        positions(at: $at) { title startsOn endsOn startPrecision endPrecision organization { name } }
    } }"#;
    let data = app.data(query, json!({ "at": "2017-08-02" })).await;
    let person = &data["person"];
    assert_eq!(person["name"], "Võ Văn Thưởng");
    assert_eq!(
        (
            person["familyName"].as_str(),
            person["middleName"].as_str(),
            person["givenName"].as_str()
        ),
        (Some("Võ"), Some("Văn"), Some("Thưởng"))
    );
    assert_eq!(
        names(&person["positions"], "title"),
        [
            "Ủy viên Bộ Chính trị",
            "Bí thư Trung ương Đảng",
            "Trưởng Ban Tuyên giáo Trung ương",
            "Trưởng Ban chỉ đạo công tác thông tin đối ngoại Trung ương"
        ]
    );
    assert_eq!(
        person["positions"][2],
        json!({ "title": "Trưởng Ban Tuyên giáo Trung ương", "startsOn": "2016-01-01", "endsOn": "2021-01-01",
                "startPrecision": "YEAR", "endPrecision": "YEAR", "organization": { "name": "Ban Tuyên giáo Trung ương" } })
    );
    let later = app.data(query, json!({ "at": "2023-06-01" })).await;
    assert_eq!(
        names(&later["person"]["positions"], "title"),
        [
            "Ủy viên Bộ Chính trị",
            "Bí thư Trung ương Đảng",
            "Thường trực Ban Bí thư",
            "Chủ tịch nước"
        ]
    );
    let resigned = app.data(query, json!({ "at": "2025-01-01" })).await;
    assert_eq!(resigned["person"]["positions"], json!([]));
    let all = app.data(query, json!({ "at": null })).await;
    assert_eq!(all["person"]["positions"].as_array().unwrap().len(), 6);
    // Titles with unknown bounds are held on the event's day and keep their bounds unknown.
    let phong = app
        .data(r#"{ person(slug: "don-tuan-phong") { positions(at: "2017-08-02") { title startsOn endsOn note organization { shortName } } } }"#, json!({}))
        .await;
    let position = &phong["person"]["positions"][0];
    assert_eq!(position["title"], "Phó Chủ tịch kiêm Tổng Thư ký phụ trách");
    assert_eq!(
        (position["startsOn"].is_null(), position["endsOn"].is_null()),
        (true, true)
    );
    assert_eq!(position["organization"]["shortName"], "Liên hiệp Hữu nghị");
}

async fn a_person_leads_to_their_articles_and_events(app: &TestApp) {
    let data = app
        .data(
            r#"{ person(slug: "pham-van-linh") {
                articles(first: 5) { totalCount nodes { publishedAt } }
                events { startsOn }
                statements { kind }
            } }"#,
            json!({}),
        )
        .await;
    let person = &data["person"];
    assert_eq!(
        person["articles"],
        json!({ "totalCount": 1, "nodes": [{ "publishedAt": "2024-05-21T07:57:00Z" }] })
    );
    assert_eq!(person["events"], json!([{ "startsOn": "2017-08-02" }]));
    assert_eq!(person["statements"], json!([{ "kind": "speech" }]));
}

async fn organizations_form_a_hierarchy_with_english_names(app: &TestApp) {
    let data = app
        .data(
            r#"{ organization(slug: "ban-chap-hanh-trung-uong-dang") {
                name kind names { language value }
                parent { name foundedOn names { value } }
                children { name }
            }
            propaganda: organization(slug: "ban-tuyen-giao-trung-uong") {
                positions(at: "2017-08-02") { title person { name } }
                articles { totalCount }
                events { startsOn }
            }
            organizations(first: 100) { totalCount }
            khanhHoa: organization(slug: "dang-bo-tinh-khanh-hoa") { foundedOn children { name } }
            }"#,
            json!({}),
        )
        .await;
    let committee = &data["organization"];
    assert_eq!(committee["name"], "Ban Chấp hành Trung ương Đảng");
    assert_eq!(
        committee["names"],
        json!([{ "language": "en", "value": "Party Central Committee" }])
    );
    assert_eq!(
        committee["parent"],
        json!({ "name": "Đảng Cộng sản Việt Nam", "foundedOn": "1930-02-03",
        "names": [{ "value": "Communist Party of Vietnam" }] })
    );
    // Vietnamese order: Ban Bí thư < Ban chỉ đạo < Ban Tuyên giáo < Bộ Chính trị.
    assert_eq!(
        names(&committee["children"], "name"),
        [
            "Ban Bí thư",
            "Ban chỉ đạo công tác thông tin đối ngoại Trung ương",
            "Ban Tuyên giáo Trung ương",
            "Bộ Chính trị"
        ]
    );
    let propaganda = &data["propaganda"];
    assert_eq!(
        propaganda["positions"],
        json!([
            { "title": "Trưởng Ban Tuyên giáo Trung ương", "person": { "name": "Võ Văn Thưởng" } },
            { "title": "Phó Trưởng ban Tuyên giáo Trung ương", "person": { "name": "Phạm Văn Linh" } }
        ])
    );
    assert_eq!(propaganda["articles"]["totalCount"], 1);
    assert_eq!(propaganda["events"], json!([{ "startsOn": "2017-08-02" }]));
    assert_eq!(data["organizations"]["totalCount"], 13);
    assert_eq!(
        data["khanhHoa"],
        json!({ "foundedOn": "1930-02-24",
        "children": [{ "name": "Đảng bộ Khối các cơ quan tỉnh Khánh Hòa" }] })
    );
}

async fn documents_are_found_by_code_however_written(app: &TestApp) {
    for code in ["16-KL/TƯ", "16-KL/TW", "16 KL TW", "16-kl/tư"] {
        let data = app
            .data("query($code: String!) { document(code: $code) { code issuer { name } events { startsOn } articles { totalCount } } }", json!({ "code": code }))
            .await;
        assert_eq!(
            data["document"],
            json!({ "code": "16-KL/TƯ", "issuer": { "name": "Bộ Chính trị" }, "events": [{ "startsOn": "2017-08-02" }],
                    "articles": { "totalCount": 1 } }),
            "{code}"
        );
    }
    let data = app
        .data("{ documents { totalCount nodes { code } } }", json!({}))
        .await;
    assert_eq!(
        data["documents"],
        json!({ "totalCount": 2, "nodes": [{ "code": "16-KL/TƯ" }, { "code": "26-CT/TƯ" }] })
    );
}

async fn events_list_newest_first(app: &TestApp) {
    let data = app
        .data(
            "{ events { totalCount nodes { startsOn datePrecision organizers { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["events"],
        json!({ "totalCount": 2, "nodes": [
            { "startsOn": "2023-01-01", "datePrecision": "YEAR", "organizers": [{ "name": "Công đoàn tỉnh Khánh Hòa" }] },
            { "startsOn": "2017-08-02", "datePrecision": "DAY", "organizers": [
                { "name": "Ban Tuyên giáo Trung ương" }, { "name": "Ban chỉ đạo công tác thông tin đối ngoại Trung ương" }] }
        ] })
    );
}

async fn anniversaries_are_computed_from_base_dates(app: &TestApp) {
    let data = app
        .data(r#"{ anniversaries(on: "2024-02-03") { years date commemoration { name baseDate organization { name } } } }"#, json!({}))
        .await;
    let day = data["anniversaries"].as_array().unwrap();
    let dated: Vec<_> = day.iter().filter(|a| !a["date"].is_null()).collect();
    assert_eq!(dated.len(), 1);
    assert_eq!(
        *dated[0],
        json!({ "years": 94, "date": "2024-02-03", "commemoration": { "name": "Ngày thành lập Đảng Cộng sản Việt Nam",
                "baseDate": "1930-02-03", "organization": { "name": "Đảng Cộng sản Việt Nam" } } })
    );
    let january = app
        .data(
            r#"{ anniversaries(on: "2024-01-01", days: 31) { years date } }"#,
            json!({}),
        )
        .await;
    assert!(
        january["anniversaries"]
            .as_array()
            .unwrap()
            .contains(&json!({ "years": 83, "date": "2024-01-28" }))
    );
    let year = app
        .data(r#"{ anniversaries(on: "2023-06-01") { years date commemoration { datePrecision note } } }"#, json!({}))
        .await;
    assert_eq!(year["anniversaries"][0]["years"], 370);
    assert_eq!(
        year["anniversaries"][0]["commemoration"]["datePrecision"],
        "YEAR"
    );
    assert_eq!(
        app.error_code(
            r#"{ anniversaries(on: "2024-01-01", days: 400) { years } }"#,
            json!({})
        )
        .await,
        "BAD_USER_INPUT"
    );
}

async fn nodes_resolve_by_global_id(app: &TestApp) {
    let data = app
        .data(r#"{ person(slug: "ha-kim-ngoc") { id } event: events(first: 1) { nodes { id } } tag(slug: "thong-tin-doi-ngoai") { id } }"#, json!({}))
        .await;
    let person = data["person"]["id"].as_str().unwrap().to_owned();
    let event = data["event"]["nodes"][0]["id"].as_str().unwrap().to_owned();
    let tag = data["tag"]["id"].as_str().unwrap().to_owned();
    let nodes = app
        .data(
            r#"query($ids: [ID!]!, $one: ID!) {
                node(id: $one) { __typename id ... on Person { name } }
                nodes(ids: $ids) { __typename ... on Event { startsOn } ... on Tag { name articles { totalCount } } }
            }"#,
            json!({ "one": person, "ids": [event, tag] }),
        )
        .await;
    assert_eq!(
        nodes["node"],
        json!({ "__typename": "Person", "id": person, "name": "Hà Kim Ngọc" })
    );
    assert_eq!(
        nodes["nodes"],
        json!([{ "__typename": "Event", "startsOn": "2023-01-01" },
               { "__typename": "Tag", "name": "Thông tin đối ngoại", "articles": { "totalCount": 1 } }])
    );
    let by_id = app
        .data(
            "query($id: ID!) { person(id: $id) { name } }",
            json!({ "id": person }),
        )
        .await;
    assert_eq!(by_id["person"]["name"], "Hà Kim Ngọc");
}

async fn unknown_keys_are_null_and_bad_ids_are_errors(app: &TestApp) {
    let data = app
        .data(r#"{ article(slug: "khong-co") { id } person(slug: "khong-co") { id } document(code: "99-KL/TW") { id } }"#, json!({}))
        .await;
    assert_eq!(
        data,
        json!({ "article": null, "person": null, "document": null })
    );
    assert_eq!(
        app.error_code(r#"{ node(id: "not-an-id") { id } }"#, json!({}))
            .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ person(id: "bm9wZQ") { id } }"#, json!({}))
            .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ person { id } }"#, json!({})).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ person(slug: "a", id: "b") { id } }"#, json!({}))
            .await,
        "BAD_USER_INPUT"
    );
    // An ID of another type is a bad input, not a miss.
    let person = app
        .data(r#"{ person(slug: "ha-kim-ngoc") { id } }"#, json!({}))
        .await;
    let id = person["person"]["id"].as_str().unwrap();
    assert_eq!(
        app.error_code(
            "query($id: ID!) { article(id: $id) { id } }",
            json!({ "id": id })
        )
        .await,
        "BAD_USER_INPUT"
    );
}

crate::on_both!(
    the_article_is_the_seed_page,
    the_event_has_its_organizers_chairs_and_award,
    positions_are_the_titles_held_on_the_day,
    a_person_leads_to_their_articles_and_events,
    organizations_form_a_hierarchy_with_english_names,
    documents_are_found_by_code_however_written,
    events_list_newest_first,
    anniversaries_are_computed_from_base_dates,
    nodes_resolve_by_global_id,
    unknown_keys_are_null_and_bad_ids_are_errors,
);
