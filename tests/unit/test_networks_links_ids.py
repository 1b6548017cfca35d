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
