//! Finding a group's names in free text and in loose queries.
//!
//! Names are compared as sequences of words (letters and digits, case folded), so
//! "zinc-attacks-against-security-researchers" names ZINC and "Lazarus campaign"
//! names Lazarus Group, while "zincite" names nothing. A group's name without a
//! trailing "Group" or "Team" counts too ("Lazarus"), as reports write it that way.
//! Single words shorter than four letters are left out: as free text they match
//! far too much.

/// The words of a text, lower-cased.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// The word sequences a group answers to: each name and alias, and each without a
/// trailing "group" or "team".
pub fn forms<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for name in names {
        let w = words(name);
        if w.len() > 1 && matches!(w.last().map(String::as_str), Some("group" | "team")) {
            out.push(w[..w.len() - 1].to_vec());
        }
        out.push(w);
    }
    out.retain(|f| !f.is_empty() && (f.len() > 1 || f[0].chars().count() >= 4));
    out.sort();
    out.dedup();
    out
}

/// The first form that occurs in `text_words` as a run of whole words.
pub fn find<'f>(forms: &'f [Vec<String>], text_words: &[String]) -> Option<&'f [String]> {
    forms
        .iter()
        .find(|f| text_words.windows(f.len()).any(|w| w.iter().zip(f.iter()).all(|(a, b)| a == b)))
        .map(Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lazarus() -> Vec<Vec<String>> {
        forms(["Lazarus Group", "ZINC", "HIDDEN COBRA", "APT"])
    }

    #[test]
    fn reports_name_groups_in_many_ways() {
        let f = lazarus();
        let hit = |t: &str| find(&f, &words(t)).map(|w| w.join(" "));
        assert_eq!(hit("Lazarus campaign against researchers"), Some("lazarus".into()));
        assert_eq!(
            hit("https://example.com/2021/01/28/zinc-attacks-against-security-researchers/"),
            Some("zinc".into())
        );
        assert_eq!(hit("Hidden  Cobra FASTCash"), Some("hidden cobra".into()));
        assert_eq!(hit("zincite mining; a cobra that hides"), None);
        assert_eq!(hit("APT report"), None, "short single words are left out");
    }
}
