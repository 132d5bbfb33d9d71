"""Matching lost-item reports and found items (失物招领配对). Pure and deterministic.

A pair (report, item) scores the sum of its evidence, each kind with a sign
and a weight in :class:`Weights`:

- description: BM25 over the open pool (items and reports), the report's
  terms against the item's name, description and hidden features (item
  names weigh more). Words are compared after normalisation and the
  lead's vocabulary (:mod:`services.lost_and_found.lexicon`); the idf is
  smoothed so a pool of five phones does not make every word rare;
- place: the same place (names and aliases of the gazetteer,
  :mod:`services.lost_and_found.gazetteer`), a neighbouring place, or a place
  the visitor's account mentions;
- time: nothing inside the loss window; a penalty growing with each hour an
  item was found before it (gently for the first hours: visitors misremember)
  and, much more slowly, with the time after it (items are found days later);
- category: the same, a related (身份证 filed as document or card), a loose
  (``other``) or an unrelated one;
- colours and brands the two sides name that contradict each other.

Nothing is cut off: the time window and the term and place indexes of
:class:`MatchPool` only decide which cases get scored, so a command costs
what the open cases near it cost. Reasons carry a stable code and an English
text; they never show a hidden feature's detail ("a hidden feature agrees").
"""
from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import math
import os
from dataclasses import dataclass, field

from sortedcontainers import SortedList

from services.lost_and_found.gazetteer import ELSEWHERE, NEAR, SAME, Gazetteer, load_gazetteer
from services.lost_and_found.lexicon import NONE, Lexicon, Terms, display, load_lexicon, normalise

ITEM, REPORT = "item", "report"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_PLACES_FILE = os.path.join(ROOT, "deploy", "places.yaml")
DEFAULT_SYNONYMS_FILE = os.path.join(ROOT, "deploy", "synonyms.yaml")
_HOUR = 3600.0


# -- what matching is given ----------------------------------------------------------
@dataclass(frozen=True)
class FoundItemCase:
    item_id: str
    item_name: str
    category: str
    description: str
    found_place: str
    found_at: dt.datetime
    hidden_features: tuple = field(default=(), repr=False)  # ((label, detail), ...): for matching, never shown


@dataclass(frozen=True)
class LostReportCase:
    report_id: str
    item_name: str
    category: str
    description: str
    features: str
    lost_place: str
    lost_from: dt.datetime
    lost_until: dt.datetime


@dataclass(frozen=True)
class Weights:
    """Every weight and shape of the score, in one place (see the module's docstring)."""

    name: float = 1.5               # item-name words against description words
    hidden: float = 1.0             # hidden-feature words against description words
    k1: float = 1.2                 # BM25 saturation
    b: float = 0.25                 # BM25 length normalisation (short texts: a little)
    prior_cases: float = 20.0       # idf smoothing: as if the pool had this many more cases
    same_place: float = 2.5
    near_place: float = 1.5
    mentioned_place: float = 1.0
    same_category: float = 1.5
    related_category: float = 0.0
    loose_category: float = -0.5
    other_category: float = -3.0
    colour_differs: float = -2.5
    brand_differs: float = -3.0
    absent_differs: float = -2.0    # one side says "without" what the other has (没有壳 / 透明壳)
    early_grace_hours: float = 2.0  # found before the window: per hour for the first hours ...
    early_grace_per_hour: float = 0.5
    early_per_hour: float = 1.0     # ... then per hour, up to
    early_cap: float = 6.0
    late_per_log: float = 0.5       # found after the window: this times ln(1 + hours / late_hours)
    late_hours: float = 6.0
    hidden_reason_at: float = 1.0   # hidden-feature evidence at least this much earns its reason
    least: float = 0.0              # a pair whose evidence against outweighs the evidence for is not suggested
    score_scale: float = 10.0       # displayed score: 100 * (1 - exp(-raw / score_scale))


@dataclass(frozen=True)
class Window:
    """Which cases are scored at all: items found from ``before`` the loss
    window began to ``after`` it ended (a pool larger than ``exact_up_to``
    in that window is narrowed by the term and place indexes to at most
    ``scored`` candidates)."""

    before: dt.timedelta = dt.timedelta(hours=48)
    after: dt.timedelta = dt.timedelta(days=30)
    long_loss: dt.timedelta = dt.timedelta(days=3)    # reports with longer windows are checked apart
    exact_up_to: int = 300
    scored: int = 100
    common_share: float = 0.05      # a term in more of the pool than this share,
    common_cap: int = 300           # or in more cases than this, does not find candidates
    place_window: dt.timedelta = dt.timedelta(days=1)


