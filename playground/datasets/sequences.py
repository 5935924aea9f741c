"""Token sequences for the sequence-to-sequence lessons: vocabularies, sentence pairs and
the built-in offline tasks (Czech→English number words, copy, reverse, a user's TSV file).

A translation model sees integers, not words, so every text goes through a `Vocabulary`
that maps tokens (characters or words) to ids.  The first four ids are the same in every
vocabulary, because the encoder-decoder needs them whatever the language:

    0 <pad>  fills short sequences up to the batch's length (never predicted, never scored)
    1 <bos>  the decoder's first input: "start translating now"
    2 <eos>  the decoder's last output: "the translation is complete"
    3 <unk>  a token the vocabulary has never seen (a held-out phrase may contain one)

Number translation is the lessons' real translation task that needs no download: Czech
and English count differently ("dvacet jedna" is twenty-one, "pět set" five hundred,
"dva tisíce" two thousand), the lengths vary, and every pair can be generated for any
range.  Its held-out pairs are numbers the network never saw in training, so an exact
match there means it learned the grammar rather than memorised the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from playground import budgets
from playground.budgets import MAX_SEQUENCE_TOKENS
from playground.datasets.csv_import import Problems
from playground.datasets.dataset import VALIDATION_FRACTION, DatasetError
from playground.inputs import read_input

PAD, BOS, EOS, UNK = 0, 1, 2, 3
RESERVED_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>")
LEVELS = ("char", "word")

#: the largest number the built-in number task writes out in words
MAX_NUMBER = 999_999_999


# --- vocabularies ---------------------------------------------------------------------------
def tokenize(text: str, level: str) -> list[str]:
    """Characters, or whitespace-separated words ("forty-two" stays one word)."""
    return list(text) if level == "char" else text.split()


def detokenize(tokens, level: str) -> str:
    return ("" if level == "char" else " ").join(tokens)


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise DatasetError(f'the token level must be "char" or "word", not {level!r}')


@dataclass(frozen=True)
class Vocabulary:
    """Token ↔ id table at one level; ``tokens[i]`` is the token with id i, reserved ones first."""

    tokens: tuple[str, ...]
    level: str

    def __post_init__(self) -> None:
        _check_level(self.level)
        if tuple(self.tokens[: len(RESERVED_TOKENS)]) != RESERVED_TOKENS:
            raise DatasetError(f"a vocabulary must start with the reserved tokens {', '.join(RESERVED_TOKENS)}")
        if len(set(self.tokens)) != len(self.tokens):
            raise DatasetError("a vocabulary lists a token more than once")

    @classmethod
    def build(cls, texts, level: str) -> Vocabulary:
        """Every token of ``texts``, sorted so the same texts always give the same ids."""
        _check_level(level)
        seen = {token for text in texts for token in tokenize(text, level)}
        return cls(RESERVED_TOKENS + tuple(sorted(seen - set(RESERVED_TOKENS))), level)

    @cached_property
    def _ids(self) -> dict[str, int]:
        return {token: index for index, token in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str, *, eos: bool = False) -> list[int]:
        ids = [self._ids.get(token, UNK) for token in tokenize(text, self.level)]
        return ids + [EOS] if eos else ids

    def decode(self, ids) -> str:
        """The text of ``ids`` up to the first <eos>; <pad> and <bos> are dropped."""
        words = []
        for index in ids:
            index = int(index)
            if index == EOS:
                break
            if index not in (PAD, BOS):
                words.append(self.tokens[index] if 0 <= index < len(self.tokens) else RESERVED_TOKENS[UNK])
        return detokenize(words, self.level)

    def to_dict(self) -> dict:
        return {"level": self.level, "tokens": list(self.tokens)}

    @classmethod
    def from_dict(cls, data) -> Vocabulary:
        """Read a saved vocabulary (e.g. from a project), with a clear error for a damaged one."""
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("tokens"), list)
            or not all(isinstance(token, str) for token in data["tokens"])
        ):
            raise DatasetError('a vocabulary must be an object with "level" and a list of "tokens" (strings)')
        return cls(tuple(data["tokens"]), data.get("level"))


def encode_padded(texts: list[str], vocabulary: Vocabulary, *, eos: bool) -> tuple[np.ndarray, np.ndarray]:
    """int32 ids padded with <pad> to the longest text, and each text's length."""
    encoded = [vocabulary.encode(text, eos=eos) for text in texts]
    lengths = np.array([len(ids) for ids in encoded], dtype=np.int32)
    ids = np.full((len(encoded), max(lengths, default=0)), PAD, dtype=np.int32)
    for row, sequence in enumerate(encoded):
        ids[row, : len(sequence)] = sequence
    return ids, lengths


