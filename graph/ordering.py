"""ORDER BY keys that pyoxigraph 0.5 can sort without aborting the process.

pyoxigraph 0.5.13 (and Oxigraph server) compares two literals by value when SPARQL `<` is defined for them and by
lexical form otherwise. That comparison is not transitive (9 < 10 by value, 10 < "5" and "5" < 9 by text), and from
21 rows on Rust's sort notices and panics, which aborts the process. `total_order` puts a class key before each sort
key. Inside one class the engine's comparison is a total order, and the classes keep the order of SPARQL 1.1 §15.1:

    unbound (the class expression errs) < blank node or IRI 100 < numeric 101 < string 102
    < temporal 110 to 127 (by datatype, +1 with a timezone) < other literal "2 <datatype>" < triple term 300

All numerics share a class, so they still sort by value across numeric types. Simple literals, xsd:string and
language-tagged strings share the string class: the engine orders them by text, then datatype and tag, as before.
Every other datatype is a class of its own, the temporal ones split by whether the value has a timezone; ill-typed
literals fall in "2 <datatype>". SPARQL leaves the order between literal kinds undefined, so grouping them is
conforming.

The class is computed for every row sorted and compared in every comparison, so the common classes are integers: the
engine computes and compares those much faster than strings (sorting 20,000 dates: 33 ms without a class, 88 ms with
the string classes of earlier versions, 61 ms with the integers). Integers and strings compare by their text in the
engine, which is why the integers all have three digits and sort before "2 …", and 300 after it.

Not covered: integers against floats or doubles near 2^24 and 2^53, where promotion rounds (giving floats a class of
their own would break their order by value among numerics); triple terms whose components mix literal kinds; keys
whose value kind varies between evaluations (RAND in a key choosing between a number and a string); keys holding a
group pattern (`{`, as in EXISTS): those get no class, because a copy would repeat the pattern, any ORDER BY inside it
unrewritten, and nested copies would grow the text geometrically; the keys after the 32nd of a clause (see
_MAX_CLASSES).

A key needs no class when it is a variable whose values all fall in one class (or are unbound), and the top-level
ORDER BY of a SELECT gives none to such keys: variables that are the subject of a plain triple pattern (one IRI or
variable as predicate, no path but `+`) directly in the top-level group, and never the target of an `AS` (every
solution of that group binds them to a subject, and nothing after it can rebind them); the variable of a one-variable
VALUES block there whose values are all IRIs; variables bound, once, to the value of a function whose values are of
one class (`COUNT(…)`, `YEAR(…)`, `STR(…)`, …) by the SELECT clause, or by a BIND directly in the top-level group that
is the only place in it naming them (where the function errs, nothing else may bind them). The store may vouch for
more (`Vouched`): the predicates all of whose objects, in every graph, fall in one class. Then a variable that is the
object of such a predicate (one IRI, prefixed name or `a`, with or without `+`) in a plain triple pattern directly in
the top-level group needs none either. Most sorts are by such keys (`ORDER BY ?practice`, `DESC(?count)`, `?label`,
`?year`), and the class costs the engine up to a fifth of a sorted query's time.

The rewrite only inserts text: before each condition `k`, `ASC(class(k)) ` or `DESC(class(k)) `, with the direction of
`k`. Everything else stays byte-identical; a clause the lexer cannot follow is left as it is from there on. A class
holds seventeen copies of its key and at most fourteen more bracket levels.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from graph.lexer import Token, token_list

__all__ = ["UNVOUCHED", "Vouched", "sort_class", "total_order"]

_MAYBE_ORDER = re.compile("order", re.IGNORECASE)
_CLOSER = {"(": ")", "{": "}", "[": "]"}
_CLAUSE_ENDS = {"LIMIT", "OFFSET", "VALUES"}  # VALUES (?a ?b) { … } would pass for a function call
_FORMS = {"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"}
# pyoxigraph 0.5.13 overflows its stack (SIGSEGV) on about 2,600 computed keys in one ORDER BY, where variables are
# fine by the ten thousand: classes for a clause of variables must not take it there. Real clauses have a few keys.
_MAX_CLASSES = 32  # per clause; the keys after these get none
_XSD = "http://www.w3.org/2001/XMLSchema#"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_ENDS_OBJECT = {".", ";", ",", "}", "{"}
_ONE_CLASS_CALLS = frozenset({  # functions whose values (where they have one) all fall in one class
    "COUNT", "YEAR", "MONTH", "DAY", "HOURS", "MINUTES", "SECONDS", "STRLEN", "ABS", "CEIL", "FLOOR", "ROUND",  # 101
    "STR", "LCASE", "UCASE", "LANG", "TZ", "STRUUID", "MD5", "SHA1", "SHA256", "SHA384", "SHA512",  # strings, 102
    "IRI", "URI", "DATATYPE", "UUID", "BNODE",  # 100
    "ISIRI", "ISURI", "ISBLANK", "ISLITERAL", "ISNUMERIC", "BOUND", "SAMETERM", "CONTAINS", "STRSTARTS", "STRENDS",
    "REGEX", "LANGMATCHES",  # booleans
})
# the datatypes whose values TZ reads, the common ones first: each is one more test in the class of the others
_TEMPORAL = ("date", "dateTime", "gYear", "gYearMonth", "time", "dateTimeStamp", "gMonth", "gMonthDay", "gDay")


def _temporal_class(key: str) -> str:
    """110 + 2 * the datatype's place in _TEMPORAL, + 1 with a timezone; an error for other datatypes (1/0)."""
    chain = "1/0"
    for place, name in reversed(list(enumerate(_TEMPORAL))):
        chain = f"IF(DATATYPE({key}) = <{_XSD}{name}>, {110 + 2 * place}, {chain})"
    return f'{chain} + IF(TZ({key}) = "", 0, 1)'


