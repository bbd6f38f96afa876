//! The sample content: the seed page (`sample/page.txt`, a Vietnamese news article
//! republished by the Khánh Hòa provincial agencies' party committee) as structured
//! content. The article's text is read from the page itself, so it ships byte for
//! byte; what the page only implies (the event's year, the dates of titles known
//! from public record) is stored with its precision and a note saying so.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, Set,
    TransactionTrait,
};

use entity::*;

use crate::error::{AppError, AppResult};
use crate::text;

/// The page, exactly as published.
pub const PAGE: &str = include_str!("sample/page.txt");

/// The captions of the page's two photos, which sit between body paragraphs.
const CAPTIONS: [&str; 2] = [
    "Ông Võ Văn Thưởng",
    "Phó Chủ tịch Đôn Tuấn Phong phát biểu tại Hội nghị",
];

/// The article as the page prints it.
#[derive(Debug, PartialEq, Eq)]
pub struct PageArticle<'a> {
    pub dateline: &'a str,
    pub title: &'a str,
    pub lead: &'a str,
    pub paragraphs: Vec<&'a str>,
    /// For each caption, how many body paragraphs come before it.
    pub caption_positions: Vec<(&'a str, usize)>,
    pub source_url: &'a str,
}

/// Reads the page: banner, dateline, title, lead, body with captions, source line.
pub fn read_page(page: &str) -> AppResult<PageArticle<'_>> {
    let blocks: Vec<&str> = page
        .split('\n')
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    let malformed = || AppError::Internal("the sample page is not in the expected shape".into());
    let [_banner, dateline, title, lead, rest @ ..] = blocks.as_slice() else {
        return Err(malformed());
    };
    let (source, body) = rest.split_last().ok_or_else(malformed)?;
    let source_url = source
        .strip_prefix("Nguồn:")
        .map(|url| url.trim_matches(|c: char| c.is_whitespace()))
        .ok_or_else(malformed)?;
    let mut paragraphs = Vec::new();
    let mut caption_positions = Vec::new();
    for block in body {
        if CAPTIONS.contains(block) {
            caption_positions.push((*block, paragraphs.len()));
        } else {
            paragraphs.push(*block);
        }
    }
    Ok(PageArticle {
        dateline,
        title,
        lead,
        paragraphs,
        caption_positions,
        source_url,
    })
}

/// Loads the sample content when the database holds no content yet. Returns whether
/// it loaded anything. Everything goes in one transaction.
pub async fn load_if_empty(db: &DatabaseConnection) -> AppResult<bool> {
    let existing = article::Entity::find().count(db).await?
        + person::Entity::find().count(db).await?
        + organization::Entity::find().count(db).await?;
    if existing > 0 {
        return Ok(false);
    }
    let txn = db.begin().await?;
    load(&txn).await?;
    crate::search::enqueue_all(&txn, chrono::Utc::now()).await?;
    txn.commit().await?;
    Ok(true)
}

/// The instant of a dateline such as "Thứ Ba, 21/05/2024 14:57", local time of
/// Vietnam (UTC+07:00, no daylight saving).
pub fn dateline_instant(dateline: &str) -> AppResult<DateTime<Utc>> {
    let local = dateline.rsplit(", ").next().unwrap_or(dateline);
    let naive = chrono::NaiveDateTime::parse_from_str(local, "%d/%m/%Y %H:%M")
        .map_err(|e| AppError::Internal(format!("bad dateline {dateline:?}: {e}")))?;
    let vietnam = chrono::FixedOffset::east_opt(7 * 3600)
        .ok_or_else(|| AppError::Internal("bad offset".into()))?;
    naive
        .and_local_timezone(vietnam)
        .single()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| AppError::Internal(format!("bad dateline {dateline:?}")))
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn english(name: &str) -> Option<String> {
    Some(serde_json::json!({ "en": name }).to_string())
}

const UNKNOWN_BOUNDS: &str =
    "Chức danh theo bài viết, tại hội nghị ngày 2/8/2017; không rõ thời điểm bắt đầu và kết thúc.";
const KNOWN_TO_THE_YEAR: &str = "Theo hồ sơ công khai, không có trên trang; chỉ biết đến năm.";

