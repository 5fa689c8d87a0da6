//! What every layer may need to know about a [`Dialect`]: its name, how a connection to it
//! is addressed, how it reads identifiers and string literals.
//!
//! These are facts about the databases, not policy: what the SQL guard *allows* per dialect
//! lives in querent-sql, how each database is reached in querent-exec. Each fact is one
//! exhaustive `match`, so a new variant of [`Dialect`] does not compile until every fact
//! here is decided for it (as sqlparser-rs keeps such facts on its `Dialect` trait instead
//! of comparing dialects where they are used).

mod reserved;

use crate::Dialect;

/// How a dialect reads an unquoted identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaseFolding {
    /// Folded to lower case (PostgreSQL); a quoted name keeps its case and is matched
    /// exactly, functions included.
    Lower,
    /// Kept as written (MySQL, MariaDB, SQLite).
    Preserve,
}

impl Dialect {
    /// The dialect's name as people write it: `PostgreSQL`, `MySQL`, `SQLite`.
    pub fn display_name(self) -> &'static str {
        match self {
            Dialect::Postgres => "PostgreSQL",
            Dialect::Mysql => "MySQL",
            Dialect::Sqlite => "SQLite",
        }
    }

    /// Whether a target is a file (given by `path`) rather than a server (`host`, `port`,
    /// `database`, `username` and a password).
    pub fn is_file_based(self) -> bool {
        match self {
            Dialect::Postgres | Dialect::Mysql => false,
            Dialect::Sqlite => true,
        }
    }

    /// The port a server listens on unless told otherwise; `None` for file-based dialects.
    pub fn default_port(self) -> Option<u16> {
        match self {
            Dialect::Postgres => Some(5432),
            Dialect::Mysql => Some(3306),
            Dialect::Sqlite => None,
        }
    }

    /// Whether a table is named `schema.table` on a target of this dialect. Not on SQLite:
    /// a target is one file with nothing attached, so a table's name alone is exact.
    pub fn qualifies_tables(self) -> bool {
        match self {
            Dialect::Postgres | Dialect::Mysql => true,
            Dialect::Sqlite => false,
        }
    }

    /// How unquoted identifiers are read.
    pub fn case_folding(self) -> CaseFolding {
        match self {
            Dialect::Postgres => CaseFolding::Lower,
            Dialect::Mysql | Dialect::Sqlite => CaseFolding::Preserve,
        }
    }

    /// The name the database gives the unquoted identifier `word`.
    pub fn fold_unquoted(self, word: &str) -> String {
        match self.case_folding() {
            CaseFolding::Lower => word.to_lowercase(),
            CaseFolding::Preserve => word.to_owned(),
        }
    }

    /// The character that quotes identifiers: `"` (standard SQL, PostgreSQL, SQLite) or
    /// `` ` `` (MySQL, MariaDB).
    pub fn identifier_quote(self) -> char {
        match self {
            Dialect::Postgres | Dialect::Sqlite => '"',
            Dialect::Mysql => '`',
        }
    }

    /// `name` quoted, whatever it is: between [`Dialect::identifier_quote`]s, with that
    /// character doubled inside.
    pub fn quote_identifier(self, name: &str) -> String {
        let q = self.identifier_quote();
        let mut out = String::with_capacity(name.len() + 2);
        out.push(q);
        for c in name.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
        out
    }

    /// Whether `name` reads as itself unquoted, keywords aside: ASCII letters, digits and
    /// `_`, not starting with a digit, and no letter that folding would change (no upper
    /// case on PostgreSQL).
    pub fn is_bare_identifier(self, name: &str) -> bool {
        let upper_ok = self.case_folding() == CaseFolding::Preserve;
        let letter =
            |c: char| c == '_' || c.is_ascii_lowercase() || (upper_ok && c.is_ascii_uppercase());
        name.chars().next().is_some_and(letter)
            && name.chars().all(|c| letter(c) || c.is_ascii_digit())
    }

    /// Whether `word` is one of the dialect's reserved words (PostgreSQL's reserved key
    /// words; MySQL 8's and MariaDB's reserved words; SQLite's keywords), compared without
    /// regard to case. Such a name must be quoted to be read as an identifier.
    pub fn is_reserved(self, word: &str) -> bool {
        let list = match self {
            Dialect::Postgres => reserved::POSTGRES_RESERVED,
            Dialect::Mysql => reserved::MYSQL_RESERVED,
            Dialect::Sqlite => reserved::SQLITE_KEYWORDS,
        };
        list.binary_search(&word.to_ascii_lowercase().as_str())
            .is_ok()
    }

    /// Whether `name` must be quoted to be read as exactly that identifier: it is not a
    /// [bare identifier](Dialect::is_bare_identifier) or it is [reserved](Dialect::is_reserved).
    pub fn needs_quotes(self, name: &str) -> bool {
        !self.is_bare_identifier(name) || self.is_reserved(name)
    }

    /// `name` as an identifier: as it is when it [needs no quotes](Dialect::needs_quotes),
    /// else [quoted](Dialect::quote_identifier).
    pub fn identifier(self, name: &str) -> String {
        if self.needs_quotes(name) {
            self.quote_identifier(name)
        } else {
            name.to_owned()
        }
    }

    /// A string literal that reads back as exactly `s`, whatever the session's settings
    /// for backslashes:
    ///
    /// - PostgreSQL: `'…'` with quotes doubled; a string with a backslash is written
    ///   `E'…'` with backslashes doubled too, which reads the same whether
    ///   `standard_conforming_strings` is on or off.
    /// - MySQL/MariaDB: `'…'` with quotes and backslashes doubled (backslash escapes are on
    ///   by default; a doubled quote closes nothing in either mode).
    /// - SQLite: `'…'` with quotes doubled (a backslash is an ordinary character).
    ///
    /// A NUL character is written as it is: callers that cannot send one refuse it first.
    pub fn string_literal(self, s: &str) -> String {
        let quotes = |s: &str| s.replace('\'', "''");
        let backslashes = |s: &str| s.replace('\\', "\\\\");
        match self {
            Dialect::Postgres if s.contains('\\') => format!("E'{}'", quotes(&backslashes(s))),
            Dialect::Postgres | Dialect::Sqlite => format!("'{}'", quotes(s)),
            Dialect::Mysql => format!("'{}'", quotes(&backslashes(s))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses() {
        assert_eq!(Dialect::Postgres.display_name(), "PostgreSQL");
        assert_eq!(Dialect::Mysql.display_name(), "MySQL");
        assert_eq!(Dialect::Sqlite.display_name(), "SQLite");
        assert_eq!(Dialect::Postgres.default_port(), Some(5432));
        assert_eq!(Dialect::Mysql.default_port(), Some(3306));
        for d in Dialect::ALL {
            assert_eq!(d.is_file_based(), d.default_port().is_none(), "{d}");
        }
        assert!(Dialect::Sqlite.is_file_based() && !Dialect::Sqlite.qualifies_tables());
    }

    #[test]
    fn identifiers() {
        assert_eq!(Dialect::Postgres.fold_unquoted("Name"), "name");
        assert_eq!(Dialect::Mysql.fold_unquoted("Name"), "Name");
        assert_eq!(Dialect::Mysql.quote_identifier("a`b"), "`a``b`");
        assert_eq!(Dialect::Postgres.quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::Sqlite.quote_identifier("plain"), "\"plain\"");
        assert_eq!(Dialect::Postgres.identifier("order"), "\"order\"");
        assert_eq!(Dialect::Postgres.identifier("Name"), "\"Name\"");
        assert_eq!(Dialect::Postgres.identifier("read"), "read");
        assert_eq!(Dialect::Postgres.identifier("only"), "\"only\"");
        assert_eq!(Dialect::Mysql.identifier("Name"), "Name");
        assert_eq!(Dialect::Mysql.identifier("read"), "`read`");
        assert_eq!(Dialect::Mysql.identifier("two words"), "`two words`");
        assert_eq!(Dialect::Sqlite.identifier("id"), "id");
        assert_eq!(Dialect::Sqlite.identifier("key"), "\"key\"");
        assert!(Dialect::Sqlite.needs_quotes("1abc") && Dialect::Sqlite.needs_quotes(""));
        assert!(Dialect::Sqlite.is_reserved("SELECT"));
        for list in [
            reserved::POSTGRES_RESERVED,
            reserved::MYSQL_RESERVED,
            reserved::SQLITE_KEYWORDS,
        ] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        }
    }

    #[test]
    fn string_literals() {
        assert_eq!(Dialect::Postgres.string_literal("it's"), "'it''s'");
        assert_eq!(Dialect::Postgres.string_literal("a\\"), "E'a\\\\'");
        assert_eq!(Dialect::Mysql.string_literal("a\\"), "'a\\\\'");
        assert_eq!(Dialect::Mysql.string_literal("a''b"), "'a''''b'");
        assert_eq!(Dialect::Sqlite.string_literal("a\\'"), "'a\\'''");
    }
}