_CLASS = (
    'IF(isLiteral({k}), IF(isNumeric({k}), 101, IF(LANG({k}) != "" || DATATYPE({k}) = <' + _XSD + 'string>, 102, '
    'COALESCE({temporal}, CONCAT("2 ", STR(DATATYPE({k})))))), '
    'IF(isIRI({k}) || isBlank({k}), 100, 300))'
)


@dataclass(frozen=True)
class Vouched:
    """What the store vouches for: the predicates all of whose objects fall in one class, and the prefixes the engine
    resolves without a PREFIX declaration."""

    predicates: frozenset[str] = frozenset()
    prefixes: tuple[tuple[str, str], ...] = field(default=())


UNVOUCHED = Vouched()


@dataclass(frozen=True)
class _Text:
    query: str
    found: Sequence[Token]
    partners: dict[int, int]  # index of an opening bracket -> index of the bracket that closes it


@dataclass(frozen=True)
class _Condition:
    direction: str  # ASC or DESC
    key: tuple[int, int] | None  # first and last token of the sort key; None: no class (EXISTS is a boolean)
    end: int  # the index of the condition's last token


def sort_class(key: str) -> str:
    """A SPARQL expression for the class of `key` (an expression text), whose values sort in SPARQL 1.1 order."""
    return _CLASS.format(k=key, temporal=_temporal_class(key))


def total_order(query: str, vouched: Vouched = UNVOUCHED) -> str:
    """The query with a class key before each ORDER BY condition, at every level, but for the keys that need none
    (see the module's doc); unchanged without ORDER BY."""
    if not _MAYBE_ORDER.search(query):
        return query
    found = token_list(query)
    text = _Text(query, found, _partners(found))
    classless = _classless_variables(text, vouched)
    inserts: dict[int, str] = {}
    for i in range(len(found) - 1):
        if found[i].keyword == "ORDER" and found[i + 1].keyword == "BY":
            inserts.update(_class_keys(text, i + 2, classless if found[i].depth == 0 else frozenset()))
    return _insert(query, inserts)


def _class_keys(text: _Text, at: int, classless: frozenset[str]) -> dict[int, str]:
    """Offset in the query -> class key to insert there, for the conditions of the clause from found[at] on; keys
    that are one of the `classless` variables get none."""
    inserts: dict[int, str] = {}
    while len(inserts) < _MAX_CLASSES and at < len(text.found) and (condition := _condition(text, at)):
        if (condition.key and not any(t.text == "{" for t in text.found[condition.key[0]:condition.key[1]])
                and _variable(text.found[condition.key[0]:condition.key[1] + 1]) not in classless):
            first, last = text.found[condition.key[0]], text.found[condition.key[1]]
            key = text.query[first.start:last.start + len(last.text)]
            inserts[text.found[at].start] = f"{condition.direction}({sort_class(key)}) "
        at = condition.end + 1
    return inserts


def _variable(key: Sequence[Token]) -> str | None:
    """The name of the variable that is the whole key (`?x`, `(?x)`), else None."""
    inner = [t for t in key if t.kind not in ("open", "close")]
    return inner[0].text[1:] if len(inner) == 1 and _is_variable(inner[0]) else None


