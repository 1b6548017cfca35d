from greenlight.ids import is_request_id, new_request_id
from greenlight.links import looks_like_token, new_token, token_hash
from greenlight.networks import NETWORKS, graphemes


def test_graphemes_count_what_people_see() -> None:
    assert graphemes("café") == 4
    assert graphemes("cafe\u0301") == 4  # e + combining accent
    assert graphemes("👍🏽") == 1  # skin tone modifier
    assert graphemes("👩\u200d💻") == 1  # zero-width-joined sequence
    assert graphemes("❤\ufe0f") == 1  # variation selector


def test_network_lengths() -> None:
    assert NETWORKS["mastodon"].length("hi", "https://example.org/" + "a" * 100) == 2 + 1 + 23
    assert NETWORKS["bluesky"].length("hi", "https://example.org/x") == 2 + 1 + len("https://example.org/x")


def test_tokens_are_random_256_bit_and_stored_as_sha256() -> None:
    token = new_token()
    assert looks_like_token(token) and token != new_token()
    assert len(token_hash(token)) == 64 and token not in token_hash(token)
    assert not looks_like_token("short") and not looks_like_token(None) and not looks_like_token("!" * 43)


def test_request_ids_are_valid_execution_names() -> None:
    request_id = new_request_id()
    assert is_request_id(request_id)
    assert len(request_id) == 17 and request_id.replace("-", "").isalnum()
    assert not is_request_id("../etc") and not is_request_id("20261121-ABCDEFGH")


FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # one grapheme, 25 bytes of UTF-8


def test_graphemes_follow_unicode_extended_clusters() -> None:
    assert graphemes("🇫🇷🇩🇪") == 2, "a flag (two regional indicators) is one grapheme"
    assert graphemes(FAMILY * 150) == 150
    assert graphemes("नमस्ते") == 3, "Devanagari conjuncts count as people see them"


def test_bluesky_counts_graphemes_and_bytes() -> None:
    bluesky = NETWORKS["bluesky"]
    assert bluesky.over_limit("x" * 300) is None
    assert bluesky.over_limit("x" * 301) == "Bluesky allows 300 graphemes, this post is 301"
    families = FAMILY * 150  # 150 graphemes, but 3,750 bytes
    problem = bluesky.over_limit(families)
    assert problem is not None and "Bluesky allows 3,000 bytes, this post is 3,750 bytes" in problem
    assert bluesky.usage("héllo") == "5 of 300 graphemes, 6 of 3,000 bytes"


def test_mastodon_counts_characters_with_links_as_23() -> None:
    mastodon = NETWORKS["mastodon"]
    link = "https://example.org/" + "a" * 300
    assert mastodon.over_limit("x" * 476, link) is None, "476 + newline + 23 = 500"
    assert mastodon.over_limit("x" * 477, link) == "Mastodon allows 500 characters, this post is 501"
    assert mastodon.over_limit(FAMILY * 150) is None, "Mastodon has no byte limit: 150 characters"


def test_mastodon_counts_grapheme_clusters_and_a_remote_mention_by_its_name() -> None:
    mastodon = NETWORKS["mastodon"]
    assert mastodon.length(FAMILY * 10, None) == 10, "Mastodon counts grapheme clusters, as people do"
    assert mastodon.length("hi @ana@mastodon.example.org", None) == len("hi @ana")
    assert mastodon.length("mail ana@example.org", None) == len("mail ana@example.org"), "not a mention"
