"""Desk text as matching reads it: normalised, segmented and mapped onto the
vocabulary a lead keeps (``deploy/synonyms.yaml``). Pure and deterministic.

:func:`normalise` folds the ways one word gets typed: NFKC (full-width
``ｉＰｈｏｎｅ１５`` is ``iphone15``), lower case, traditional to simplified
Chinese with Taiwan phrases (OpenCC ``tw2sp``: 錢包 is 钱包).

:class:`Lexicon` turns a text into :class:`Terms`: jieba's words, each
mapped to its canonical form (移动电源 is 充电宝; a 车钥匙 is also a 钥匙),
the dictionary words inside a word at half weight (search mode: 身份证 also
yields 身份), the characters of words the vocabulary does not know at half
weight (小黄鸭 and 黄色小鸭 share 黄 and 鸭), words in quotes at double weight
(markings: 刻着'LY'), numbers apart from the letters around them (``mate60``
is ``mate 60``), what the text says is missing (没有壳), and the colours and
brands it names.

jieba loads its prefix dictionary once per process (about a second); each
:class:`Lexicon` adds its words to a copy of it, and :func:`load_lexicon`
keeps one lexicon per file.
"""
from __future__ import annotations

import functools
import gc
import logging
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import opencc
import yaml

if TYPE_CHECKING:
    import jieba


@functools.lru_cache(maxsize=1)
def _jieba():
    """jieba, imported on first use: with the pkg_resources it imports, about
    70 ms of every start of a service that only may segment later."""
    with warnings.catch_warnings():
        # jieba 0.42 imports pkg_resources, which announces its deprecation on stderr
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        import jieba
    jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict..." lines go to stderr otherwise
    return jieba


BRAND, COLOUR = "@", "#"            # prefixes of brand and colour terms; kinds and words are plain
NONE = "无"                          # the canonical "without" of the vocabulary's words (没有, 不带, ...)
UNIGRAM_WEIGHT = 0.5                # a shared character says less than a shared word,
INNER_WEIGHT = 0.5                  # and so does a word inside a longer one (圆柱 in 圆柱形)
MARKING_WEIGHT = 2.0                # words in quotes are markings (刻着'LY', 写着'豆豆'): they identify
_QUOTED = re.compile("|".join(f"{re.escape(a)}([^{re.escape(b)}]{{1,40}}){re.escape(b)}"
                              for a, b in ("''", '""', "“”", "‘’", "「」", "『』")))
_USER_WORD_FREQ = 50000             # jieba keeps a vocabulary word whole (its common words are ~10^4-10^5)
_MODIFIERS = "深浅淡亮暗"            # 深蓝色 is blue
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORDLIKE = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")
_HYPHEN_IN_WORD = re.compile(r"(?<=[a-z])[-'](?=[a-z])")
_SPACES = re.compile(r"\s+")
_NUMERALS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_NUMERAL_TOKEN = re.compile(r"^([零〇一二两三四五六七八九十百千万]+)(多|余|来)?([张把个只件元块厘米克副双支本台部串条对]?)$")

_converter = opencc.OpenCC("tw2sp")


def normalise(text: str) -> str:
    """NFKC, lower case, simplified Chinese, single spaces."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return _SPACES.sub(" ", _converter.convert(text)).strip()


def _compact(word: str) -> str:
    """A Latin name as one token: ``ray-ban`` and ``power bank`` are ``rayban``, ``powerbank``."""
    return _HYPHEN_IN_WORD.sub("", word).replace(" ", "")


def chinese_number(token: str) -> str | None:
    """``三千`` -> ``3000``, ``二十`` -> ``20``, ``两张`` -> ``2``; None when not a numeral."""
    match = _NUMERAL_TOKEN.match(token)
    if match is None or (len(match[1]) == 1 and match[1] in _UNITS):
        return None
    total, digit, section = 0, None, 0
    for char in match[1]:
        if char in _NUMERALS:
            digit = _NUMERALS[char]
        elif char == "万":
            section = (section + (digit or 0)) * 10000
            total, section, digit = total + section, 0, None
        else:
            section += (1 if digit is None else digit) * _UNITS[char]
            digit = None
    return str(total + section + (digit or 0))


@dataclass(frozen=True)
class Terms:
    """What a text says, as matching compares it: term weights (words 1,
    characters :data:`UNIGRAM_WEIGHT`), colour ids and brand ids."""

    weights: dict = field(default_factory=dict)
    colours: frozenset = frozenset()
    brands: frozenset = frozenset()
    present: frozenset = frozenset()    # what the text says is there (terms and head characters)
    absent: frozenset = frozenset()     # what it says is not (无壳: 壳)


def display(term: str) -> str:
    """A term as a clerk reads it: ``@huawei`` is ``huawei``, ``#black`` is ``black``."""
    return term[1:] if term[:1] in (BRAND, COLOUR) else term


