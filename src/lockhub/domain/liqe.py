"""A subset of Liqe, the query language of Seam's device database (`liqe_query` of
`/internal/devicedb/v1/manufacturers/list`), enough for what Seam Components send.

Seam's supported-devices table builds queries such as `(display_name:"August" OR
manufacturer_id:"<uuid>")`, `NOT (display_name:"Yale")` and `manufacturer_id:none`. This
module reads:

- `field:value`: the field's text contains the value, ignoring case (a bare word) or exactly
  as written (a quoted value, `"..."` or `'...'`), as in Liqe;
- `field:=value`: the field equals the value (quoted: case-sensitive, bare: ignoring case);
- `field:true`, `field:false`, `field:null` (bare) for booleans and absent fields;
- `AND`, `OR`, `NOT`, `-` before a term, two terms side by side (an implicit AND) and
  parentheses; AND binds tighter than OR, as in Liqe.

Anything else (regular expressions, wildcards, ranges, comparisons, terms without a field)
is refused with `LiqeError`, which the route answers as invalid input, rather than being
matched some other way than Seam would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Document = Mapping[str, Any]
Predicate = Callable[[Document], bool]

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<open>\()|(?P<close>\))
    | (?P<quoted>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<word>[^\s()"':-][^\s()"':]*)
    | (?P<colon>:=?)
    | (?P<minus>-)
    )""", re.VERBOSE)
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UNSUPPORTED = re.compile(r"[*?/\[\]{}<>]")


class LiqeError(ValueError):
    """Why a query is not one this subset reads (a sentence for the caller)."""


@dataclass(frozen=True)
class _Token:
    kind: str  # open | close | quoted | word | colon | minus
    text: str


def _tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    query = query.rstrip()
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None or match.end() == position:
            raise LiqeError(f"Unexpected character at position {position}: {query[position]!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append(_Token(kind, match.group(kind)))
        position = match.end()
    return tokens


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise LiqeError("The query ends too early")
        self.at += 1
        return token

    def query(self) -> Predicate:
        predicate = self.disjunction()
        rest = self.peek()
        if rest is not None:
            raise LiqeError(f"Unexpected {rest.text!r}")
        return predicate

    def disjunction(self) -> Predicate:
        terms = [self.conjunction()]
        while self._keyword("OR"):
            self.at += 1
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else (lambda doc: any(t(doc) for t in terms))

    def conjunction(self) -> Predicate:
        terms = [self.negation()]
        while True:
            token = self.peek()
            if token is None or token.kind == "close" or self._keyword("OR"):
                break
            if self._keyword("AND"):
                self.at += 1
            terms.append(self.negation())
        return terms[0] if len(terms) == 1 else (lambda doc: all(t(doc) for t in terms))

    def negation(self) -> Predicate:
        token = self.peek()
        if token is not None and (token.kind == "minus" or self._keyword("NOT")):
            self.at += 1
            inner = self.negation()
            return lambda doc: not inner(doc)
        return self.primary()

    def primary(self) -> Predicate:
        token = self.take()
        if token.kind == "open":
            inner = self.disjunction()
            if self.take().kind != "close":
                raise LiqeError("A parenthesis is not closed")
            return inner
        if token.kind != "word" or not _FIELD.fullmatch(token.text):
            raise LiqeError(f"Expected field:value, found {token.text!r}")
        colon = self.peek()
        if colon is None or colon.kind != "colon":
            raise LiqeError(f"A term needs a field (field:value), found {token.text!r}")
        self.at += 1
        return _match(token.text, colon.text == ":=", self.take())

    def _keyword(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text == word


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return None


def _match(field: str, exact: bool, token: _Token) -> Predicate:
    if token.kind == "quoted":
        wanted = _unquote(token.text)
        if exact:
            return lambda doc: _text(doc.get(field)) == wanted
        return lambda doc: wanted in (_text(doc.get(field)) or "")
    if token.kind != "word":
        raise LiqeError(f"Expected a value after {field}:, found {token.text!r}")
    if _UNSUPPORTED.search(token.text):
        raise LiqeError(f"Unsupported value {token.text!r} (no wildcards, regular expressions, "
                        f"ranges or comparisons)")
    word = token.text
    if word in ("true", "false"):
        return lambda doc: doc.get(field) is (word == "true")
    if word == "null":
        return lambda doc: doc.get(field) is None
    lowered = word.lower()
    if exact:
        return lambda doc: (_text(doc.get(field)) or "").lower() == lowered
    return lambda doc: lowered in (_text(doc.get(field)) or "").lower()


def parse(query: str) -> Predicate:
    """The predicate a query means over one flat document (a served object as a dict)."""
    tokens = _tokens(query)
    if not tokens:
        return lambda doc: True
    return _Parser(tokens).query()
