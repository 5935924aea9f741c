"""Data for the playground: built-in generators, IDX and CSV loaders, and the MNIST downloader.

Everything here is headless (numpy and numba, never Qt), and every loader returns the
same `Dataset`, so the trainer and the plots do not care where data came from.

Modules, for finding your way:
    dataset     the `Dataset` class, the errors, the shared train/validation split
    catalog     the catalogue (every data set's name, kind, label and loader) and `load_dataset`
    toys        circle, xor, gaussians, spiral, moons, parity, function
    digits      synthetic 28x28 digits, for image lessons without a network
    idx         the IDX file format and folders of IDX files (MNIST, Fashion-MNIST, ...)
    remote      the cache folder and the checksum-verified downloader
    csv_import  a user's own CSV table
    sequences   token data for sequence models: vocabularies, number words, copy/reverse, TSV pairs
    ratings     (user, item, rating) triples for collaborative filtering: a synthetic example, CSV files
"""

from playground.datasets.catalog import DATASET_NAMES, load_dataset
from playground.datasets.dataset import Dataset, DatasetError, DatasetUnavailable, DownloadCancelled, window_message
from playground.datasets.ratings import Ratings, load_ratings_csv, synthetic_ratings
from playground.datasets.remote import cache_dir, download, is_cached
from playground.datasets.sequences import PairCorpus, Vocabulary, load_pairs_tsv, number_translation

__all__ = [
    "DATASET_NAMES",
    "Dataset",
    "DatasetError",
    "DatasetUnavailable",
    "DownloadCancelled",
    "PairCorpus",
    "Ratings",
    "Vocabulary",
    "cache_dir",
    "download",
    "is_cached",
    "load_dataset",
    "load_pairs_tsv",
    "load_ratings_csv",
    "number_translation",
    "synthetic_ratings",
    "window_message",
]
