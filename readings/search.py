"""Search across what a person may read: their groups' texts, passages, and the notes they may see.

One search, two engines with the same answers' shape:

- **PostgreSQL**: full-text search. `SearchQuery(..., search_type="websearch")`
  takes what people type into search boxes (`"exact phrase" -word or other`),
  stemmed with the `english` configuration; passages and notes are matched
  through a stored `to_tsvector('english', body)` column with a GIN index
  (migration `readings.0010`), ranked with `ts_rank`, shown with `ts_headline`.
- **SQLite** (the `make run` default): the same query syntax parsed here,
  each word matched at a word start (so "read" finds "reading"), case-blind;
  results newest first; the matched words marked in Python.

Who sees what is decided once, by `notes_visible_to` (DESIGN.md's table):
a private note is never a hit, a count or a headline for anyone but its
author. Cost: a hit list (count + one page, a union of three queries), then
one query per kind for the page's details and one for its links, whatever
the number of passages or notes.
"""

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector, SearchVectorField
from django.db import connection
from django.db.models import Case, Count, F, FloatField, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from sessions_app.enums import SessionStatus
from sessions_app.models import Membership, Session, User
from sessions_app.selectors import sessions_for_user

from .models import Note, Passage, ReadingAssignment, Text
from .selectors import notes_visible_to, readings_of, session_passages_q

# The text search configuration of the indexes (migration readings.0010): a query must use the same
# one for PostgreSQL to use them.
SEARCH_CONFIG = "english"
QUERY_MAX_CHARS = 200
HEADLINE_WORDS = 30

KIND_TEXT, KIND_PASSAGE, KIND_NOTE, KIND_REPLY = "text", "passage", "note", "reply"
KINDS = (KIND_TEXT, KIND_PASSAGE, KIND_NOTE, KIND_REPLY)

# ts_headline marks matches with these; the headline is escaped, then they become <mark>.
# Private-use characters: no text or note is expected to hold them, and a stray one is dropped.
_START, _STOP = "\ue000", "\ue001"
_MARKED = re.compile(f"{_START}([^{_START}{_STOP}]*){_STOP}")


def uses_full_text_search() -> bool:
    return connection.vendor == "postgresql"


# --- What was typed --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or a quoted phrase
    negated: bool = False


_TOKENS = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")


def parse_query(query: str) -> list[list[Term]]:
    """`websearch` syntax, for the SQLite fallback: alternatives (split by `or`) of terms that must all hold.

    `"exact phrase"` keeps its words together, `-word` and `-"a phrase"` exclude,
    `or` between terms offers alternatives; punctuation is ignored, as PostgreSQL does.
    """
    alternatives: list[list[Term]] = [[]]
    for match in _TOKENS.finditer(query):
        minus, phrase, bare = match.groups()
        if bare is not None:
            if bare.lower() == "or":
                if alternatives[-1]:
                    alternatives.append([])
                continue
            minus, phrase = ("-", bare[1:]) if bare.startswith("-") and len(bare) > 1 else ("", bare)
        words = tuple(word.lower() for word in _WORD.findall(phrase))
        if words:
            alternatives[-1].append(Term(words=words, negated=bool(minus)))
    return [terms for terms in alternatives if any(not term.negated for term in terms)]


def _term_pattern(term: Term) -> str:
    """A regular expression for the term, for the SQLite fallback: each word starting a word, in order."""
    return r"\b" + r"\W+".join(re.escape(word) for word in term.words)


def _matches(fields: list[str], alternatives: list[list[Term]]) -> Q:
    """Rows where one alternative holds in any of `fields` (the SQLite fallback)."""
    condition = Q(pk__in=[])
    for terms in alternatives:
        each = Q()
        for term in terms:
            found = Q(pk__in=[])
            for name in fields:
                found |= Q(**{f"{name}__iregex": _term_pattern(term)})
            each &= ~found if term.negated else found
        condition |= each
    return condition