# -- what matching answers ---------------------------------------------------------------
@dataclass(frozen=True)
class Reason:
    code: str
    text: str

    def __str__(self) -> str:
        return f"{self.code}: {self.text}"


@dataclass(frozen=True)
class Suggestion:
    id: str
    kind: str                       # ITEM or REPORT
    score: int                      # 0-100, for display; the order follows ``raw``
    raw: float
    reasons: tuple = ()


@dataclass(frozen=True)
class Profile:
    """A case as matching keeps it: analysed once when it enters the pool."""

    id: str
    kind: str
    category: str
    place: str                      # resolved place key
    place_text: str
    start: float                    # POSIX seconds: found_at, or the loss window
    end: float
    terms: dict = field(repr=False)  # term -> weight (an item's include its hidden features': not in a repr)
    visible: frozenset              # terms a clerk may be shown (not from hidden features only)
    colours: frozenset = field(repr=False)      # an item's: with its hidden features'
    visible_colours: frozenset = frozenset()
    brands: frozenset = field(default=frozenset(), repr=False)
    visible_brands: frozenset = frozenset()
    present: frozenset = frozenset()    # what the (visible) text says is there
    absent: frozenset = frozenset()     # and what it says is not
    mentioned: frozenset = frozenset()  # places a report's account names
    has_hidden: bool = False
    length: float = 0.0                 # sum of the term weights (BM25's document length)
    colour_reach: frozenset = frozenset()   # its colours and the colours near them

    def __post_init__(self):
        object.__setattr__(self, "length", sum(self.terms.values()))


def _merge(*parts: tuple[Terms, float]) -> dict:
    merged: dict[str, float] = {}
    for terms, factor in parts:
        for term, weight in terms.weights.items():
            merged[term] = max(merged.get(term, 0.0), weight * factor)
    return merged