class Lexicon:
    """The vocabulary (kinds, is_a, words, brands, colours, stopwords) and a
    jieba tokenizer that knows its words and the gazetteer's place names."""

    def __init__(self, vocabulary: dict, extra_words=()):
        vocabulary = vocabulary or {}
        self._canonical: dict[str, set] = {}
        self._latin_phrases: dict[str, str] = {}
        self.colours: dict[str, frozenset] = {}
        for section in ("kinds", "words"):
            for canonical, others in (vocabulary.get(section) or {}).items():
                for word in (canonical, *(others or ())):
                    self._add(word, normalise(str(canonical)))
        for brand, names in (vocabulary.get("brands") or {}).items():
            for word in (brand, *(names or ())):
                self._add(word, BRAND + normalise(str(brand)))
        colour_words: dict[str, set] = {}
        for colour, names in (vocabulary.get("colours") or {}).items():
            for word in (colour, *(names or ())):
                colour_words.setdefault(_compact(normalise(str(word))), set()).add(str(colour))
        self.colours = {word: frozenset(ids) for word, ids in colour_words.items()}
        self._colour_chars = {word: ids for word, ids in self.colours.items() if len(word) == 1}
        self.is_a = {normalise(str(kind)): tuple(normalise(str(g)) for g in general or ())
                     for kind, general in (vocabulary.get("is_a") or {}).items()}
        near = {(str(a), str(b)) for a, b in (vocabulary.get("colour_near") or ())}
        self.colour_near = frozenset(near | {(b, a) for a, b in near})
        related = {(str(a), str(b)) for a, b in (vocabulary.get("related_categories") or ())}
        self.related_categories = frozenset(related | {(b, a) for a, b in related})
        self.loose_categories = frozenset(str(c) for c in vocabulary.get("loose_categories") or ())
        self.stopwords = frozenset(normalise(str(w)) for w in vocabulary.get("stopwords") or ())
        self.negations = tuple(sorted((w for w, terms in self._canonical.items() if terms == {NONE} and _CJK.match(w)),
                                      key=len, reverse=True))
        self._phrase = re.compile("|".join(re.escape(p) for p in sorted(self._latin_phrases, key=len, reverse=True))) \
            if self._latin_phrases else None
        self._user_words = tuple(word for word in sorted({*self._canonical, *self.colours,
                                                          *(normalise(w) for w in extra_words)})
                                 if len(word) > 1 and _CJK.search(word))
        self._segmenter = None

    @property
    def _tokenizer(self) -> jieba.Tokenizer:
        """jieba with our words added, made on first use (loading jieba's
        prefix dictionary takes about a second: a service answers before)."""
        if self._segmenter is None:
            tokenizer = _tokenizer()
            for word in self._user_words:
                tokenizer.add_word(word, freq=_USER_WORD_FREQ)
            self._segmenter = tokenizer
        return self._segmenter

    def prepare(self) -> None:
        """Make the segmenter now (a service's warm-up, before a case needs it)."""
        self._tokenizer  # noqa: B018 (the property makes it)

    @property
    def prepared(self) -> bool:
        """True once the segmenter is made (analysing a text costs no start-up)."""
        return self._segmenter is not None

    def _add(self, word, canonical: str) -> None:
        normal = normalise(str(word))
        key = _compact(normal)
        if " " in normal or "-" in normal or "'" in normal:
            self._latin_phrases[normal] = key
        self._canonical.setdefault(key, set()).add(canonical)

    def canonical(self, word: str) -> frozenset:
        """The terms one token stands for: its canonical kinds, brands and
        words and their general kinds, or the token itself."""
        found = self._canonical.get(word)
        if not found:
            return frozenset({word})
        terms = set(found)
        for term in found:
            terms.update(self.is_a.get(term, ()))
        return frozenset(terms)

    def colours_of(self, token: str) -> frozenset:
        """The colour ids a word names: listed (星光色), listed once 深/浅/... and
        色 are taken off (深蓝色), or made of hues (红银色); none for 银行卡."""
        if token in self.colours:
            return self.colours[token]
        core = token[:-1] if token.endswith("色") and len(token) > 1 else token
        core = core.lstrip(_MODIFIERS) or core
        if core in self.colours:
            return self.colours[core]
        if 1 < len(core) <= 3 and all(char in self._colour_chars for char in core) \
                and (core != token or len(core) <= 2):
            return frozenset().union(*(self._colour_chars[char] for char in core))
        return frozenset()

    def words(self, text: str) -> list[tuple[str, tuple]]:
        """The normalised words of a text in order, each with the shorter
        dictionary words inside it (search mode: 手机壳 holds 手机 and 机壳);
        punctuation left out, stopwords kept (they end a negation)."""
        text = normalise(text)
        if self._phrase is not None:
            text = self._phrase.sub(lambda m: f" {self._latin_phrases[m[0]]} ", text)
        text = _HYPHEN_IN_WORD.sub("", text)
        text = _LETTER_DIGIT.sub(" ", text)
        freq = self._tokenizer.FREQ
        found = []
        for word in self._tokenizer.cut(text):
            word = word.strip()
            if not word or not _WORDLIKE.search(word):
                found.append(("", ()))  # punctuation: a negation stops here
                continue
            inner = tuple(word[i:i + n] for n in (2, 3) if len(word) > n
                          for i in range(len(word) - n + 1) if freq.get(word[i:i + n]))
            found.append((word, inner))
        return found

    def _marked_words(self, text: str):
        """words() of a text with a weight factor: :data:`MARKING_WEIGHT`
        inside quotes (a name or an engraving: 刻着'LY'), else 1; a quote
        ends a word like punctuation does."""
        text = normalise(text)
        position = 0
        for quoted in _QUOTED.finditer(text):
            for word, inner in self.words(text[position:quoted.start()]):
                yield word, inner, 1.0
            yield "", (), 1.0
            for word, inner in self.words(next(group for group in quoted.groups() if group is not None)):
                yield word, inner, MARKING_WEIGHT
            yield "", (), 1.0
            position = quoted.end()
        for word, inner in self.words(text[position:]):
            yield word, inner, 1.0

    def tokens(self, text: str) -> list[str]:
        """Every word and inner word of a text, stopwords left out."""
        return [token for word, inner in self.words(text) for token in (*inner, word)
                if token and token not in self.stopwords]

    def _negation(self, word: str) -> str | None:
        """The rest of a word that says "without" (无壳 -> 壳) when it is not a word of its own."""
        if word in self._canonical or self._tokenizer.FREQ.get(word):
            return None
        for prefix in self.negations:
            if word.startswith(prefix) and len(word) > len(prefix):
                return word[len(prefix):]
        return None

    def _heads(self, word: str) -> set:
        """What a word names, for telling "without" apart: its terms and its
        last character (手机壳 is a 壳); nothing for colours and numbers."""
        if self.colours_of(word) or chinese_number(word) is not None or not _CJK.search(word):
            return set()
        heads = set(self.canonical(word))
        if len(word) > 1 and _CJK.match(word[-1]):
            heads.add(word[-1])
        return heads

    def terms(self, text: str, weight: float = 1.0) -> Terms:
        """The terms of a text (see the module's docstring), each word's
        weight times ``weight``. A word after 无/没有/不带 (or glued to it:
        无壳) is recorded as absent: the term ``无壳`` and the head 壳 in
        ``Terms.absent``, instead of its own terms."""
        weights: dict[str, float] = {}
        colours: set = set()
        brands: set = set()
        present: set = set()
        absent: set = set()
        negated = False
        for word, inner, factor in self._marked_words(text):
            weight_here = weight * factor
            if not word:
                negated = False
                continue
            if self.canonical(word) == {NONE} and word not in inner:
                negated = True
                continue
            rest = self._negation(word)
            if rest is not None:
                word, inner, negated = rest, (), True
            if word in self.stopwords:
                negated = False
                continue
            found: dict[str, float] = {}
            if self.colours_of(word) or chinese_number(word) is not None:
                inner = ()  # 星光色 is white, 一万二千 is 12000: no 星光, no 一万
            for token in (*inner, word):
                if token in self.stopwords:
                    continue
                number = chinese_number(token)
                if number == "1":
                    continue    # 一把, 一个, 一张: "a", not a count worth comparing
                colour = frozenset() if number is not None else self.colours_of(token)
                if not negated:
                    colours |= colour
                if number is not None:
                    terms = {number}
                elif token in self._canonical:
                    terms = set(self.canonical(token))
                elif colour or (len(token) == 1 and _CJK.match(token)):
                    terms = set()   # a colour is its colour id; a lone character counts as a character
                else:
                    terms = {token}
                terms |= {COLOUR + c for c in colour}
                for term in terms:
                    found[term] = max(found.get(term, 0.0), weight_here if token == word else weight_here * INNER_WEIGHT)
                if number is None and token not in self._canonical:
                    # characters of words the vocabulary does not know (小黄鸭 and 黄色小鸭 share 黄, 鸭),
                    # of a colour word only its hues (黄色: 黄)
                    for char in token:
                        if _CJK.match(char) and char not in self.stopwords and (not colour or char in self._colour_chars):
                            found.setdefault(char, weight_here * UNIGRAM_WEIGHT)
            heads = self._heads(word)
            if negated:
                absent |= heads
                found = {NONE + head: weight_here for head in heads}
                negated = False
            else:
                present |= heads
            for term, value in found.items():
                if term.startswith(BRAND):
                    brands.add(term[1:])
                weights[term] = max(weights.get(term, 0.0), value)
        return Terms(weights, frozenset(colours), frozenset(brands), frozenset(present), frozenset(absent))

    def colour_reach(self, colours) -> frozenset:
        """The colours and the colours near them (a visitor's 灰色 may be black):
        colours outside it contradict."""
        return frozenset(colours) | frozenset(b for a, b in self.colour_near if a in colours)

    def category_relation(self, a: str, b: str) -> str:
        if a == b:
            return "same"
        if (a, b) in self.related_categories:
            return "related"
        if a in self.loose_categories or b in self.loose_categories:
            return "loose"
        return "other"