def _classless_variables(text: _Text, vouched: Vouched) -> frozenset[str]:
    """Variables all of whose values in the answers of a SELECT fall in one class (see the module's doc)."""
    found = text.found
    form = next((i for i, t in enumerate(found) if t.depth == 0 and t.keyword in _FORMS), None)
    if form is None or found[form].keyword != "SELECT":
        return frozenset()
    group = next((i for i in range(form, len(found)) if found[i].depth == 0 and found[i].text == "{"), None)
    end = text.partners.get(group) if group is not None else None
    if group is None or end is None:
        return frozenset()
    renamed = Counter(found[i + 1].text[1:] for i in range(len(found) - 1)
                      if found[i].keyword == "AS" and _is_variable(found[i + 1]))
    subjects = {found[i].text[1:] for i in range(group + 1, end)
                if found[i].depth == 1 and _is_variable(found[i])
                and (i - 1 == group or (found[i - 1].text in (".", "}", ")") and found[i - 1].depth == 1))
                and _is_subject(found, i, end)}
    if vouched.predicates:
        subjects |= _vouched_objects(text, group, end, vouched)
    subjects |= _iri_values(text, group, end)
    used = Counter(t.text[1:] for t in found[group + 1:end] if _is_variable(t))
    binds = (i + 1 for i in range(group + 1, end) if found[i].keyword == "BIND")
    calls = ({name for name in _calls(text, range(form + 1, group), 0) if not used[name]}  # (else the laxer stores)
             | {name for name in _calls(text, binds, 1) if used[name] == 1})  # where BIND errs, nothing else binds
    return frozenset((subjects - renamed.keys()) | {name for name in calls if renamed[name] == 1})


def _vouched_objects(text: _Text, group: int, end: int, vouched: Vouched) -> set[str]:
    """The variables that are the object of a vouched predicate in a triple pattern directly in the group."""
    found = text.found
    names = _prefixes(found, vouched)
    objects = set()
    for i in range(group + 2, end):
        token = found[i]
        if token.depth != 1 or not _is_variable(token) or not (found[i + 1].text in _ENDS_OBJECT
                                                               or _is_keyword(found[i + 1])):
            continue
        verb = i - 2 if found[i - 1].text == "+" else i - 1
        if found[verb].depth == 1 and _iri(found[verb], names) in vouched.predicates and _is_verb(found, verb, group):
            objects.add(token.text[1:])
    return objects


def _is_verb(found: Sequence[Token], at: int, group: int) -> bool:
    """Whether found[at] follows a `;` or a one-token subject that starts a triples block of the group."""
    before = found[at - 1]
    if before.depth != 1 or at - 1 <= group:
        return False
    if before.text == ";":
        return True
    starts = at - 2 == group or (found[at - 2].depth == 1 and found[at - 2].text in (".", "}", ")"))
    return starts and before.kind in ("word", "iri") and not _is_keyword(before) and before.text != "a"


def _iri(token: Token, names: dict[str, str]) -> str | None:
    """The absolute IRI a predicate token names: `a`, an IRI or a prefixed name; None for anything else."""
    if token.text == "a":
        return _RDF_TYPE
    if token.kind == "iri":
        iri = token.text[1:-1]
    elif token.kind == "word" and ":" in token.text and token.text[0] not in "?$":
        prefix, local = token.text.split(":", 1)
        iri = names[prefix] + local if prefix in names else ""
    else:
        return None
    return iri if _ABSOLUTE.match(iri) else None


def _prefixes(found: Sequence[Token], vouched: Vouched) -> dict[str, str]:
    """The engine's prefixes, as the query's PREFIX declarations change them."""
    names = dict(vouched.prefixes)
    for i in range(len(found) - 2):
        if found[i].keyword == "PREFIX" and found[i].depth == 0 and found[i + 2].kind == "iri":
            names[found[i + 1].text.rstrip(":")] = found[i + 2].text[1:-1]
    return names


def _iri_values(text: _Text, group: int, end: int) -> set[str]:
    """The variables of one-variable VALUES blocks directly in the group whose values are all IRIs."""
    found, variables = text.found, set()
    for i in range(group + 1, end - 2):
        if found[i].keyword == "VALUES" and found[i].depth == 1 and _is_variable(found[i + 1]) \
                and found[i + 2].text == "{" and (closing := text.partners.get(i + 2)) and closing > i + 3 \
                and all(t.kind == "iri" or (t.kind == "word" and ":" in t.text and t.text[0] not in "?$")
                        for t in found[i + 3:closing]):
            variables.add(found[i + 1].text[1:])
    return variables


