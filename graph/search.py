"""A full-text index of labels and descriptions in every language (SQLite FTS5), built from the store.

Words match whatever their accents (Usti finds Ústí); labels weigh ten times more than descriptions in the ranking,
and things rank before the helper nodes that connect them (partnerships, memberships, catalogue records).
User text only ever becomes quoted FTS5 terms, never query syntax.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass

from graph.errors import NamedQueryError

TEXTS = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX foaf: <http://xmlns.com/foaf/0.1/>
SELECT ?s ?field ?text (LANG(?text) AS ?lang) WHERE {
  VALUES (?p ?field) { (rdfs:label "label") (skos:prefLabel "label") (skos:altLabel "alias") (dcterms:title "alias")
                       (foaf:name "alias") (dcterms:description "description") (skos:definition "description") }
  ?s ?p ?text FILTER(isIRI(?s) && isLiteral(?text))
}"""
_WORD = re.compile(r"\w+", re.UNICODE)
# Kinds that exist to connect others (a partnership, a record): found, but ranked after the things themselves.
HELPER_KINDS = ("partnership", "membership", "region-membership", "record", "alternative-value", "nuts-unit")


@dataclass(frozen=True)
class Hit:
    iri: str
    kind: str
    label: str
    score: float
    snippet: str


def kind_of(iri: str, base: str) -> str:
    """The kind segment of a minted IRI ({base}id/{kind}/{slug}), 'term' under {base}def/, else 'other'."""
    if iri.startswith(base + "id/"):
        return iri[len(base) + 3:].split("/", 1)[0]
    return "term" if iri.startswith(base + "def/") else "other"


class SearchIndex:
    """Built once from rows of TEXTS; answer searches and prefix suggestions."""

    def __init__(self, rows: list[dict[str, str]], base: str) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute("CREATE VIRTUAL TABLE docs USING fts5(iri UNINDEXED, kind UNINDEXED, label, description, "
                         "tokenize = 'unicode61 remove_diacritics 2')")
        self._db.execute("CREATE TABLE labels (iri TEXT, lang TEXT, label TEXT, main INTEGER)")
        texts: dict[str, dict[str, list[str]]] = {}
        for row in rows:
            field = "description" if row["field"] == "description" else "label"  # aliases are searched as labels
            texts.setdefault(row["s"], {"label": [], "description": []})[field].append(row["text"])
            if field == "label":
                self._db.execute("INSERT INTO labels VALUES (?, ?, ?, ?)",
                                 (row["s"], row.get("lang", ""), row["text"], int(row["field"] == "label")))
        self._db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)",
                             [(iri, kind_of(iri, base), " \n".join(t["label"]), " \n".join(t["description"]))
                              for iri, t in texts.items()])
        self._db.execute("CREATE INDEX labels_iri ON labels (iri)")

    def search(self, text: str, languages: list[str], kind: str | None, limit: int) -> list[Hit]:
        return self._query(_terms(text), languages, kind, limit, "docs")

    def suggest(self, text: str, languages: list[str], kind: str | None, limit: int) -> list[Hit]:
        """Labels whose words begin with what was typed so far (the last word may be cut short)."""
        terms = _terms(text)
        return self._query([*terms[:-1], terms[-1] + "*"], languages, kind, limit, "label")

    def _query(self, terms: list[str], languages: list[str], kind: str | None, limit: int, column: str) -> list[Hit]:
        match = " ".join(terms) if column == "docs" else "label : (" + " ".join(terms) + ")"
        helpers = ", ".join(f"'{k}'" for k in HELPER_KINDS)
        weight = f"(CASE WHEN kind IN ({helpers}) THEN 0.5 ELSE 1.0 END)"
        sql = (f"SELECT iri, kind, bm25(docs, 0.0, 0.0, 10.0, 1.0) * {weight} AS score, "
               "snippet(docs, -1, '[', ']', '…', 12) FROM docs "
               "WHERE docs MATCH ? " + ("AND kind = ? " if kind else "") + "ORDER BY score LIMIT ?")
        with self._lock:
            found = self._db.execute(sql, (match, *([kind] if kind else []), limit)).fetchall()
            return [Hit(iri, k, self._label(iri, languages), -score, snippet) for iri, k, score, snippet in found]

    def _label(self, iri: str, languages: list[str]) -> str:
        """The label in the first available of `languages` (a main label before another name), then English."""
        rows = self._db.execute("SELECT lang, label FROM labels WHERE iri = ? ORDER BY main", (iri,)).fetchall()
        found = dict(rows)  # the main label of a language overwrites its other names
        for lang in [*languages, "en", "", *found]:
            if lang in found:
                return str(found[lang])
        return iri


def _terms(text: str) -> list[str]:
    words = _WORD.findall(text)
    if not words:
        raise NamedQueryError("q needs at least one word", "q")
    return [f'"{word}"' for word in words]