def mark_terms(text: str, alternatives: list[list[Term]], *, words: int = HEADLINE_WORDS) -> SafeString:
    """`text` escaped, cut to about `words` words around the first match, with every match marked."""
    patterns = [_term_pattern(term) for terms in alternatives for term in terms if not term.negated]
    if not patterns:
        return escape(text)
    matcher = re.compile("|".join(f"(?:{pattern}\\w*)" for pattern in patterns), re.IGNORECASE)
    first = matcher.search(text)
    start, end = 0, len(text)
    tokens = list(re.finditer(r"\S+", text))
    if len(tokens) > words:
        at = next((n for n, token in enumerate(tokens) if first and token.end() > first.start()), 0)
        begin = max(0, min(at - words // 3, len(tokens) - words))
        start, end = tokens[begin].start(), tokens[begin + words - 1].end()
    cut = text[start:end]
    out, last = [], 0
    for match in matcher.finditer(cut):
        out += [escape(cut[last : match.start()]), f"<mark>{escape(match.group())}</mark>"]
        last = match.end()
    out.append(escape(cut[last:]))
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return mark_safe(prefix + "".join(out) + suffix)  # noqa: S308 (every piece of text is escaped above)


def headline_html(headline: str) -> SafeString:
    """A `ts_headline` result made safe: escaped, with its match markers turned into `<mark>`."""
    escaped = str(escape(headline))
    marked = _MARKED.sub(r"<mark>\1</mark>", escaped)
    return mark_safe(marked.replace(_START, "").replace(_STOP, ""))  # noqa: S308 (escaped above)


# --- The hits ----------------------------------------------------------------------------------


@dataclass
class SearchScope:
    """Who searches, for what, narrowed how. Built by `search_scope`, which checks the filters."""

    user: User
    query: str
    memberships: list[Membership]
    group: int | None = None
    text: int | None = None
    session: Session | None = None
    author: int | None = None
    tag: str | None = None
    kind: str | None = None
    alternatives: list[list[Term]] = field(default_factory=list)

    def wants(self, kind: str) -> bool:
        if self.kind is not None and self.kind != kind:
            return False
        # A note's author and tags narrow to notes: texts and passages have neither.
        return kind in (KIND_NOTE, KIND_REPLY) or (self.author is None and not self.tag)


def search_scope(
    *,
    user: User,
    query: str,
    group: int | None = None,
    text: int | None = None,
    session: Session | None = None,
    author: int | None = None,
    tag: str | None = None,
    kind: str | None = None,
) -> SearchScope:
    """The scope of one search. The caller has checked the session is the user's (`access_session`)."""
    memberships = list(Membership.objects.filter(user=user))
    if group is not None:
        memberships = [one for one in memberships if one.group_id == group]
    return SearchScope(
        user=user,
        query=query,
        memberships=memberships,
        group=group,
        text=text,
        session=session,
        author=author,
        tag=tag.strip().lower().lstrip("#") if tag else None,
        kind=kind,
        alternatives=parse_query(query),
    )


def _search_query(scope: SearchScope) -> SearchQuery:
    return SearchQuery(scope.query, search_type="websearch", config=SEARCH_CONFIG)


class StoredDocument(Expression):
    """The row's stored `to_tsvector('english', body)` (migration readings.0010), GIN-indexed.

    A column the model does not declare (Django must never write it), read from the query's main table.
    """

    output_field = SearchVectorField()

    def __init__(self, model):
        super().__init__()
        self.table = model._meta.db_table

    def as_sql(self, compiler, connection):
        return f"{compiler.quote_name_unless_alias(self.table)}.search_document", []


def _text_vector() -> SearchVector:
    return SearchVector("title", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "author", "source", weight="B", config=SEARCH_CONFIG
    )


def _ranked(queryset: QuerySet, vector, fields: list[str], scope: SearchScope, kind, order) -> QuerySet:
    """`queryset` narrowed to the rows matching the query, as (kind, id, rank, kind order) rows."""
    if uses_full_text_search():
        query = _search_query(scope)
        queryset = queryset.alias(document=vector).filter(document=query).annotate(rank=SearchRank(vector, query))
    else:
        queryset = queryset.filter(_matches(fields, scope.alternatives)).annotate(
            rank=Value(0.0, output_field=FloatField())
        )
    # No ORDER BY inside a part of the union (SQLite refuses it); the union is ordered as a whole.
    return (
        queryset.annotate(hit_kind=kind, hit_id=F("pk"), hit_order=order)
        .order_by()
        .values_list("hit_kind", "hit_id", "rank", "hit_order")
    )


def _text_hits(scope: SearchScope) -> QuerySet:
    texts = Text.objects.filter(group_id__in=[one.group_id for one in scope.memberships])
    if scope.text is not None:
        texts = texts.filter(pk=scope.text)
    if scope.session is not None:
        texts = texts.filter(assignments__session=scope.session).distinct()
    return _ranked(texts, _text_vector(), ["title", "author", "source"], scope, *_kind(KIND_TEXT))


def _passage_hits(scope: SearchScope, session_q: Q | None) -> QuerySet:
    passages = Passage.objects.filter(text__group_id__in=[one.group_id for one in scope.memberships], retired=False)
    if scope.text is not None:
        passages = passages.filter(text_id=scope.text)
    if session_q is not None:
        passages = passages.filter(session_q)
    return _ranked(passages, StoredDocument(Passage), ["body"], scope, *_kind(KIND_PASSAGE))


def _kind(kind: str) -> tuple[Value, Value]:
    return Value(kind), Value(KINDS.index(kind))


def _note_hits(scope: SearchScope, session_q: Q | None) -> QuerySet:
    """Notes and replies, in one part of the union: the visibility rule is planned once."""
    notes = notes_visible_to(scope.user, memberships=scope.memberships).filter(deleted_at__isnull=True)
    if scope.kind in (KIND_NOTE, KIND_REPLY):
        notes = notes.filter(parent__isnull=scope.kind == KIND_NOTE)
    if scope.text is not None:
        notes = notes.filter(passage__text_id=scope.text)
    if session_q is not None:
        notes = notes.filter(session_q)
    if scope.author is not None:
        notes = notes.filter(author_id=scope.author)
    if scope.tag:
        notes = notes.filter(tags__name=scope.tag)
    is_note = Q(parent__isnull=True)
    kind = Case(When(is_note, then=Value(KIND_NOTE)), default=Value(KIND_REPLY))
    order = Case(When(is_note, then=Value(KINDS.index(KIND_NOTE))), default=Value(KINDS.index(KIND_REPLY)))
    return _ranked(notes, StoredDocument(Note), ["body"], scope, kind, order)


def search_hits(scope: SearchScope) -> QuerySet | None:
    """The hits as (kind, id, rank, kind order) rows, unordered; None when nothing can match.

    Nothing matches a query without words, or with only excluded ones.
    """
    if not scope.alternatives or not scope.memberships:
        return None
    passage_q = note_q = None
    if scope.session is not None:
        assignments = list(readings_of(scope.session))
        passage_q = session_passages_q(assignments)
        note_q = session_passages_q(assignments, prefix="passage__")
    parts = []
    if scope.wants(KIND_TEXT):
        parts.append(_text_hits(scope))
    if scope.wants(KIND_PASSAGE):
        parts.append(_passage_hits(scope, passage_q))
    if scope.wants(KIND_NOTE) or scope.wants(KIND_REPLY):
        parts.append(_note_hits(scope, note_q))
    if not parts:
        return None
    first, *rest = parts
    return first.union(*rest, all=True) if rest else first


def search_page(scope: SearchScope, *, page: int, page_size: int) -> tuple[int, list[tuple]]:
    """(how many hits in all, page `page` of the hits, best first). One query: the count rides on the rows.

    The count is 0 for a page past the end (no row carries it).
    """
    hits = search_hits(scope)
    if hits is None:
        return 0, []
    sql, params = hits.query.get_compiler(using=hits.db).as_sql()
    windowed = (
        f"SELECT hit_kind, hit_id, rank, hit_order, COUNT(*) OVER () FROM ({sql}) AS hits "  # noqa: S608 (our SQL)
        "ORDER BY rank DESC, hit_order ASC, hit_id DESC LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(windowed, (*params, page_size, (page - 1) * page_size))
        rows = cursor.fetchall()
    total = rows[0][4] if rows else 0
    return total, [tuple(row[:4]) for row in rows]


# --- The page of results ---------------------------------------------------------------------------


@dataclass
class SearchResult:
    """One hit as a person sees it: where it is, the words around the match, and where to open it."""

    kind: str
    id: int
    rank: float
    group: dict
    text: dict
    headline: SafeString
    passage: dict | None = None
    author: dict | None = None
    tags: list[str] = field(default_factory=list)
    visibility: str | None = None
    reply_to: int | None = None
    created_at: object = None
    # The reader that shows the passage: (session id, whether that session reads one text only).
    reader: tuple[int, bool] | None = None

    @property
    def url(self) -> str:
        if self.passage is None:
            return reverse("text-detail", args=[self.text["id"]])
        position = self.passage["position"]
        if self.reader is not None:
            session_id, single_text = self.reader
            # The reader's row ids: `p-12`, or `t3-p-12` when the session reads several texts.
            fragment = f"p-{position}" if single_text else f"t{self.text['id']}-p-{position}"
            return f"{reverse('session-read', args=[session_id])}#{fragment}"
        return f"{reverse('text-detail', args=[self.text['id']])}#p-{position}"


def _headline(name: str, scope: SearchScope, **options):
    return SearchHeadline(name, _search_query(scope), config=SEARCH_CONFIG, start_sel=_START, stop_sel=_STOP, **options)


def _with_headlines(queryset: QuerySet, name: str, scope: SearchScope, **options) -> QuerySet:
    if uses_full_text_search():
        return queryset.annotate(headline=_headline(name, scope, **options))
    return queryset.annotate(headline=F(name))


def _shown(raw: str, scope: SearchScope) -> SafeString:
    if uses_full_text_search():
        return headline_html(raw)
    return mark_terms(raw, scope.alternatives)


def _passage(pk: int, anchor: str, position: int) -> dict:
    return {"id": pk, "anchor": anchor, "position": position}


def _result(
    scope: SearchScope, kind: str, pk: int, group: tuple[int, str], text: tuple[int, str], headline: str, **details
) -> SearchResult:
    """One hit of `kind`, in its group (id, name) and text (id, title), with its headline shown; ranked later."""
    return SearchResult(
        kind=kind,
        id=pk,
        rank=0.0,
        group={"id": group[0], "name": group[1]},
        text={"id": text[0], "title": text[1]},
        headline=_shown(headline, scope),
        **details,
    )


def search_results(scope: SearchScope, hits: list[tuple]) -> list[SearchResult]:
    """The page's hits with their details and headlines, in the hits' order. Four queries at most.

    Notes are read again through the visibility rule, so a hit can only ever be a note the
    person may see.
    """
    wanted: dict[str, list[int]] = {}
    for kind, pk, *_rest in hits:
        wanted.setdefault(kind, []).append(pk)
    found: dict[tuple[str, int], SearchResult] = {}
    if ids := wanted.get(KIND_TEXT):
        rows = _with_headlines(Text.objects.filter(pk__in=ids), "title", scope, highlight_all=True).values(
            "pk", "title", "headline", "group_id", "group__name"
        )
        for row in rows:
            found[KIND_TEXT, row["pk"]] = _result(
                scope,
                KIND_TEXT,
                row["pk"],
                (row["group_id"], row["group__name"]),
                (row["pk"], row["title"]),
                row["headline"],
            )
    options = {"max_words": HEADLINE_WORDS, "min_words": HEADLINE_WORDS // 2}
    if ids := wanted.get(KIND_PASSAGE):
        rows = _with_headlines(Passage.objects.filter(pk__in=ids), "body", scope, **options).values(
            "pk", "anchor", "position", "headline", "text_id", "text__title", "text__group_id", "text__group__name"
        )
        for row in rows:
            group, text = (row["text__group_id"], row["text__group__name"]), (row["text_id"], row["text__title"])
            found[KIND_PASSAGE, row["pk"]] = _result(
                scope,
                KIND_PASSAGE,
                row["pk"],
                group,
                text,
                row["headline"],
                passage=_passage(row["pk"], row["anchor"], row["position"]),
            )
    note_ids = wanted.get(KIND_NOTE, []) + wanted.get(KIND_REPLY, [])
    if note_ids:
        notes = (
            notes_visible_to(scope.user, memberships=scope.memberships)
            .filter(pk__in=note_ids)
            .select_related("author", "passage__text__group")
        )
        notes = _with_headlines(notes, "body", scope, **options).prefetch_related("tags")
        for note in notes:
            kind = KIND_NOTE if note.parent_id is None else KIND_REPLY
            passage, text = note.passage, note.passage.text
            found[kind, note.pk] = _result(
                scope,
                kind,
                note.pk,
                (text.group_id, text.group.name),
                (text.pk, text.title),
                note.headline,
                passage=_passage(passage.pk, passage.anchor, passage.position),
                author={"id": note.author_id, "name": note.author.name},
                tags=[tag.name for tag in note.tags.all()],
                visibility=note.visibility,
                reply_to=note.parent_id,
                created_at=note.created_at,
            )
    results = []
    for kind, pk, rank, *_rest in hits:
        if (result := found.get((kind, pk))) is not None:
            result.rank = rank
            results.append(result)
    _attach_readers(scope, [result for result in results if result.passage is not None])
    return results


def _attach_readers(scope: SearchScope, results: list[SearchResult]) -> None:
    """Open each passage in a reader: the searched session's, else the next session reading it, else the latest.

    Only sessions the person may open (no drafts unless they lead the group, no cancelled ones). One query.
    """
    if not results:
        return
    sessions = sessions_for_user(scope.user).exclude(status=SessionStatus.CANCELLED)
    rows = list(
        ReadingAssignment.objects.filter(
            session__in=sessions, text_id__in={result.text["id"] for result in results}
        ).values_list(
            "session_id",
            "session__starts_at",
            "text_id",
            "start_passage__position",
            "end_passage__position",
            Coalesce(_texts_read_by_session(), Value(1), output_field=IntegerField()),
        )
    )
    now = timezone.now()
    for result in results:
        position = result.passage["position"]
        readers = [
            (session_id, starts_at, texts == 1)
            for session_id, starts_at, text_id, first, last, texts in rows
            if text_id == result.text["id"] and first <= position <= last
        ]
        if not readers:
            continue
        chosen = None
        if scope.session is not None:
            chosen = next((one for one in readers if one[0] == scope.session.pk), None)
        if chosen is None:
            upcoming = sorted((one for one in readers if one[1] >= now), key=lambda one: one[1])
            chosen = upcoming[0] if upcoming else max(readers, key=lambda one: one[1])
        result.reader = (chosen[0], chosen[2])


def _texts_read_by_session() -> Subquery:
    """How many texts the assignment's session reads (its reader's passage ids depend on it)."""
    counts = (
        ReadingAssignment.objects.filter(session_id=OuterRef("session_id"))
        .order_by()
        .values("session_id")
        .annotate(texts=Count("text_id", distinct=True))
        .values("texts")
    )
    return Subquery(counts, output_field=IntegerField())
