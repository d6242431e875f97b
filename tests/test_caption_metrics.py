"""Tests for course/caption_metrics.py: BLEU-1..4 and CIDEr-D equal pycocoevalcap's to 1e-6.

The reference is the COCO caption evaluation package ``pycocoevalcap``
(``Bleu(4)`` and ``Cider``), fed the same pre-tokenised lower-case captions;
the comparisons are skipped when it is not installed. Cases: hand-made ones
with values known by hand, random caption sets drawn by hypothesis (a small
vocabulary so that n-grams repeat, 1-5 references of varied lengths,
candidates of 0-12 words with words in no reference), the edge cases of the
two metrics, and the validation of inputs.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.caption_metrics import bleu, caption_scores, cider_d, tokenize

TOLERANCE = 1e-6
PROPERTY = settings(max_examples=150, deadline=None, derandomize=True)


@pytest.fixture(scope="module")
def coco():
    """pycocoevalcap's scorers (pure Python; its PTB tokenizer, which needs Java, is not used)."""
    pytest.importorskip("pycocoevalcap")
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider

    def scores(references: dict, candidates: dict):
        res = {i: [candidates[i]] for i in references}
        bleus, per_bleu = Bleu(4).compute_score(references, res, verbose=0)
        cider, per_cider = Cider().compute_score(references, res)
        return bleus, np.array(per_bleu).T, cider, np.asarray(per_cider)

    return scores