struct Org<'a> {
    name: &'a str,
    english: &'a str,
    short_name: Option<&'a str>,
    kind: &'a str,
    founded_on: Option<NaiveDate>,
    parent: Option<i64>,
    website: Option<&'a str>,
    description: Option<&'a str>,
}

async fn organization(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    org: Org<'_>,
) -> AppResult<i64> {
    let row = organization::ActiveModel {
        slug: Set(text::slugify(org.name)),
        name: Set(org.name.to_owned()),
        sort_key: Set(text::sort_key(&[org.name])),
        short_name: Set(org.short_name.map(str::to_owned)),
        kind: Set(Some(org.kind.to_owned())),
        founded_on: Set(org.founded_on),
        parent_id: Set(org.parent),
        website: Set(org.website.map(str::to_owned)),
        description: Set(org.description.map(str::to_owned)),
        names: Set(english(org.english)),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

async fn person(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    family: &str,
    middle: &str,
    given: &str,
) -> AppResult<i64> {
    let full_name = format!("{family} {middle} {given}");
    let row = person::ActiveModel {
        slug: Set(text::slugify(&full_name)),
        sort_key: Set(text::sort_key(&[given, family, middle])),
        full_name: Set(full_name),
        family_name: Set(Some(family.to_owned())),
        middle_name: Set(Some(middle.to_owned())),
        given_name: Set(Some(given.to_owned())),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

/// A title held: `years` are the bounds known to the year, if any.
struct Title<'a> {
    person_id: i64,
    organization_id: i64,
    title: &'a str,
    english: &'a str,
    years: Option<(i32, i32)>,
    note: &'a str,
}

async fn position(db: &impl ConnectionTrait, at: DateTime<Utc>, held: Title<'_>) -> AppResult<()> {
    let Title {
        person_id,
        organization_id,
        title,
        english: title_en,
        years,
        note,
    } = held;
    let precision = years.map(|_| "year".to_owned());
    position::ActiveModel {
        person_id: Set(person_id),
        organization_id: Set(organization_id),
        title: Set(title.to_owned()),
        titles: Set(english(title_en)),
        starts_on: Set(years.map(|(from, _)| day(from, 1, 1))),
        start_precision: Set(precision.clone()),
        ends_on: Set(years.map(|(_, to)| day(to, 1, 1))),
        end_precision: Set(precision),
        note: Set(Some(note.to_owned())),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

async fn load(db: &impl ConnectionTrait) -> AppResult<()> {
    let page = read_page(PAGE)?;
    let at = dateline_instant(page.dateline)?;

    // Organizations, parents first.
    let party = organization(
        db,
        at,
        Org {
            name: "Đảng Cộng sản Việt Nam",
            english: "Communist Party of Vietnam",
            short_name: None,
            kind: "party",
            founded_on: Some(day(1930, 2, 3)),
            parent: None,
            website: None,
            description: None,
        },
    )
    .await?;
    let central_committee = organization(
        db,
        at,
        Org {
            name: "Ban Chấp hành Trung ương Đảng",
            english: "Party Central Committee",
            short_name: None,
            kind: "party_body",
            founded_on: None,
            parent: Some(party),
            website: None,
            description: None,
        },
    )
    .await?;
    let central_body = |name, english| Org {
        name,
        english,
        short_name: None,
        kind: "party_body",
        founded_on: None,
        parent: Some(central_committee),
        website: None,
        description: None,
    };
    let politburo = organization(db, at, central_body("Bộ Chính trị", "Politburo")).await?;
    let secretariat = organization(db, at, central_body("Ban Bí thư", "Secretariat")).await?;
    let propaganda = organization(
        db,
        at,
        central_body(
            "Ban Tuyên giáo Trung ương",
            "Central Propaganda and Education Commission",
        ),
    )
    .await?;
    let steering = organization(
        db,
        at,
        central_body(
            "Ban chỉ đạo công tác thông tin đối ngoại Trung ương",
            "Central Steering Committee for External Information",
        ),
    )
    .await?;
    let foreign_ministry = organization(
        db,
        at,
        Org {
            name: "Bộ Ngoại giao",
            english: "Ministry of Foreign Affairs",
            short_name: None,
            kind: "ministry",
            founded_on: None,
            parent: None,
            website: None,
            description: None,
        },
    )
    .await?;
    let friendship_union = organization(
        db,
        at,
        Org {
            name: "Liên hiệp các tổ chức hữu nghị Việt Nam",
            english: "Vietnam Union of Friendship Organizations",
            short_name: Some("Liên hiệp Hữu nghị"),
            kind: "mass_organization",
            founded_on: None,
            parent: None,
            website: Some("http://www.vietpeace.org.vn"),
            description: Some("Cơ quan đăng bài gốc (vietpeace.org.vn)."),
        },
    )
    .await?;
    let province_party = organization(
        db,
        at,
        Org {
            name: "Đảng bộ tỉnh Khánh Hòa",
            english: "Khánh Hòa Provincial Party Committee",
            short_name: None,
            kind: "party_body",
            founded_on: Some(day(1930, 2, 24)),
            parent: Some(party),
            website: None,
            description: None,
        },
    )
    .await?;
    organization(
        db,
        at,
        Org {
            name: "Đảng bộ Khối các cơ quan tỉnh Khánh Hòa",
            english: "Party Committee of the Khánh Hòa Provincial Agencies Bloc",
            short_name: None,
            kind: "party_body",
            founded_on: None,
            parent: Some(province_party),
            website: None,
            description: Some("Chủ trang tin đăng lại bài viết."),
        },
    )
    .await?;
    let province = organization(
        db,
        at,
        Org {
            name: "tỉnh Khánh Hòa",
            english: "Khánh Hòa province",
            short_name: None,
            kind: "province",
            founded_on: None,
            parent: None,
            website: None,
            description: None,
        },
    )
    .await?;
    let trade_union = organization(
        db,
        at,
        Org {
            name: "Công đoàn tỉnh Khánh Hòa",
            english: "Khánh Hòa Provincial Trade Union",
            short_name: None,
            kind: "trade_union",
            founded_on: None,
            parent: None,
            website: None,
            description: None,
        },
    )
    .await?;
    let state = organization(
        db,
        at,
        Org {
            name: "Nhà nước Cộng hòa xã hội chủ nghĩa Việt Nam",
            english: "State of the Socialist Republic of Vietnam",
            short_name: None,
            kind: "state",
            founded_on: None,
            parent: None,
            website: None,
            description: Some(
                "Không có trên trang; cần cho chức danh Chủ tịch nước theo hồ sơ công khai.",
            ),
        },
    )
    .await?;

    // People and the titles the page gives them, plus public record known to the year.
    let thuong = person(db, at, "Võ", "Văn", "Thưởng").await?;
    let linh = person(db, at, "Phạm", "Văn", "Linh").await?;
    let ngoc = person(db, at, "Hà", "Kim", "Ngọc").await?;
    let phong = person(db, at, "Đôn", "Tuấn", "Phong").await?;
    for (org, title, english_title, years) in [
        (
            politburo,
            "Ủy viên Bộ Chính trị",
            "Member of the Politburo",
            (2016, 2024),
        ),
        (
            secretariat,
            "Bí thư Trung ương Đảng",
            "Secretary of the Party Central Committee",
            (2016, 2024),
        ),
        (
            propaganda,
            "Trưởng Ban Tuyên giáo Trung ương",
            "Head of the Central Propaganda and Education Commission",
            (2016, 2021),
        ),
        (
            steering,
            "Trưởng Ban chỉ đạo công tác thông tin đối ngoại Trung ương",
            "Head of the Central Steering Committee for External Information",
            (2016, 2021),
        ),
        (
            secretariat,
            "Thường trực Ban Bí thư",
            "Standing Member of the Secretariat",
            (2021, 2023),
        ),
        (
            state,
            "Chủ tịch nước",
            "President of the State",
            (2023, 2024),
        ),
    ] {
        let held = Title {
            person_id: thuong,
            organization_id: org,
            title,
            english: english_title,
            years: Some(years),
            note: KNOWN_TO_THE_YEAR,
        };
        position(db, at, held).await?;
    }
    position(
        db,
        at,
        Title {
            person_id: linh,
            organization_id: propaganda,
            title: "Phó Trưởng ban Tuyên giáo Trung ương",
            english: "Deputy Head of the Central Propaganda and Education Commission",
            years: None,
            note: UNKNOWN_BOUNDS,
        },
    )
    .await?;
    position(
        db,
        at,
        Title {
            person_id: linh,
            organization_id: steering,
            title: "Phó Trưởng ban thường trực Ban Chỉ đạo công tác thông tin đối ngoại",
            english: "Standing Deputy Head of the Steering Committee for External Information",
            years: None,
            note: UNKNOWN_BOUNDS,
        },
    )
    .await?;
    position(
        db,
        at,
        Title {
            person_id: ngoc,
            organization_id: foreign_ministry,
            title: "Thứ trưởng Bộ Ngoại giao",
            english: "Deputy Minister of Foreign Affairs",
            years: None,
            note: UNKNOWN_BOUNDS,
        },
    )
    .await?;
    position(
        db,
        at,
        Title {
            person_id: phong,
            organization_id: friendship_union,
            title: "Phó Chủ tịch kiêm Tổng Thư ký phụ trách",
            english: "Vice President and Secretary General",
            years: None,
            note: UNKNOWN_BOUNDS,
        },
    )
    .await?;

    // The documents.
    let document =
        |code: &str, title: &str, english_title: &str, kind: &str, issuer: i64, term: &str| {
            document::ActiveModel {
                code: Set(code.to_owned()),
                code_key: Set(text::document_code_key(code)),
                title: Set(title.to_owned()),
                titles: Set(english(english_title)),
                kind: Set(Some(kind.to_owned())),
                issuer_id: Set(Some(issuer)),
                term: Set(Some(term.to_owned())),
                version: Set(1),
                created_at: Set(at),
                updated_at: Set(at),
                ..Default::default()
            }
        };
    let conclusion = document(
        "16-KL/TƯ",
        "Kết luận số 16-KL/TƯ về “Chiến lược phát triển thông tin đối ngoại giai đoạn 2011 – 2020”",
        "Conclusion 16-KL/TW on the strategy for developing foreign information, 2011–2020",
        "conclusion",
        politburo,
        "khóa XI",
    )
    .insert(db)
    .await?
    .id;
    let directive = document(
        "26-CT/TƯ",
        "Chỉ thị số 26-CT/TƯ về công tác thông tin đối ngoại",
        "Directive 26-CT/TW on foreign-information work",
        "directive",
        secretariat,
        "khóa X",
    )
    .insert(db)
    .await?
    .id;

    // The event: the page prints "Ngày 2/8" without a year.
    let event_name = "Hội nghị sơ kết 5 năm thực hiện Kết luận số 16-KL/TƯ của Bộ Chính trị khóa XI và Chỉ thị số 26-CT/TƯ của Ban Bí thư khóa X về công tác thông tin đối ngoại";
    let conference = event::ActiveModel {
        slug: Set(text::slugify(event_name)),
        name: Set(event_name.to_owned()),
        names: Set(english("Five-year review of Conclusion 16-KL/TW and Directive 26-CT/TW on foreign-information work")),
        starts_on: Set(day(2017, 8, 2)),
        date_precision: Set("day".to_owned()),
        year_inferred: Set(true),
        date_note: Set(Some(
            "Trang ghi “Ngày 2/8”, không ghi năm; năm 2017 là suy luận (5 năm sau Kết luận năm 2012, khớp nhiệm kỳ của các đại biểu).".to_owned(),
        )),
        attendance: Set(Some(500)),
        attendance_note: Set(Some(
            "đại biểu đại diện cho các bộ ngành, 63 tỉnh, thành phố và các cơ quan thông tấn báo chí".to_owned(),
        )),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id;
    for (ord, organizer) in [propaganda, steering].into_iter().enumerate() {
        event_organizer::ActiveModel {
            event_id: Set(conference),
            organization_id: Set(organizer),
            ord: Set(ord as i32),
        }
        .insert(db)
        .await?;
    }
    for (ord, (participant, role)) in [
        (thuong, "chair"),
        (linh, "chair"),
        (ngoc, "chair"),
        (phong, "speaker"),
    ]
    .into_iter()
    .enumerate()
    {
        event_participant::ActiveModel {
            event_id: Set(conference),
            person_id: Set(participant),
            role: Set(role.to_owned()),
            ord: Set(ord as i32),
        }
        .insert(db)
        .await?;
    }
    for (ord, document_id) in [conclusion, directive].into_iter().enumerate() {
        event_document::ActiveModel {
            event_id: Set(conference),
            document_id: Set(document_id),
            ord: Set(ord as i32),
        }
        .insert(db)
        .await?;
    }
    award::ActiveModel {
        name: Set("Bằng khen".to_owned()),
        names: Set(english("Certificate of merit")),
        event_id: Set(Some(conference)),
        awarded_by_id: Set(Some(propaganda)),
        reason: Set(Some(
            "thành tích xuất sắc trong quá trình triển khai thực hiện công tác thông tin đối ngoại giai đoạn 2011 – 2020".to_owned(),
        )),
        period: Set(Some("2011 – 2020".to_owned())),
        collective_count: Set(Some(8)),
        individual_count: Set(Some(6)),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;

    // The banner's congress of the provincial trade union (term 2023–2028).
    let congress_name = "Đại hội Công đoàn tỉnh Khánh Hòa lần thứ XI, nhiệm kỳ 2023–2028";
    let congress = event::ActiveModel {
        slug: Set(text::slugify(congress_name)),
        name: Set(congress_name.to_owned()),
        starts_on: Set(day(2023, 1, 1)),
        date_precision: Set("year".to_owned()),
        year_inferred: Set(true),
        date_note: Set(Some(
            "Băng rôn không ghi ngày; năm suy ra từ nhiệm kỳ 2023–2028.".to_owned(),
        )),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id;
    event_organizer::ActiveModel {
        event_id: Set(congress),
        organization_id: Set(trade_union),
        ord: Set(0),
    }
    .insert(db)
    .await?;

    // The article, its source and photos.
    let source = source::ActiveModel {
        name: Set("Liên hiệp các tổ chức hữu nghị Việt Nam".to_owned()),
        url: Set(Some(page.source_url.to_owned())),
        organization_id: Set(Some(friendship_union)),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id;
    let article = article::ActiveModel {
        slug: Set(text::slugify(page.title)),
        title: Set(page.title.to_owned()),
        summary: Set(Some(page.lead.to_owned())),
        body: Set(page.paragraphs.join("\n\n")),
        language: Set("vi".to_owned()),
        status: Set("published".to_owned()),
        published_at: Set(at),
        source_id: Set(Some(source)),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id;
    for (ord, person_id) in [thuong, linh, ngoc, phong].into_iter().enumerate() {
        article_person::ActiveModel {
            article_id: Set(article),
            person_id: Set(person_id),
            ord: Set(ord as i32),
        }
        .insert(db)
        .await?;
    }
    for (ord, org) in [
        propaganda,
        steering,
        politburo,
        secretariat,
        foreign_ministry,
        friendship_union,
    ]
    .into_iter()
    .enumerate()
    {
        article_organization::ActiveModel {
            article_id: Set(article),
            organization_id: Set(org),
            ord: Set(ord as i32),
        }
        .insert(db)
        .await?;
    }
    article_event::ActiveModel {
        article_id: Set(article),
        event_id: Set(conference),
        ord: Set(0),
    }
    .insert(db)
    .await?;
    for (ord, document_id) in [conclusion, directive].into_iter().enumerate() {
        article_document::ActiveModel {
            article_id: Set(article),
            document_id: Set(document_id),
            ord: Set(ord as i32),
        }
        .insert(db)
        .await?;
    }
    for (ord, ((caption, after), depicted)) in page
        .caption_positions
        .iter()
        .zip([thuong, phong])
        .enumerate()
    {
        let media = media::ActiveModel {
            // The page text carries the captions but not the image files.
            url: Set(format!("urn:bantin:sample:photo-{}", ord + 1)),
            caption: Set(Some((*caption).to_owned())),
            version: Set(1),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        }
        .insert(db)
        .await?
        .id;
        article_media::ActiveModel {
            article_id: Set(article),
            media_id: Set(media),
            ord: Set(ord as i32),
            after_paragraph: Set(Some(*after as i32)),
        }
        .insert(db)
        .await?;
        media_person::ActiveModel {
            media_id: Set(media),
            person_id: Set(depicted),
            ord: Set(0),
        }
        .insert(db)
        .await?;
    }
    let tag = tag::ActiveModel {
        slug: Set("thong-tin-doi-ngoai".to_owned()),
        name: Set("Thông tin đối ngoại".to_owned()),
        names: Set(english("Foreign information")),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id;
    article_tag::ActiveModel {
        article_id: Set(article),
        tag_id: Set(tag),
        ord: Set(0),
    }
    .insert(db)
    .await?;

    // What was said, as the article reports it.
    let said = |person_id: i64, kind: &str, words: &str| statement::ActiveModel {
        person_id: Set(person_id),
        event_id: Set(Some(conference)),
        article_id: Set(Some(article)),
        kind: Set(Some(kind.to_owned())),
        text: Set(words.to_owned()),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    };
    let paragraph = |start: &str| -> AppResult<String> {
        page.paragraphs
            .iter()
            .find(|p| p.starts_with(start))
            .map(|p| (*p).to_owned())
            .ok_or_else(|| {
                AppError::Internal(format!(
                    "the sample page has no paragraph starting {start:?}"
                ))
            })
    };
    said(linh, "speech", &paragraph("Đánh giá cao")?)
        .insert(db)
        .await?;
    said(phong, "speech", &paragraph("Phát biểu tham luận")?)
        .insert(db)
        .await?;
    said(phong, "speech", &paragraph("Nhằm tăng cường")?)
        .insert(db)
        .await?;
    said(thuong, "conclusion", &paragraph("Kết luận hội thảo")?)
        .insert(db)
        .await?;

    // The banner's anniversaries.
    let banner = [
        (
            "Ngày thành lập Đảng Cộng sản Việt Nam",
            "Founding of the Communist Party of Vietnam",
            day(1930, 2, 3),
            "day",
            Some(party),
            None,
        ),
        (
            "Ngày thành lập Đảng bộ tỉnh Khánh Hòa",
            "Founding of the Khánh Hòa Provincial Party Committee",
            day(1930, 2, 24),
            "day",
            Some(province_party),
            None,
        ),
        (
            "Ngày Bác Hồ về nước, trực tiếp lãnh đạo cách mạng Việt Nam",
            "Hồ Chí Minh's return to Vietnam to lead the revolution",
            day(1941, 1, 28),
            "day",
            None,
            None,
        ),
        (
            "Xây dựng và phát triển tỉnh Khánh Hòa",
            "Founding and development of Khánh Hòa province",
            day(1653, 1, 1),
            "year",
            Some(province),
            Some(
                "Băng rôn ghi “370 năm” mà không ghi năm gốc; năm 1653 theo sử liệu công khai (370 năm vào 2023).",
            ),
        ),
    ];
    for (name, english_name, base, precision, org, note) in banner {
        commemoration::ActiveModel {
            name: Set(name.to_owned()),
            names: Set(english(english_name)),
            base_date: Set(base),
            date_precision: Set(precision.to_owned()),
            note: Set(note.map(str::to_owned)),
            month_day: Set(base.format("%m-%d").to_string()),
            organization_id: Set(org),
            version: Set(1),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_reads_into_its_parts() {
        let page = read_page(PAGE).map_err(|e| e.to_string());
        let page = page.as_ref().map_err(String::clone);
        let Ok(page) = page else { panic!("{page:?}") };
        assert_eq!(page.dateline, "Thứ Ba, 21/05/2024 14:57");
        assert!(page.title.starts_with("Hội nghị sơ kết 5 năm"));
        assert!(page.lead.starts_with("Ngày 2/8, Ban Tuyên giáo Trung ương"));
        assert_eq!(page.paragraphs.len(), 9);
        assert_eq!(
            page.caption_positions,
            vec![(CAPTIONS[0], 2), (CAPTIONS[1], 6)]
        );
        assert_eq!(page.source_url, "http://www.vietpeace.org.vn");
    }

    #[test]
    fn the_publication_instant_is_the_dateline_in_utc() {
        let at = dateline_instant("Thứ Ba, 21/05/2024 14:57").map(|at| at.to_rfc3339());
        assert_eq!(at.ok().as_deref(), Some("2024-05-21T07:57:00+00:00"));
    }
}
