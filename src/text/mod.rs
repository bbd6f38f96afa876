//! Vietnamese text: normalization to NFC, folding for search and slugs, slugs,
//! document-code keys and the collation key that sorts names in Vietnamese order.

use unicode_normalization::{
    IsNormalized, UnicodeNormalization, char::is_combining_mark, is_nfc_quick,
};

/// The text in NFC, the form bantin stores. Text that is already NFC (nearly all
/// of it) is recognised and copied as it is: first by a scan for characters that
/// are NFC in any context (those of composed Vietnamese text), then by the
/// Unicode quick check.
pub fn nfc(text: &str) -> String {
    if is_nfc(text) {
        text.to_owned()
    } else {
        text.nfc().collect()
    }
}

/// [`nfc`] of a text that is given away: text already NFC comes back as it is,
/// without a copy (an import hands over hundreds of megabytes of it).
pub fn into_nfc(text: String) -> String {
    if is_nfc(&text) {
        text
    } else {
        text.nfc().collect()
    }
}

/// Whether `text` is NFC: every character stable in NFC, or else the Unicode
/// quick check says yes.
fn is_nfc(text: &str) -> bool {
    all_stable_in_nfc(text) || is_nfc_quick(text.chars()) == IsNormalized::Yes
}

/// Whether every character of `text` is NFC whatever surrounds it: one with the
/// quick-check value Yes and combining class 0, which neither composes with what
/// precedes it nor is reordered. These are the blocks of Vietnamese text: Latin up
/// to the combining marks (which include ơ, ư and đ), Latin Extended Additional
/// (ạ … ỹ) and General Punctuation (“ ” – …) but its two singletons; a test checks
/// every one of them against the Unicode data.
///
/// Read off the UTF-8 bytes: a character outside these blocks starts with a byte
/// none inside them starts with, or is told apart by the byte or two after it. A
/// block of bytes is checked without a branch per byte (the compiler vectorizes
/// it), seven times as fast as decoding the characters, on text where a third of
/// them are not ASCII.
fn all_stable_in_nfc(text: &str) -> bool {
    const BLOCK: usize = 64;
    let bytes = text.as_bytes();
    let mut checked = 0;
    for window in bytes.windows(BLOCK + 2).step_by(BLOCK) {
        let mut unstable = false;
        for i in 0..BLOCK {
            unstable |= starts_unstable(window[i], window[i + 1], window[i + 2]);
        }
        if unstable {
            return false;
        }
        checked += BLOCK;
    }
    let tail = &bytes[checked..];
    let at = |i: usize| tail.get(i).copied().unwrap_or(0);
    (0..tail.len()).all(|i| !starts_unstable(at(i), at(i + 1), at(i + 2)))
}

/// Whether a character that starts with byte `a`, followed by `b` and `c`, is
/// outside the blocks of [`all_stable_in_nfc`]; false for a byte that continues a
/// character (below 0xC0).
#[inline(always)]
fn starts_unstable(a: u8, b: u8, c: u8) -> bool {
    // U+0300 to U+07FF, two bytes: combining marks and beyond.
    let two_bytes_beyond = (0xCC..=0xDF).contains(&a);
    // Three and four bytes, but for the blocks starting E1 and E2.
    let other_blocks = a == 0xE0 || a >= 0xE3;
    // E1 B8 80 to E1 BB BF: U+1E00 to U+1EFF.
    let e1_beyond = a == 0xE1 && !(0xB8..=0xBB).contains(&b);
    // E2 80 82 to E2 81 AF: U+2002 to U+206F.
    let e2_beyond = a == 0xE2 && !((b == 0x80 && c >= 0x82) || (b == 0x81 && c <= 0xAF));
    two_bytes_beyond | other_blocks | e1_beyond | e2_beyond
}