def assert_matches_coco(coco, references: dict, candidates: dict) -> None:
    """Ours equals pycocoevalcap on corpus and per-caption BLEU-1..4 and CIDEr-D."""
    expected_bleu, expected_per_bleu, expected_cider, expected_per_cider = coco(
        references, candidates
    )
    ours_bleu, ours_per_bleu = bleu(references, candidates, return_per_caption=True)
    ours_cider, ours_per_cider = cider_d(references, candidates)
    np.testing.assert_allclose(ours_bleu, expected_bleu, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(ours_per_bleu, expected_per_bleu, rtol=0, atol=TOLERANCE)
    assert ours_cider == pytest.approx(expected_cider, rel=0, abs=TOLERANCE)
    np.testing.assert_allclose(ours_per_cider, expected_per_cider, rtol=0, atol=TOLERANCE)
    # caption_scores shares the n-gram counts of both metrics.
    together = caption_scores(references, candidates)
    assert together == {
        "BLEU-1": ours_bleu[0],
        "BLEU-2": ours_bleu[1],
        "BLEU-3": ours_bleu[2],
        "BLEU-4": ours_bleu[3],
        "CIDEr-D": ours_cider,
    }


# ----------------------------------------------------------------------------- hand-made cases

# name -> (references, candidates). Each is compared with pycocoevalcap below, and
# most have a test of their own with values worked out by hand (those run without it).
CASES = {
    "identical": (
        {1: ["a man riding a horse on a beach"], 2: ["two dogs play in the snow"]},
        {1: "a man riding a horse on a beach", 2: "two dogs play in the snow"},
    ),
    "papineni clipping": (
        {0: ["the cat is on the mat", "there is a cat on the mat"]},
        {0: "the the the the the the the"},
    ),
    "shorter than every reference": (
        {0: ["a dog runs on the green grass", "a dog is running"]},
        {0: "a dog"},
    ),
    "closest length tie": ({0: ["a b c d", "a b c d e f"]}, {0: "a b c d e"}),
    "corpus pools counts": (
        {0: ["a cat sits on a mat"], 1: ["a dog runs"]},
        {0: "a cat sits on a mat", 1: "the bird"},
    ),
    "two-word captions": (
        {"a": ["red car"], "b": ["blue boat"]},
        {"a": "red car", "b": "blue boat"},
    ),
    "clipping and length penalty": (
        {0: ["a small dog"], 1: ["a large cat"]},
        {0: "a small dog small dog small dog", 1: "a large cat"},
    ),
    "single image": (
        {7: ["a cat on a sofa", "a cat sleeping on the couch"]},
        {7: "a cat sleeping on a sofa"},
    ),
    "equal to one of several references": (
        {
            0: ["a man rides a horse", "a person on a brown horse", "man riding a horse"],
            1: ["a bowl of fruit on a table", "apples and oranges in a bowl"],
            2: ["a train at the station"],
        },
        {0: "a person on a brown horse", 1: "a bowl of fruit", 2: "a red train"},
    ),
    "an empty candidate": (
        {0: ["a cat on a mat"], 1: ["a dog in the park", "a dog running"]},
        {0: "", 1: "a dog running"},
    ),
    "every candidate empty": (
        {0: ["a cat on a mat"], 1: ["a dog in the park", "a dog running"]},
        {0: "", 1: "   "},
    ),
    "unseen words and repeated n-grams": (
        {0: ["a a a b a a", "b a a b"], 1: ["c c c c c"], 2: ["a b c"]},
        {0: "a a a a a a b", 1: "c c zebra c c c c", 2: "quux quux quux"},
    ),
    "ids in another order": (
        {"z": ["a red bus"], "a": ["a blue car on a road"], "m": ["a green tree"]},
        {"a": "a blue car", "m": "a green tree", "z": "a bus"},
    ),
}
SHORT_CANDIDATES = ["a", "a cat", "a cat sits", "zebra", "cat a"]  # fewer than 4 words
SHORT_REFERENCES = {0: ["a cat sits on the mat", "the cat is on a mat"], 1: ["a dog in a park"]}
for candidate in SHORT_CANDIDATES:
    CASES[f"short candidate {candidate!r}"] = (SHORT_REFERENCES, {0: candidate, 1: "a dog"})


@pytest.mark.parametrize("name", CASES)
def test_hand_made_cases_match_pycocoevalcap(coco, name):
    assert_matches_coco(coco, *CASES[name])


def test_a_candidate_identical_to_its_reference_has_bleu_1():
    scores, per_caption = bleu(*CASES["identical"], return_per_caption=True)
    np.testing.assert_allclose(scores, 1.0, atol=1e-9)
    np.testing.assert_allclose(per_caption, 1.0, atol=1e-9)


def test_bleu_clips_repeated_words_papineni_example():
    # Papineni et al. 2002, sec. 2.1: "the" x7 matches at most twice -> unigram precision 2/7;
    # c = 7 and the closest reference has 7 words: no brevity penalty.
    assert bleu(*CASES["papineni clipping"])[0] == pytest.approx(2 / 7, abs=1e-9)


def test_bleu_brevity_penalty_of_a_candidate_shorter_than_every_reference():
    # p1 = 1; r = 4 (the closest length to c = 2); BP = exp(1 - 4 / 2).
    bleu_1 = bleu(*CASES["shorter than every reference"])[0]
    assert bleu_1 == pytest.approx(math.exp(1 - 4 / 2), abs=1e-9)


def test_bleu_closest_reference_length_takes_the_shorter_on_a_tie():
    # c = 5 is as close to 4 as to 6; the rule takes 4, so no brevity penalty.
    assert bleu(*CASES["closest length tie"])[0] == pytest.approx(1.0, abs=1e-9)


def test_bleu_corpus_score_pools_counts_rather_than_averaging_captions():
    scores, per_caption = bleu(*CASES["corpus pools counts"], return_per_caption=True)
    # BLEU-1 pools 6 matches over 8 words, with c = 8 against r = 9.
    assert scores[0] == pytest.approx(6 / 8 * math.exp(1 - 9 / 8), abs=1e-9)
    assert scores[0] != pytest.approx(per_caption[:, 0].mean())


def test_cider_d_of_identical_two_word_captions_is_5():
    # Unigram and bigram cosines are 1; there are no 3- or 4-grams (norm 0 -> 0):
    # mean over n = 1..4 is 0.5, times 10.
    score, per_caption = cider_d(*CASES["two-word captions"])
    assert score == pytest.approx(5.0, abs=1e-12)
    np.testing.assert_allclose(per_caption, [5.0, 5.0], atol=1e-12)


def test_cider_d_clipping_and_gaussian_length_penalty():
    _, per_caption = cider_d(*CASES["clipping and length penalty"])
    # Image 1: n = 1..3 cosines are 1, there is no 4-gram (0): 10 * 3 / 4.
    assert per_caption[1] == pytest.approx(7.5, abs=1e-12)
    # Image 0, by hand ("a" is in both images: weight 0; the others weigh log 2):
    # n = 1: "small" and "dog" 3 times, clipped to the reference's 1: 2 / (sqrt(18) sqrt(2))
    # n = 2: "a small" 1, "small dog" 3 (clipped to 1), "dog small" 2: 2 / (sqrt(14) sqrt(2))
    # n = 3: "a small dog" 1, "small dog small" 2, "dog small dog" 2: 1 / (3 * 1)
    # n = 4: the reference has none: 0. Lengths 7 and 3 words: penalty exp(-4**2 / 72).
    cosines = [1 / 3, 2 / math.sqrt(28), 1 / 3, 0.0]
    expected = 10 * math.exp(-(4**2) / (2 * 6**2)) * sum(cosines) / 4
    assert per_caption[0] == pytest.approx(expected, abs=1e-12)


# ----------------------------------------------------------------------------- edge cases


def test_cider_d_of_a_single_image_is_0():
    score, per_caption = cider_d(*CASES["single image"])
    assert score == 0.0 and per_caption.tolist() == [0.0]  # log(1 / 1) = 0 for every n-gram


@pytest.mark.parametrize("candidate", SHORT_CANDIDATES)
def test_candidates_of_fewer_than_4_words_get_the_smoothed_bleu(candidate):
    cands = {0: candidate, 1: "a dog"}
    scores, per_caption = bleu(SHORT_REFERENCES, cands, return_per_caption=True)
    # No 4-gram: p_4 = 1e-15 / 1e-9 = 1e-6, so 0 < BLEU-4 <= (1e-6) ** (1/4) ~ 0.03.
    assert 0 < per_caption[0, 3] <= 1e-6**0.25
    assert all(0 < s < 1 for s in scores)


def test_a_candidate_equal_to_one_of_several_references():
    _, per_caption = bleu(*CASES["equal to one of several references"], return_per_caption=True)
    np.testing.assert_allclose(per_caption[0], 1.0, atol=1e-9)


def test_empty_candidates_score_0_as_in_pycocoevalcap():
    _, per_bleu = bleu(*CASES["an empty candidate"], return_per_caption=True)
    _, per_cider = cider_d(*CASES["an empty candidate"])
    assert per_bleu[0].tolist() == [0.0] * 4 and per_cider[0] == 0.0
    assert per_bleu[1, 0] > 0.9 and per_cider[1] > 0
    scores, _ = bleu(*CASES["every candidate empty"], return_per_caption=True)
    assert scores == (0.0, 0.0, 0.0, 0.0) and cider_d(*CASES["every candidate empty"])[0] == 0.0


def test_per_caption_scores_follow_the_order_of_the_reference_ids():
    refs, cands = CASES["ids in another order"]  # pycocoevalcap iterates the references' ids
    _, per_bleu = bleu(refs, cands, return_per_caption=True)
    _, per_cider = cider_d(refs, cands)
    ordered_refs = [refs[i] for i in ("z", "a", "m")]
    ordered_cands = [cands[i] for i in ("z", "a", "m")]
    np.testing.assert_array_equal(
        bleu(ordered_refs, ordered_cands, return_per_caption=True)[1], per_bleu
    )
    np.testing.assert_array_equal(cider_d(ordered_refs, ordered_cands)[1], per_cider)


def test_lists_and_pycocoevalcap_style_dicts_give_the_same_scores():
    refs = [["a cat on a mat", "the cat sits"], ["a dog runs"], ["two birds in a tree"]]
    cands = ["a cat sits", "a dog", "birds in a tree"]
    as_lists = caption_scores(refs, cands)
    as_dicts = caption_scores(dict(enumerate(refs)), {i: [c] for i, c in enumerate(cands)})
    assert as_lists == as_dicts


def test_inputs_are_not_modified():
    refs = {0: ["a cat on a mat"], 1: ["a dog"]}
    cands = {0: ["a cat"], 1: "a dog"}
    caption_scores(refs, cands, tokenizer=tokenize)
    assert refs == {0: ["a cat on a mat"], 1: ["a dog"]} and cands == {0: ["a cat"], 1: "a dog"}


# ----------------------------------------------------------------------------- random sets

VOCABULARY = ["a", "dog", "cat", "on", "the", "red"]  # small: n-grams repeat often
UNSEEN = ["zebra", "quux"]  # words that no reference uses


@st.composite
def caption_sets(draw):
    """(references, candidates): 1-8 images, 1-5 references of 1-12 words, candidates of 0-12."""
    num_images = draw(st.integers(1, 8))

    def caption(words, min_size):
        return " ".join(draw(st.lists(st.sampled_from(words), min_size=min_size, max_size=12)))

    ids = draw(
        st.lists(st.integers(0, 10**6), min_size=num_images, max_size=num_images, unique=True)
    )
    references = {i: [caption(VOCABULARY, 1) for _ in range(draw(st.integers(1, 5)))] for i in ids}
    candidates = {i: caption(VOCABULARY + UNSEEN, 0) for i in ids}
    return references, candidates


@PROPERTY
@given(caption_sets())
def test_random_caption_sets_match_pycocoevalcap(coco, case):
    references, candidates = case
    assert_matches_coco(coco, references, candidates)


def test_a_larger_seeded_random_set_matches_pycocoevalcap(coco):
    rng = np.random.default_rng(0)
    words = [f"w{k}" for k in range(40)]
    p = 1 / np.arange(1, 41)  # Zipf-like: a few common words, many rare ones

    def caption(low, high):
        return " ".join(rng.choice(words, size=rng.integers(low, high + 1), p=p / p.sum()))

    references = {i: [caption(1, 14) for _ in range(rng.integers(1, 6))] for i in range(300)}
    candidates = {i: caption(1, 12) for i in range(300)}
    candidates[5] = references[5][0]  # one candidate equal to a reference
    candidates[9] = "w39 w38 w37 unseen"  # rare words and a word in no reference
    assert_matches_coco(coco, references, candidates)


# ----------------------------------------------------------------------------- tokenize


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("A man's well-known dog, running!", "a man's well-known dog running"),
        ("  Two   DOGS.\nplaying ", "two dogs playing"),
        ("It\u2019s a cat -- on (a) mat...", "it's a cat on a mat"),
        ("...", ""),
        ("", ""),
    ],
)
def test_tokenize(text, tokens):
    assert tokenize(text) == tokens