def _duration(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * (not days and bool(minutes))
    return " ".join(parts) or "0 min"


class Matcher:
    """Analyses cases and scores pairs, with one lexicon, gazetteer and set of weights."""

    def __init__(self, lexicon: Lexicon, gazetteer: Gazetteer, weights: Weights = Weights(),
                 window: Window = Window(), fingerprint: str | None = None):
        self.lexicon, self.gazetteer, self.weights, self.window = lexicon, gazetteer, weights, window
        # what its profiles depend on (see load_matcher): a persisted profile is used only
        # by a matcher with the same fingerprint
        self.fingerprint = fingerprint

    def prepare(self) -> None:
        """Load what analysing needs (jieba's dictionary) before the first case does."""
        self.lexicon.prepare()

    @property
    def prepared(self) -> bool:
        return self.lexicon.prepared

    # -- profiles ----------------------------------------------------------------------------
    def item_profile(self, case: FoundItemCase) -> Profile:
        lex, w = self.lexicon, self.weights
        name, description = lex.terms(case.item_name), lex.terms(case.description)
        # a hidden feature "挂件: 无" says the item has no 挂件
        hidden = lex.terms("；".join(f"{NONE}{label}" if lex.canonical(normalise(detail)) == {NONE} else detail
                                    for label, detail in case.hidden_features))
        visible_terms = _merge((name, w.name), (description, 1.0))
        terms = _merge((name, w.name), (description, 1.0), (hidden, w.hidden))
        at = case.found_at.timestamp()
        return Profile(case.item_id, ITEM, case.category, self.gazetteer.resolve(case.found_place), case.found_place,
                       at, at, terms, frozenset(visible_terms), name.colours | description.colours | hidden.colours,
                       name.colours | description.colours, name.brands | description.brands | hidden.brands,
                       name.brands | description.brands, name.present | description.present,
                       name.absent | description.absent, has_hidden=bool(hidden.weights))

    def report_profile(self, case: LostReportCase) -> Profile:
        lex, w = self.lexicon, self.weights
        name, description, features = lex.terms(case.item_name), lex.terms(case.description), lex.terms(case.features)
        terms = _merge((name, w.name), (description, 1.0), (features, 1.0))
        colours = name.colours | description.colours | features.colours
        brands = name.brands | description.brands | features.brands
        place = self.gazetteer.resolve(case.lost_place)
        mentioned = self.gazetteer.mentioned(f"{case.description} {case.features}") - {place}
        return Profile(case.report_id, REPORT, case.category, place, case.lost_place, case.lost_from.timestamp(),
                       case.lost_until.timestamp(), terms, frozenset(terms), colours, colours, brands, brands,
                       name.present | description.present | features.present,
                       name.absent | description.absent | features.absent, mentioned,
                       colour_reach=lex.colour_reach(colours))

    # -- evidence: each returns its value and, when asked to explain, its reason ---------------
    def place_evidence(self, report: Profile, item: Profile, explain: bool = True) -> tuple[float, Reason | None]:
        w, gaz = self.weights, self.gazetteer
        relation = gaz.relation(report.place, item.place)
        if relation == SAME:
            if not explain:
                return w.same_place, None
            same = report.place_text.strip() == item.place_text.strip()
            return w.same_place, Reason("same_place", f"same place: {gaz.name(item.place)}" + (
                "" if same else f" ({item.place_text} / {report.place_text})"))
        if relation == NEAR:
            return w.near_place, explain and Reason(
                "nearby_place", f"{gaz.name(item.place)} is next to {gaz.name(report.place)}") or None
        if item.place in report.mentioned:
            return w.mentioned_place, explain and Reason(
                "mentioned_place", f"the report mentions {gaz.name(item.place)}") or None
        assert relation == ELSEWHERE
        return 0.0, None

    def time_evidence(self, report: Profile, item: Profile, explain: bool = True) -> tuple[float, Reason | None]:
        w = self.weights
        if item.start < report.start:
            early = report.start - item.start
            hours = early / _HOUR
            penalty = min(hours, w.early_grace_hours) * w.early_grace_per_hour \
                + max(0.0, hours - w.early_grace_hours) * w.early_per_hour
            return -min(penalty, w.early_cap), explain and Reason(
                "found_early", f"found {_duration(early)} before the loss window") or None
        if item.start > report.end:
            late = item.start - report.end
            return -w.late_per_log * math.log1p(late / _HOUR / w.late_hours), explain and Reason(
                "found_late", f"found {_duration(late)} after the loss window") or None
        return 0.0, explain and Reason("in_window", "found within the loss window") or None

    def category_evidence(self, report: Profile, item: Profile, explain: bool = True) -> tuple[float, Reason | None]:
        w = self.weights
        relation = self.lexicon.category_relation(report.category, item.category)
        pair = f"{report.category} / {item.category}" if explain else ""
        if relation == "same":
            return w.same_category, explain and Reason("same_category", f"same category: {item.category}") or None
        if relation == "related":
            return w.related_category, explain and Reason("related_category", f"related categories: {pair}") or None
        if relation == "loose":
            return w.loose_category, explain and Reason("loose_category",
                                                        f"one side is filed as other: {pair}") or None
        return w.other_category, explain and Reason("other_category", f"different categories: {pair}") or None

    def colour_evidence(self, report: Profile, item: Profile, explain: bool = True) -> tuple[float, Reason | None]:
        """Only colours the item shows can contradict (hidden features mostly
        describe contents), and only when none of its colours agrees."""
        if item.visible_colours and report.colours and not report.colour_reach & item.colours:
            return self.weights.colour_differs, explain and Reason(
                "colour_differs", f"colours differ: report {', '.join(sorted(report.colours))}; "
                                  f"item {', '.join(sorted(item.visible_colours))}") or None
        return 0.0, None

    def brand_evidence(self, report: Profile, item: Profile, explain: bool = True) -> tuple[float, Reason | None]:
        """Brands as colours: shown by the item, and none in common."""
        if item.visible_brands and report.brands and not report.brands & item.brands:
            return self.weights.brand_differs, explain and Reason(
                "brand_differs", f"brands differ: report {', '.join(sorted(report.brands))}; "
                                 f"item {', '.join(sorted(item.visible_brands))}") or None
        return 0.0, None

    def absence_evidence(self, report: Profile, item: Profile, explain: bool = True) -> tuple[float, Reason | None]:
        """The report says "without" what the item visibly has (没有壳 / 透明壳).
        Not the other way round: a visitor's account also names what they
        still have (眼镜盒没丢), an item's description only what is there."""
        missing = report.absent & item.present
        if not missing:
            return 0.0, None
        return self.weights.absent_differs, explain and Reason(
            "absent_differs", f"the report says without {', '.join(sorted(map(display, missing)))}; "
                              "the item has it") or None

    def text_evidence(self, report: Profile, item: Profile, stats: "PoolStats",
                      explain: bool = True) -> tuple[float, Reason | None, Reason | None]:
        """BM25 of the report's terms in the item: (value, the shared visible
        words, whether hidden features agree)."""
        w = self.weights
        norm = w.k1 * (1 - w.b + w.b * item.length / stats.average_item_length)
        total = hidden = 0.0
        shown = []
        for term in sorted(report.terms.keys() & item.terms.keys()):
            tf = item.terms[term]
            part = report.terms[term] * stats.idf(term) * tf * (w.k1 + 1) / (tf + norm)
            total += part
            if not explain:
                continue
            if term in item.visible:
                if min(report.terms[term], tf) >= 1.0:  # words, not characters
                    shown.append((part, term))
            else:
                hidden += part
        if not explain:
            return total, None, None
        shown.sort(key=lambda pair: (-pair[0], pair[1]))
        words = Reason("similar_description", "description agrees: " + ", ".join(
            display(term) for _part, term in shown[:5])) if shown else None
        secret = Reason("hidden_feature_agrees", "a hidden feature agrees with the report") \
            if item.has_hidden and hidden >= w.hidden_reason_at else None
        return total, words, secret

    def quick_score(self, report: Profile, item: Profile, stats: "PoolStats") -> float:
        """:meth:`score` without reasons, for ranking many candidates (the
        same sum; a test holds the two together)."""
        w = self.weights
        norm = w.k1 * (1 - w.b + w.b * item.length / stats.average_item_length)
        raw, report_terms, item_terms, idf = 0.0, report.terms, item.terms, stats.idf
        for term in sorted(report_terms.keys() & item_terms.keys()):
            tf = item_terms[term]
            raw += report_terms[term] * idf(term) * tf * (w.k1 + 1) / (tf + norm)
        for evidence in (self.place_evidence, self.time_evidence, self.category_evidence, self.colour_evidence,
                         self.brand_evidence, self.absence_evidence):  # the order of score(): the same float sum
            raw += evidence(report, item, False)[0]
        return round(raw, 6)

    def score(self, report: Profile, item: Profile, stats: "PoolStats",
              explain: bool = True) -> tuple[float, tuple]:
        """The pair's raw score (rounded, so sums in another order rank alike)
        and, when asked to explain, its reasons."""
        text, *text_reasons = self.text_evidence(report, item, stats, explain)
        raw = text
        reasons = []
        for value, reason in (self.place_evidence(report, item, explain), self.time_evidence(report, item, explain),
                              self.category_evidence(report, item, explain)):
            raw += value
            reasons.append(reason)
        reasons.extend(text_reasons)
        for value, reason in (self.colour_evidence(report, item, explain), self.brand_evidence(report, item, explain),
                              self.absence_evidence(report, item, explain)):
            raw += value
            reasons.append(reason)
        return round(raw, 6), tuple(reason for reason in reasons if reason is not None)

    def display_score(self, raw: float) -> int:
        return int(round(100 * (1 - math.exp(-max(raw, 0.0) / self.weights.score_scale))))


@dataclass
class PoolStats:
    """The pool as BM25 sees it at one moment (``df`` is the pool's own, live)."""

    cases: int
    df: dict
    average_item_length: float
    prior: float
    _idf: dict = field(default_factory=dict, compare=False, repr=False)

    def idf(self, term: str) -> float:
        value = self._idf.get(term)
        if value is None:
            value = self._idf[term] = math.log((self.cases + self.prior + 1) / (self.df.get(term, 0) + 1))
        return value


# -- the open pool -----------------------------------------------------------------------------
@dataclass
class _Side:
    """One kind of case in the pool, indexed by time, term and place."""

    profiles: dict = field(default_factory=dict)
    postings: dict = field(default_factory=dict)       # term -> set of ids
    by_time: SortedList = field(default_factory=SortedList)   # (start, id)
    by_place: dict = field(default_factory=dict)       # place key -> SortedList of (start, id)
    long: set = field(default_factory=set)             # reports with a long loss window
    length: float = 0.0


class MatchPool:
    """Open reports and unclaimed items, kept current one case at a time.
    What a suggestion costs follows the open cases near the subject (in
    time, words and place), not the history."""

    def __init__(self, matcher: Matcher):
        self.matcher = matcher
        self._sides = {ITEM: _Side(), REPORT: _Side()}
        self._df: dict[str, int] = {}
        window = matcher.window
        self._before, self._after = window.before.total_seconds(), window.after.total_seconds()
        self._long_loss, self._place_span = window.long_loss.total_seconds(), window.place_window.total_seconds()

    def __len__(self) -> int:
        return sum(len(side.profiles) for side in self._sides.values())

    def __contains__(self, key) -> bool:
        kind, case_id = key
        return case_id in self._sides[kind].profiles

    def profile(self, kind: str, case_id: str) -> Profile | None:
        return self._sides[kind].profiles.get(case_id)

    def add_item(self, case: FoundItemCase) -> None:
        self.add(self.matcher.item_profile(case))

    def add_report(self, case: LostReportCase) -> None:
        self.add(self.matcher.report_profile(case))

    def add(self, profile: Profile) -> None:
        side = self._sides[profile.kind]
        if profile.id in side.profiles:
            self.remove(profile.kind, profile.id)
        side.profiles[profile.id] = profile
        for term in profile.terms:
            side.postings.setdefault(term, set()).add(profile.id)
            self._df[term] = self._df.get(term, 0) + 1
        entry = (profile.start, profile.id)
        side.by_time.add(entry)
        side.by_place.setdefault(profile.place, SortedList()).add(entry)
        if profile.end - profile.start > self._long_loss:
            side.long.add(profile.id)
        side.length += profile.length

    def remove(self, kind: str, case_id: str) -> Profile | None:
        side = self._sides[kind]
        profile = side.profiles.pop(case_id, None)
        if profile is None:
            return None
        for term in profile.terms:
            ids = side.postings[term]
            ids.discard(case_id)
            if not ids:
                del side.postings[term]
            self._df[term] -= 1
            if not self._df[term]:
                del self._df[term]
        entry = (profile.start, profile.id)
        side.by_time.remove(entry)
        places = side.by_place[profile.place]
        places.remove(entry)
        if not places:
            del side.by_place[profile.place]
        side.long.discard(case_id)
        side.length -= profile.length
        return profile

    def stats(self) -> PoolStats:
        items = self._sides[ITEM]
        average = items.length / len(items.profiles) if items.profiles else 1.0
        return PoolStats(len(self), self._df, max(average, 1.0), self.matcher.weights.prior_cases)

    # -- candidates ----------------------------------------------------------------------------
    def _span(self, subject: Profile) -> tuple[float, float]:
        """The start times of the other side's cases that may match."""
        if subject.kind == REPORT:
            return subject.start - self._before, subject.end + self._after
        return subject.start - self._after - self._long_loss, subject.start + self._before

    def _fits(self, subject: Profile, other: Profile) -> bool:
        report, item = (subject, other) if subject.kind == REPORT else (other, subject)
        return report.start - self._before <= item.start <= report.end + self._after

    @staticmethod
    def _range(entries: SortedList, low: float, high: float):
        return entries.irange((low, ""), (high, "\uffff"))

    def candidates(self, subject: Profile) -> list[Profile]:
        other = self._sides[ITEM if subject.kind == REPORT else REPORT]
        window = self.matcher.window
        low, high = self._span(subject)
        start = other.by_time.bisect_left((low, ""))
        stop = other.by_time.bisect_right((high, "\uffff"))
        long = [other.profiles[i] for i in sorted(other.long)]
        if stop - start <= window.exact_up_to:
            found = [other.profiles[case_id] for _start, case_id in other.by_time[start:stop]]
            return [p for p in {p.id: p for p in found + long}.values() if self._fits(subject, p)]
        return self._narrowed(subject, other, long)

    def _narrowed(self, subject: Profile, other: _Side, long: list) -> list[Profile]:
        """A busy window: the cases sharing a term that is not common, or at
        the same or a neighbouring place within a day, best first by those
        terms plus place and time evidence."""
        window, matcher = self.matcher.window, self.matcher
        stats = self.stats()
        common = max(8, min(window.common_share * stats.cases, window.common_cap))
        partial: dict[str, float] = {}
        for term in sorted(subject.terms):
            ids = other.postings.get(term)
            if not ids or self._df.get(term, 0) > common:
                continue
            weight = subject.terms[term] * stats.idf(term)
            for case_id in ids:
                partial[case_id] = partial.get(case_id, 0.0) + weight * other.profiles[case_id].terms[term]
        low, high = subject.start - self._place_span, subject.end + self._place_span
        for place in sorted({subject.place} | matcher.gazetteer.neighbours(subject.place)):
            entries = other.by_place.get(place)
            if entries is not None:
                for _start, case_id in self._range(entries, low, high):
                    partial.setdefault(case_id, 0.0)
        for profile in long:
            partial.setdefault(profile.id, 0.0)
        fitting = []
        for case_id, score in partial.items():
            candidate = other.profiles[case_id]
            if not self._fits(subject, candidate):
                continue
            report, item = (subject, candidate) if subject.kind == REPORT else (candidate, subject)
            score += matcher.place_evidence(report, item, False)[0] + matcher.time_evidence(report, item, False)[0]
            fitting.append((-score, case_id))
        return [other.profiles[case_id] for _score, case_id in heapq.nsmallest(window.scored, fitting)]

    # -- suggestions ---------------------------------------------------------------------------
    def suggest(self, kind: str, case_id: str, limit: int = 10) -> list[Suggestion]:
        """The other side's open cases for one open case, best first, those
        with more evidence for than against; [] for a case not in the pool."""
        subject = self.profile(kind, case_id)
        if subject is None:
            return []
        matcher, stats = self.matcher, self.stats()
        ranked = []
        for candidate in self.candidates(subject):
            report, item = (subject, candidate) if kind == REPORT else (candidate, subject)
            raw = matcher.quick_score(report, item, stats)
            if raw > matcher.weights.least:
                ranked.append((-raw, candidate.id, candidate))
        ranked.sort(key=lambda entry: entry[:2])
        suggestions = []
        for _raw, _id, candidate in ranked[:limit]:  # reasons only for what is shown
            report, item = (subject, candidate) if kind == REPORT else (candidate, subject)
            raw, reasons = matcher.score(report, item, stats)
            suggestions.append(Suggestion(candidate.id, candidate.kind, matcher.display_score(raw), raw, reasons))
        return suggestions


def load_matcher(places_file: str | None = None, synonyms_file: str | None = None,
                 weights: Weights = Weights(), window: Window = Window()) -> Matcher:
    """A matcher over a gazetteer and a vocabulary file (relative paths from
    the repository root; defaults: ``deploy/places.yaml``, ``deploy/synonyms.yaml``).
    The files are read, and jieba's dictionary built, once per process."""
    def path(given, default):
        given = given or default
        return given if os.path.isabs(given) else os.path.join(ROOT, given)

    places, synonyms = path(places_file, DEFAULT_PLACES_FILE), path(synonyms_file, DEFAULT_SYNONYMS_FILE)
    gazetteer = load_gazetteer(places)
    lexicon = load_lexicon(synonyms, gazetteer.words())
    return Matcher(lexicon, gazetteer, weights, window, _fingerprint(places, synonyms, weights, window))


def _fingerprint(places: str, synonyms: str, weights: Weights, window: Window) -> str:
    """A digest of everything a profile is made from: the two files, the
    weights and window, and the analysing code itself (this module, the
    lexicon's and the gazetteer's), so a changed vocabulary or a new release
    never reuses an old analysis."""
    digest = hashlib.sha256(repr((weights, window)).encode())
    here = os.path.dirname(os.path.abspath(__file__))
    for name in (places, synonyms, *(os.path.join(here, module) for module in
                                      ("matching.py", "lexicon.py", "gazetteer.py"))):
        with open(name, "rb") as source:
            digest.update(source.read())
    return digest.hexdigest()[:16]


def rank(subject, candidates, matcher: Matcher, limit: int = 10) -> list[Suggestion]:
    """Rank ``candidates`` (cases of the other kind) for ``subject`` in a pool
    of just these cases: the pure form of :meth:`MatchPool.suggest`."""
    pool = MatchPool(matcher)
    for case in (subject, *candidates):
        pool.add_item(case) if isinstance(case, FoundItemCase) else pool.add_report(case)
    kind = ITEM if isinstance(subject, FoundItemCase) else REPORT
    return pool.suggest(kind, subject.item_id if kind == ITEM else subject.report_id, limit)