/// A title or name as stored: NFC, trimmed, inner whitespace collapsed to one space.
pub fn clean_line(text: &str) -> String {
    let text = nfc(text);
    // Most lines are clean already: words apart by one plain space each.
    let clean = !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.contains("  ")
        && !text.chars().any(|c| c.is_whitespace() && c != ' ');
    if clean {
        return text;
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Folds text for matching: decomposes, drops combining marks, maps `đ`/`Đ` to `d`
/// (it has no decomposition), lowercases. NFC and NFD input fold the same.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// A URL slug: folded, ASCII letters and digits, words joined by `-`.
/// "Hội nghị sơ kết" gives "hoi-nghi-so-ket".
pub fn slugify(text: &str) -> String {
    fold(text)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// The lookup key of a document code. "16-KL/TƯ", "16-KL/TW" and "16 kl tw" share
/// one key: folded, split on anything not a letter or digit, and "TƯ" (Trung ương,
/// the Central Committee) written as its usual abbreviation "TW".
pub fn document_code_key(code: &str) -> String {
    fold(code)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| if part == "tu" { "tw" } else { part })
        .collect::<Vec<_>>()
        .join("-")
}

/// The Vietnamese alphabet, in order, followed by the Latin letters it lacks.
const ALPHABET: [&str; 33] = [
    "a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "g", "h", "i", "k", "l", "m", "n", "o", "ô", "ơ",
    "p", "q", "r", "s", "t", "u", "ư", "v", "x", "y", "f", "j", "w", "z",
];

/// Tone marks in dictionary order: level (none), grave, hook, tilde, acute, dot below.
const TONES: [char; 5] = ['\u{300}', '\u{309}', '\u{303}', '\u{301}', '\u{323}'];

/// A collation key for a name given as its parts in sorting order (for a person:
/// given, family, middle). The key is plain ASCII (`0-9a-z`) whose byte order is
/// Vietnamese order: letters first (a ă â b … đ …), then tones, so it sorts the same
/// on SQLite and PostgreSQL.
pub fn sort_key(parts: &[&str]) -> String {
    let mut letters = String::new();
    let mut tones = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            letters.push_str("01");
        }
        for (letter, tone) in syllable_letters(part) {
            letters.push_str(&base36_pair(letter));
            tones.push(char::from(b'0' + tone));
        }
    }
    letters.push_str("00");
    letters.push_str(&tones);
    letters
}

/// The collation key of a person: given name, then family, then middle. Without
/// the parts, a Vietnamese full name is read as family, middle…, given.
pub fn person_sort_key(
    full_name: &str,
    family: Option<&str>,
    middle: Option<&str>,
    given: Option<&str>,
) -> String {
    let words: Vec<&str> = full_name.split(' ').collect();
    match (family, given) {
        (Some(family), Some(given)) => sort_key(&[given, family, middle.unwrap_or("")]),
        _ if words.len() >= 2 => {
            let middle_words = words[1..words.len() - 1].join(" ");
            sort_key(&[words[words.len() - 1], words[0], &middle_words])
        }
        _ => sort_key(&[full_name]),
    }
}

/// Splits text into (letter rank, tone rank) pairs. Ranks start at 2 (digits), then
/// 12 onwards for letters; anything else (punctuation, spaces) is skipped.
fn syllable_letters(text: &str) -> Vec<(u16, u8)> {
    let mut out = Vec::new();
    let lower: String = text.nfc().flat_map(char::to_lowercase).collect();
    for c in lower.chars() {
        if let Some(d) = c.to_digit(10) {
            out.push((2 + d as u16, 0));
            continue;
        }
        let mut base = String::new();
        let mut tone = 0u8;
        for part in c.to_string().nfd() {
            if let Some(t) = TONES.iter().position(|m| *m == part) {
                tone = t as u8 + 1;
            } else {
                base.push(part);
            }
        }
        let base: String = base.nfc().collect();
        if let Some(rank) = ALPHABET.iter().position(|l| *l == base) {
            out.push((12 + rank as u16, tone));
        } else if let Some(c) = base.chars().next().filter(|c| c.is_alphabetic()) {
            // Letters outside the alphabet sort after it, by code point.
            out.push((
                12 + ALPHABET.len() as u16 + (u32::from(c) % 1200) as u16,
                tone,
            ));
        }
    }
    out
}

