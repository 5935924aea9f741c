"""Token data for the sequence lessons: vocabularies, number words, built-in tasks, pairs files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from playground.datasets import DatasetError
from playground.datasets.sequences import (
    BOS,
    EOS,
    PAD,
    RESERVED_TOKENS,
    UNK,
    Vocabulary,
    copy_task,
    czech_number_words,
    encode_padded,
    english_number_words,
    load_pairs_tsv,
    number_translation,
    reverse_task,
    reverse_within_lengths,
)

KNOWN_NUMBERS = {
    0: ("nula", "zero"),
    1: ("jedna", "one"),
    4: ("čtyři", "four"),
    13: ("třináct", "thirteen"),
    21: ("dvacet jedna", "twenty-one"),
    99: ("devadesát devět", "ninety-nine"),
    100: ("sto", "one hundred"),
    200: ("dvě stě", "two hundred"),
    300: ("tři sta", "three hundred"),
    342: ("tři sta čtyřicet dva", "three hundred forty-two"),
    500: ("pět set", "five hundred"),
    1000: ("tisíc", "one thousand"),
    1001: ("tisíc jedna", "one thousand one"),
    2000: ("dva tisíce", "two thousand"),
    5000: ("pět tisíc", "five thousand"),
    12_000: ("dvanáct tisíc", "twelve thousand"),
    21_000: ("dvacet jeden tisíc", "twenty-one thousand"),
    24_000: ("dvacet čtyři tisíce", "twenty-four thousand"),
    300_517: ("tři sta tisíc pět set sedmnáct", "three hundred thousand five hundred seventeen"),
    999_999: (
        "devět set devadesát devět tisíc devět set devadesát devět",
        "nine hundred ninety-nine thousand nine hundred ninety-nine",
    ),
    2_000_000: ("dva miliony", "two million"),
    5_000_000: ("pět milionů", "five million"),
}


@pytest.mark.parametrize("number", sorted(KNOWN_NUMBERS))
def test_known_number_words(number):
    czech, english = KNOWN_NUMBERS[number]
    assert czech_number_words(number) == czech
    assert english_number_words(number) == english


def test_number_words_are_distinct_over_a_range():
    """Two numbers with the same words would make the task unlearnable."""
    numbers = range(0, 1_000_000, 7)
    assert len({czech_number_words(n) for n in numbers}) == len(numbers)
    assert len({english_number_words(n) for n in numbers}) == len(numbers)


@pytest.mark.parametrize("bad", [-1, 10**9, 2.5, True])
def test_number_words_refuse_what_they_cannot_say(bad):
    with pytest.raises(DatasetError, match="whole numbers"):
        czech_number_words(bad)


@pytest.mark.parametrize("level, text", [("word", "tři sta čtyřicet dva"), ("char", "tři sta")])
def test_vocabulary_round_trip(level, text):
    vocabulary = Vocabulary.build([text, "dva"], level)
    assert vocabulary.tokens[:4] == RESERVED_TOKENS and (PAD, BOS, EOS, UNK) == (0, 1, 2, 3)
    ids = vocabulary.encode(text, eos=True)
    assert ids[-1] == EOS and min(ids[:-1]) >= 4
    assert vocabulary.decode([BOS] + ids + [7, 7]) == text  # stops at <eos>
    saved = json.loads(json.dumps(vocabulary.to_dict()))
    assert Vocabulary.from_dict(saved) == vocabulary


def test_unknown_tokens_become_unk():
    vocabulary = Vocabulary.build(["one two"], "word")
    assert vocabulary.encode("two three") == [vocabulary.tokens.index("two"), UNK]
    assert vocabulary.decode([UNK]) == "<unk>"


def test_a_damaged_vocabulary_is_refused():
    with pytest.raises(DatasetError, match="reserved"):
        Vocabulary.from_dict({"level": "word", "tokens": ["a", "b"]})
    with pytest.raises(DatasetError, match="char"):
        Vocabulary.from_dict({"level": "syllable", "tokens": list(RESERVED_TOKENS)})


def test_padding_and_reversal_keep_lengths():
    vocabulary = Vocabulary.build(["abc", "de"], "char")
    ids, lengths = encode_padded(["abc", "de"], vocabulary, eos=False)
    assert lengths.tolist() == [3, 2] and ids[1, 2] == PAD and ids.dtype == np.int32
    flipped = reverse_within_lengths(ids, lengths)
    assert vocabulary.decode(flipped[0]) == "cba" and vocabulary.decode(flipped[1]) == "ed"
    assert flipped[1, 2] == PAD


def test_held_out_numbers_are_never_seen_in_training():
    corpus = number_translation(maximum=9999, n_train=3000, n_val=300, seed=3)
    train_sources = {source for source, _ in corpus.train_pairs}
    assert len(train_sources) == 3000 and len(corpus.val_pairs) == 300
    assert not train_sources & {source for source, _ in corpus.val_pairs}
    numbers = corpus.val_properties["number"].astype(int)
    assert [english_number_words(n) for n in numbers] == [target for _, target in corpus.val_pairs]
    assert corpus.val_properties["hundreds digit"].tolist() == (numbers // 100 % 10).tolist()
    arrays = corpus.train
    assert arrays.source.shape[0] == 3000 and (arrays.target[np.arange(3000), arrays.target_lengths - 1] == EOS).all()


def test_seeded_splits_reproduce():
    first = number_translation(maximum=99_999, n_train=500, n_val=50, seed=11)
    again = number_translation(maximum=99_999, n_train=500, n_val=50, seed=11)
    other = number_translation(maximum=99_999, n_train=500, n_val=50, seed=12)
    assert first.train_pairs == again.train_pairs and first.val_pairs == again.val_pairs
    assert first.train_pairs != other.train_pairs
    np.testing.assert_array_equal(first.train.source, again.train.source)
    assert copy_task(seed=4).val_pairs == copy_task(seed=4).val_pairs


def test_copy_and_reverse_tasks():
    copy = copy_task(n_train=200, n_val=20, seed=1)
    reverse = reverse_task(n_train=200, n_val=20, seed=1)
    assert all(source == target for source, target in copy.train_pairs)
    assert all(source[::-1] == target for source, target in reverse.val_pairs)
    assert not {s for s, _ in copy.train_pairs} & {s for s, _ in copy.val_pairs}


def test_pairs_file_loads(tmp_path):
    path = tmp_path / "pairs.tsv"
    lines = [f"věta {i}\tsentence {i}" for i in range(20)]
    path.write_text("\n".join(lines[:10] + ["", "   "] + lines[10:]) + "\n", encoding="utf-8")
    corpus = load_pairs_tsv(path, "word", seed=2)
    assert len(corpus.train_pairs) + len(corpus.val_pairs) == 20
    assert ("věta 3", "sentence 3") in corpus.train_pairs + corpus.val_pairs
    assert "věta" in corpus.source_vocabulary.tokens
    assert load_pairs_tsv(path, "word", seed=2).val_pairs == corpus.val_pairs


def test_malformed_pairs_file_reports_its_line_numbers(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("a\tb\n\nno tab here\nc\td\n\tempty source\ne\tf\tg\n", encoding="utf-8")
    with pytest.raises(DatasetError) as caught:
        load_pairs_tsv(path, "word")
    message = str(caught.value)
    assert "bad.tsv" in message and "3 bad" in message
    assert "line 3: expected source<TAB>target" in message
    assert "line 5: the source is empty" in message
    assert "line 6:" in message and "line 1:" not in message and "line 4:" not in message


def test_pairs_file_problems_are_one_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        load_pairs_tsv(tmp_path / "missing.tsv")
    latin1 = tmp_path / "latin1.tsv"
    latin1.write_bytes("tři\tthree\n".encode("cp1250"))
    with pytest.raises(DatasetError, match="not UTF-8"):
        load_pairs_tsv(latin1)
    long_line = tmp_path / "long.tsv"
    long_line.write_text("a\t" + "x " * 300 + "\nb\tc\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="line 1: the target has 300 tokens"):
        load_pairs_tsv(long_line, "word")
    with pytest.raises(DatasetError, match="token level"):
        load_pairs_tsv(long_line, "sentence")