def test_caption_scores_with_the_tokenizer_scores_raw_text_like_tokenised_text():
    refs = {0: ["A cat, on a mat."], 1: ["A dog runs!"]}
    cands = {0: "a CAT on the mat", 1: "A dog."}
    tokenised_refs = {i: [tokenize(r) for r in rs] for i, rs in refs.items()}
    tokenised_cands = {i: tokenize(c) for i, c in cands.items()}
    assert caption_scores(refs, cands, tokenizer=tokenize) == caption_scores(
        tokenised_refs, tokenised_cands
    )


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("references", "candidates", "error", "message"),
    [
        ({0: ["a cat"], 1: ["b"]}, {0: "a cat"}, ValueError, r"references but no candidate: 1$"),
        ({0: ["a cat"]}, {0: "a cat", 2: "x"}, ValueError, r"candidate id\(s\) with no refer"),
        ([["a cat"], ["a dog"]], ["a cat"], ValueError, r"2 lists of references but 1 cand"),
        ({0: ["a cat"]}, ["a cat"], TypeError, r"both be dicts .* or both be lists"),
        ({}, {}, ValueError, r"no images to score"),
        ({0: "a cat"}, {0: "a cat"}, TypeError, r"wrap a single reference in a list"),
        ({0: []}, {0: "a cat"}, ValueError, r"references\[0\] is empty"),
        ({0: ["a cat", "  "]}, {0: "a cat"}, ValueError, r"references\[0\]\[1\] is '  '"),
        ({0: ["a cat", 3]}, {0: "a cat"}, TypeError, r"references\[0\]\[1\] must be a str"),
        ({0: ["a cat"]}, {0: ["a", "b"]}, ValueError, r"holds 2 captions; give exactly one"),
        ({0: ["a cat"]}, {0: None}, TypeError, r"candidates\[0\] must be a str caption"),
        ("a cat", "a cat", TypeError, r"both be dicts"),
    ],
)
@pytest.mark.parametrize("metric", [bleu, cider_d, caption_scores])
def test_bad_inputs_are_refused_clearly(metric, references, candidates, error, message):
    with pytest.raises(error, match=message) as info:
        metric(references, candidates)
    assert str(info.value).startswith(f"{metric.__name__}: ")


def test_a_reference_that_the_tokenizer_empties_is_refused():
    with pytest.raises(ValueError, match=r"after tokenizer.*references\[0\]\[1\] is ''"):
        caption_scores({0: ["a cat", "..."]}, {0: "a cat"}, tokenizer=tokenize)


def test_tokenize_refuses_a_non_string():
    with pytest.raises(TypeError, match="tokenize: text must be a str, got list"):
        tokenize(["a", "cat"])