fn base36_pair(n: u16) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let n = usize::from(n.min(36 * 36 - 1));
    [DIGITS[n / 36] as char, DIGITS[n % 36] as char]
        .iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The blocks of [`all_stable_in_nfc`], by character.
    fn stable_in_nfc(c: char) -> bool {
        matches!(c, '\0'..='\u{2FF}' | '\u{1E00}'..='\u{1EFF}' | '\u{2002}'..='\u{206F}')
    }

    #[test]
    fn the_fast_nfc_ranges_are_stable_in_nfc() {
        use unicode_normalization::char::canonical_combining_class;
        let ranges = [0..=0x2FF, 0x1E00..=0x1EFF, 0x2002..=0x206F];
        for c in ranges.into_iter().flatten().filter_map(char::from_u32) {
            assert!(stable_in_nfc(c));
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
            assert_eq!(is_nfc_quick([c].into_iter()), IsNormalized::Yes, "{c:?}");
        }
        let nfd: String = "thông tin đối ngoại".nfd().collect();
        assert_eq!(into_nfc(nfd), "thông tin đối ngoại");
        // The byte scan agrees with the ranges for every character, at the start,
        // in the middle and at the end of a text, and across a block's edge.
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let stable = stable_in_nfc(c);
            for text in [
                c.to_string(),
                format!("ab{c}cd"),
                format!("{}{c}{}", "x".repeat(63), "y".repeat(70)),
            ] {
                assert_eq!(all_stable_in_nfc(&text), stable, "{c:?} in {text:?}");
            }
        }
        // The edges: a combining mark, and a singleton that NFC replaces.
        assert!(!stable_in_nfc('\u{300}') && !stable_in_nfc('\u{2001}'));
        assert_eq!(nfc("e\u{302}\u{301}"), "ế");
        assert_eq!(nfc("\u{2001}"), "\u{2003}");
        assert_eq!(
            nfc("Hội nghị “sơ kết” – 2024…"),
            "Hội nghị “sơ kết” – 2024…"
        );
    }

    #[test]
    fn folding_ignores_case_marks_and_normal_form() {
        assert_eq!(fold("Đôn Tuấn Phong"), "don tuan phong");
        assert_eq!(fold("VÕ VĂN THƯỞNG"), "vo van thuong");
        let nfd: String = "thông tin đối ngoại".nfd().collect();
        assert_eq!(fold(&nfd), "thong tin doi ngoai");
    }

    #[test]
    fn slugs_come_from_vietnamese_titles() {
        assert_eq!(slugify("Hội nghị sơ kết"), "hoi-nghi-so-ket");
        assert_eq!(slugify("  Đà Nẵng: đón khách! "), "da-nang-don-khach");
    }

    #[test]
    fn document_codes_match_however_written() {
        let key = document_code_key("16-KL/TƯ");
        assert_eq!(key, "16-kl-tw");
        assert_eq!(document_code_key("16-KL/TW"), key);
        assert_eq!(document_code_key("16 KL TW"), key);
        assert_ne!(document_code_key("26-CT/TƯ"), key);
    }

    #[test]
    fn nfd_input_becomes_nfc() {
        let nfd: String = "Đôn Tuấn Phong".nfd().collect();
        assert_ne!(nfd, "Đôn Tuấn Phong");
        assert_eq!(nfc(&nfd), "Đôn Tuấn Phong");
        assert_eq!(nfc("Đôn Tuấn Phong"), "Đôn Tuấn Phong");
    }

    #[test]
    fn clean_line_trims_and_collapses() {
        assert_eq!(clean_line("  Võ   Văn\tThưởng \n"), "Võ Văn Thưởng");
        assert_eq!(clean_line("Võ Văn Thưởng"), "Võ Văn Thưởng");
        assert_eq!(clean_line("Võ\u{a0}Văn\u{2003}Thưởng"), "Võ Văn Thưởng");
        assert_eq!(clean_line(" Võ"), "Võ");
        assert_eq!(clean_line("Võ "), "Võ");
        assert_eq!(clean_line(""), "");
    }

    #[test]
    fn names_sort_in_vietnamese_order() {
        // Given name first: Linh < Ngọc < Phong < Thưởng.
        let mut names = [
            ("Thưởng", "Võ", "Văn"),
            ("Phong", "Đôn", "Tuấn"),
            ("Ngọc", "Hà", "Kim"),
            ("Linh", "Phạm", "Văn"),
        ];
        names.sort_by_key(|(g, f, m)| sort_key(&[g, f, m]));
        let given: Vec<_> = names.iter().map(|n| n.0).collect();
        assert_eq!(given, ["Linh", "Ngọc", "Phong", "Thưởng"]);
        // d < đ < e, a < ă < â, and tones after letters: ma < mà < mả < mã < má < mạ < mai.
        let words = [
            "mai", "mạ", "má", "mã", "mả", "mà", "ma", "e", "đa", "da", "âm", "ăn", "an",
        ];
        let mut sorted = words.to_vec();
        sorted.sort_by_key(|w| sort_key(&[w]));
        assert_eq!(
            sorted,
            [
                "an", "ăn", "âm", "da", "đa", "e", "ma", "mà", "mả", "mã", "má", "mạ", "mai"
            ]
        );
        // A shorter name sorts before a longer one it starts.
        assert!(sort_key(&["An"]) < sort_key(&["Anh"]));
        assert!(sort_key(&["An", "Trần"]) < sort_key(&["Anh", "Lê"]));
    }
}