def reverse_within_lengths(ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Each row's first ``length`` ids reversed, the padding left where it is.

    Sutskever et al. fed the source backwards: then the first source word sits right
    next to the first target word in time, and the gradient has a short path to start on.
    """
    out = ids.copy()
    for row, length in enumerate(lengths):
        out[row, :length] = ids[row, :length][::-1]
    return out


@dataclass
class PairArrays:
    """One split as arrays: source ids (no <eos>), target ids ending in <eos>, and lengths."""

    source: np.ndarray
    source_lengths: np.ndarray
    target: np.ndarray
    target_lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.source)


@dataclass
class PairCorpus:
    """Source/target text pairs split into training and held-out pairs, with both vocabularies.

    The vocabularies are built from the training pairs only: a held-out token the network
    could never have learned becomes <unk>, as it would for a real translator.
    """

    name: str
    train_pairs: list[tuple[str, str]]
    val_pairs: list[tuple[str, str]]
    source_vocabulary: Vocabulary
    target_vocabulary: Vocabulary
    #: one sentence for the learner: what the pairs are and how they were split
    description: str
    #: numeric properties of each held-out pair the hidden-state view can colour by
    val_properties: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_pairs(
        cls,
        name: str,
        train_pairs,
        val_pairs,
        source_level: str,
        target_level: str,
        description: str,
        val_properties: dict[str, np.ndarray] | None = None,
    ) -> PairCorpus:
        if not train_pairs or not val_pairs:
            raise DatasetError(f"{name}: needs at least one training pair and one held-out pair")
        return cls(
            name,
            list(train_pairs),
            list(val_pairs),
            Vocabulary.build([source for source, _ in train_pairs], source_level),
            Vocabulary.build([target for _, target in train_pairs], target_level),
            description,
            dict(val_properties or {}),
        )

    def _arrays(self, pairs) -> PairArrays:
        source, source_lengths = encode_padded([s for s, _ in pairs], self.source_vocabulary, eos=False)
        target, target_lengths = encode_padded([t for _, t in pairs], self.target_vocabulary, eos=True)
        return PairArrays(source, source_lengths, target, target_lengths)

    @cached_property
    def train(self) -> PairArrays:
        return self._arrays(self.train_pairs)

    @cached_property
    def val(self) -> PairArrays:
        return self._arrays(self.val_pairs)


# --- number words ---------------------------------------------------------------------------
_EN_ONES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")

_CS_ONES = (
    "nula",
    "jedna",
    "dva",
    "tři",
    "čtyři",
    "pět",
    "šest",
    "sedm",
    "osm",
    "devět",
    "deset",
    "jedenáct",
    "dvanáct",
    "třináct",
    "čtrnáct",
    "patnáct",
    "šestnáct",
    "sedmnáct",
    "osmnáct",
    "devatenáct",
)
_CS_TENS = ("", "", "dvacet", "třicet", "čtyřicet", "padesát", "šedesát", "sedmdesát", "osmdesát", "devadesát")
#: "sto", "dvě stě", "tři sta", "pět set": the noun takes singular, dual, plural and genitive plural
_CS_HUNDREDS = ("", "sto", "dvě stě", "tři sta", "čtyři sta", "pět set", "šest set", "sedm set", "osm set", "devět set")
#: (1, 2–4, 5 and more) forms of the scale nouns
_CS_SCALES = {1_000_000: ("milion", "miliony", "milionů"), 1000: ("tisíc", "tisíce", "tisíc")}


def _check_number(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n <= MAX_NUMBER:
        raise DatasetError(f"number words exist here for whole numbers 0 to {MAX_NUMBER:,}, not {n!r}")


def _english_below_thousand(n: int) -> list[str]:
    words = []
    if n >= 100:
        words += [_EN_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(_EN_TENS[n // 10] + (f"-{_EN_ONES[n % 10]}" if n % 10 else ""))
    elif n:
        words.append(_EN_ONES[n])
    return words


def english_number_words(n: int) -> str:
    """American style without "and": 342 → "three hundred forty-two", 21000 → "twenty-one thousand"."""
    _check_number(n)
    if n == 0:
        return _EN_ONES[0]
    words = []
    for scale, name in ((1_000_000, "million"), (1000, "thousand")):
        if n >= scale:
            words += _english_below_thousand(n // scale) + [name]
            n %= scale
    return " ".join(words + _english_below_thousand(n))


def _czech_below_thousand(n: int) -> list[str]:
    words = _CS_HUNDREDS[n // 100].split()
    n %= 100
    if n >= 20:
        words.append(_CS_TENS[n // 10])
        n %= 10
    if n:
        words.append(_CS_ONES[n])
    return words


def _czech_scale(count: int, forms: tuple[str, str, str]) -> list[str]:
    """``count`` thousands or millions: "tisíc", "dva tisíce", "pět tisíc", "dvacet dva tisíce".

    A bare 1000 is just "tisíc"; inside a compound the masculine "jeden" replaces the
    counting "jedna" and the noun agrees with it ("dvacet jeden milion").  Otherwise the
    noun agrees with the last component: 2–4 take the plural, everything else (5–19,
    the tens, the hundreds) the genitive plural.
    """
    if count == 1:
        return [forms[0]]
    words = _czech_below_thousand(count)
    if words[-1] == "jedna":
        return words[:-1] + ["jeden", forms[0]]
    plural = forms[1] if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14 else forms[2]
    return words + [plural]


def czech_number_words(n: int) -> str:
    """Czech cardinal numbers: 342 → "tři sta čtyřicet dva", 2000 → "dva tisíce", 21 → "dvacet jedna"."""
    _check_number(n)
    if n == 0:
        return _CS_ONES[0]
    words = []
    for scale, forms in _CS_SCALES.items():
        if n >= scale:
            words += _czech_scale(n // scale, forms)
            n %= scale
    return " ".join(words + _czech_below_thousand(n))


def _distinct_numbers(minimum: int, maximum: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` different numbers from minimum..maximum in a seeded random order."""
    size = maximum - minimum + 1
    if count > size:
        raise DatasetError(
            f"the range {minimum:,}..{maximum:,} holds only {size:,} numbers, fewer than the {count:,} asked for"
        )
    if size <= 4 * count:
        return minimum + rng.permutation(size)[:count]
    drawn: dict[int, None] = {}
    while len(drawn) < count:  # rejection keeps memory small for a huge range
        for value in rng.integers(minimum, maximum + 1, size=2 * (count - len(drawn))):
            drawn.setdefault(int(value))
            if len(drawn) == count:
                break
    return np.fromiter(drawn, dtype=np.int64, count=count)


def _split_sizes(available: int, n_train: int, n_val: int) -> tuple[int, int]:
    """Training and held-out counts; 0 means "the rest" (train) or a fifth (held-out)."""
    n_val = n_val or max(1, round(available * VALIDATION_FRACTION))
    return n_train or max(1, available - n_val), n_val


def number_translation(
    *,
    minimum: int = 0,
    maximum: int = 999,
    n_train: int = 0,
    n_val: int = 0,
    seed: int = 0,
    source_level: str = "word",
    target_level: str = "word",
) -> PairCorpus:
    """Czech number words → English number words for numbers in minimum..maximum.

    The held-out numbers are drawn first and never appear among the training numbers.
    ``n_train`` 0 takes every remaining number of the range; ``n_val`` 0 holds out a fifth.
    """
    _check_number(minimum)
    _check_number(maximum)
    if maximum <= minimum:
        raise DatasetError(f"the number range needs maximum > minimum, not {minimum:,}..{maximum:,}")
    n_train, n_val = _split_sizes(maximum - minimum + 1, n_train, n_val)
    numbers = _distinct_numbers(minimum, maximum, n_train + n_val, np.random.default_rng(seed))
    held_out, training = numbers[:n_val], numbers[n_val:]

    def pairs(values):
        return [(czech_number_words(int(v)), english_number_words(int(v))) for v in values]

    properties = {
        "hundreds digit": (held_out // 100 % 10).astype(np.float64),
        "thousands": (held_out // 1000).astype(np.float64),
        "number": held_out.astype(np.float64),
        "source words": np.array([len(czech_number_words(int(v)).split()) for v in held_out], np.float64),
    }
    return PairCorpus.from_pairs(
        "numbers",
        pairs(training),
        pairs(held_out),
        source_level,
        target_level,
        f"Czech → English number words for {minimum:,}..{maximum:,}, seed {seed}: "
        f"{n_train:,} training numbers, {n_val:,} held-out numbers never seen in training",
        properties,
    )


def _symbol_sequences(
    n_train: int, n_val: int, min_length: int, max_length: int, symbols: int, seed: int
) -> tuple[list[str], list[str]]:
    """Distinct random strings over the first ``symbols`` letters; held-out ones never occur in training."""
    if not 1 <= min_length <= max_length <= MAX_SEQUENCE_TOKENS:
        raise DatasetError(
            f"sequence lengths must satisfy 1 ≤ min ≤ max ≤ {MAX_SEQUENCE_TOKENS}, not {min_length}..{max_length}"
        )
    if not 2 <= symbols <= 26:
        raise DatasetError(f"the alphabet must have 2 to 26 symbols, not {symbols}")
    possible = sum(symbols**length for length in range(min_length, max_length + 1))
    if n_train + n_val > possible // 2:
        raise DatasetError(
            f"{n_train + n_val:,} distinct sequences are too many for lengths "
            f"{min_length}..{max_length} over {symbols} symbols"
        )
    rng = np.random.default_rng(seed)
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyz"[:symbols]))
    drawn: dict[str, None] = {}
    while len(drawn) < n_train + n_val:
        drawn.setdefault("".join(alphabet[rng.integers(0, symbols, rng.integers(min_length, max_length + 1))]))
    texts = list(drawn)
    return texts[n_val:], texts[:n_val]


def _symbol_task(name: str, transform, n_train, n_val, min_length, max_length, symbols, seed) -> PairCorpus:
    train, held_out = _symbol_sequences(n_train, n_val, min_length, max_length, symbols, seed)
    return PairCorpus.from_pairs(
        name,
        [(text, transform(text)) for text in train],
        [(text, transform(text)) for text in held_out],
        "char",
        "char",
        f"{name} task: {n_train:,} training and {n_val:,} held-out strings of {min_length}–{max_length} "
        f"letters over {symbols} symbols, seed {seed}",
        {
            "length": np.array([len(text) for text in held_out], np.float64),
            "first symbol": np.array([ord(text[0]) - ord("a") for text in held_out], np.float64),
        },
    )


def copy_task(
    *, n_train: int = 4000, n_val: int = 500, min_length: int = 3, max_length: int = 10, symbols: int = 8, seed: int = 0
) -> PairCorpus:
    """Output the source string unchanged: the simplest test that the state carries the whole input."""
    return _symbol_task("copy", lambda text: text, n_train, n_val, min_length, max_length, symbols, seed)


def reverse_task(
    *, n_train: int = 4000, n_val: int = 500, min_length: int = 3, max_length: int = 10, symbols: int = 8, seed: int = 0
) -> PairCorpus:
    """Output the source string backwards: the first output depends on the last input."""
    return _symbol_task("reverse", lambda text: text[::-1], n_train, n_val, min_length, max_length, symbols, seed)


# --- a user's sentence pairs ----------------------------------------------------------------
def _parse_pair(line: str, level: str) -> tuple[str, str]:
    """The (source, target) of one line, or ValueError phrased to follow "line N: "."""
    parts = line.split("\t")
    if len(parts) != 2:
        raise ValueError(f"expected source<TAB>target but found {len(parts) - 1} tabs")
    source, target = (part.strip() for part in parts)
    for side, text in (("source", source), ("target", target)):
        if not text:
            raise ValueError(f"the {side} is empty")
        length = len(tokenize(text, level))
        if length > MAX_SEQUENCE_TOKENS:
            raise ValueError(f"the {side} has {length} tokens, more than the {MAX_SEQUENCE_TOKENS} allowed")
    return source, target


def _read_lines(path: Path) -> list[str]:
    """The lines of a regular file within MAX_PAIRS_FILE_BYTES (the trainer holds it all in memory)."""
    try:
        text = read_input(path, DatasetError, "MAX_PAIRS_FILE_BYTES").decode("utf-8-sig")
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path.name} is not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise DatasetError(f"cannot read pairs file {path}: {error.strerror or error}") from None
    return text.splitlines()


def load_pairs_tsv(path: str | Path, level: str = "word", *, seed: int = 0) -> PairCorpus:
    """Sentence pairs from a ``source<TAB>target`` file, split after a seeded shuffle.

    Blank lines are skipped; every other bad line is collected, and one error lists the
    first few with their line numbers, because training on fewer pairs than the file
    holds, without saying so, would hide a problem the learner can fix.
    """
    _check_level(level)
    path = Path(path)
    pairs, problems = [], Problems()
    for number, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        if len(pairs) == budgets.MAX_PAIRS:
            raise DatasetError(
                f"{path.name}: " + budgets.over_budget(f"it holds at least {len(pairs) + 1:,} pairs", "MAX_PAIRS")
            )
        try:
            pairs.append(_parse_pair(line, level))
        except ValueError as error:
            problems.add(f"line {number}: {error}")
    if problems:
        raise DatasetError(problems.message(path.name))
    if len(pairs) < 2:
        raise DatasetError(f"{path.name} holds {len(pairs)} pair(s); at least 2 are needed to train and validate")
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_val = min(max(1, round(len(pairs) * VALIDATION_FRACTION)), len(pairs) - 1)
    train = [pairs[i] for i in order[:-n_val]]
    held_out = [pairs[i] for i in order[-n_val:]]
    return PairCorpus.from_pairs(
        "pairs",
        train,
        held_out,
        level,
        level,
        f"pairs file {path.name}: {len(pairs):,} pairs at {level} level, shuffled with seed {seed}: "
        f"{len(train):,} train, {len(held_out):,} held out",
        {
            "source tokens": np.array([len(tokenize(s, level)) for s, _ in held_out], np.float64),
            "target tokens": np.array([len(tokenize(t, level)) for _, t in held_out], np.float64),
        },
    )