def _calls(text: _Text, openings: Iterable[int], depth: int) -> set[str]:
    """The variables of `(F(…) AS ?v)` opening at one of `openings` at `depth`, F one of _ONE_CLASS_CALLS."""
    found, targets = text.found, set()
    for opening in openings:
        closing = text.partners.get(opening)
        if found[opening].depth == depth and found[opening].text == "(" and closing is not None \
                and closing > opening + 4:
            call, target, as_ = found[opening + 1], found[closing - 1], found[closing - 2]
            if (call.keyword in _ONE_CLASS_CALLS and text.partners.get(opening + 2) == closing - 3
                    and as_.keyword == "AS" and _is_variable(target)):
                targets.add(target.text[1:])
    return targets


def _is_subject(found: Sequence[Token], at: int, end: int) -> bool:
    """Whether the variable at found[at], starting a triples block, has a plain predicate in the block."""
    verb = at + 1
    for i in range(at + 1, end):
        token = found[i]
        if token.depth != 1:
            continue
        if i == verb and _plain_predicate(found, i):
            return True
        if token.text == ";":
            verb = i + 1
        elif token.text in (".", "{", "}") or _is_keyword(token):
            return False
    return False


def _plain_predicate(found: Sequence[Token], at: int) -> bool:
    """One IRI, prefixed name, `a` or variable as predicate, followed by an object or by `+` and an object."""
    predicate = found[at]
    if predicate.kind not in ("word", "iri") or _is_keyword(predicate) or at + 1 >= len(found):
        return False
    after = at + 2 if found[at + 1].text == "+" else at + 1
    return after < len(found) and _starts_object(found[after])


def _starts_object(token: Token) -> bool:
    return (token.kind in ("iri", "string") or token.text in ("(", "[") or token.text.isdigit()
            or (token.kind == "word" and not _is_keyword(token)) or token.keyword in ("TRUE", "FALSE"))


def _is_variable(token: Token) -> bool:
    return token.kind == "word" and token.text[0] in "?$"


def _is_keyword(token: Token) -> bool:
    """A word that is neither a variable, a prefixed name nor `a`."""
    return token.kind == "word" and token.text[0] not in "?$" and ":" not in token.text and token.text != "a"


def _condition(text: _Text, at: int) -> _Condition | None:
    """The order condition at found[at]; None where the clause ends (LIMIT, OFFSET, VALUES, '}', or anything that is
    no condition)."""
    token = text.found[at]
    if token.kind == "word" and token.text[0] in "?$":
        return _Condition("ASC", (at, at), at)
    if token.text == "(":
        end = text.partners.get(at)
        return _Condition("ASC", (at, end), end) if end is not None else None
    if token.keyword in ("EXISTS", "NOT"):
        return _exists(text, at)
    if token.keyword in _CLAUSE_ENDS or token.kind not in ("word", "iri"):
        return None
    end = text.partners.get(at + 1) if at + 1 < len(text.found) and text.found[at + 1].text == "(" else None
    if end is None:
        return None
    if token.keyword in ("ASC", "DESC"):
        return _Condition(token.keyword, (at + 1, end), end)
    return _Condition("ASC", (at, end), end)


def _exists(text: _Text, at: int) -> _Condition | None:
    """`EXISTS { … }` or `NOT EXISTS { … }` at found[at]: a boolean, so no class."""
    if text.found[at].keyword == "NOT":
        at += 1
    if at + 1 >= len(text.found) or text.found[at].keyword != "EXISTS" or text.found[at + 1].text != "{":
        return None
    end = text.partners.get(at + 1)
    return _Condition("ASC", None, end) if end is not None else None


def _partners(found: Sequence[Token]) -> dict[int, int]:
    """Each opening bracket's closing one, in one pass; brackets closed by the wrong kind are left out."""
    partners: dict[int, int] = {}
    open_brackets: list[int] = []
    for i, token in enumerate(found):
        if token.kind == "open":
            open_brackets.append(i)
        elif token.kind == "close" and open_brackets:
            opening = open_brackets.pop()
            if _CLOSER[found[opening].text] == token.text:
                partners[opening] = i
    return partners


def _insert(query: str, inserts: dict[int, str]) -> str:
    parts, done = [], 0
    for at in sorted(inserts):
        parts += [query[done:at], inserts[at]]
        done = at
    return "".join(parts) + query[done:]