@functools.lru_cache(maxsize=1)
def _base_tokenizer() -> jieba.Tokenizer:
    tokenizer = _jieba().Tokenizer()
    collecting = gc.isenabled()
    gc.disable()  # the prefix dictionary is ~350,000 entries: collecting while it loads doubles the time
    try:
        tokenizer.initialize()
    finally:
        if collecting:
            gc.enable()
    return tokenizer


def _tokenizer() -> jieba.Tokenizer:
    """A tokenizer of its own (words get added to it) over a copy of the
    prefix dictionary, which is loaded once per process."""
    base = _base_tokenizer()
    tokenizer = _jieba().Tokenizer()
    tokenizer.FREQ, tokenizer.total, tokenizer.initialized = dict(base.FREQ), base.total, True
    return tokenizer


def read_vocabulary(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        vocabulary = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    if not isinstance(vocabulary, dict):
        raise ValueError(f"{path}: expected a mapping of sections (kinds, brands, colours, ...)")
    return vocabulary


@functools.lru_cache(maxsize=8)
def _cached(path: str, mtime: float, extra_words: tuple) -> Lexicon:
    return Lexicon(read_vocabulary(path), extra_words)


def load_lexicon(path: str, extra_words=()) -> Lexicon:
    """The lexicon of a vocabulary file, built once per process (per file
    version and word list)."""
    path = os.path.abspath(path)
    return _cached(path, os.path.getmtime(path), tuple(sorted(set(extra_words))))
