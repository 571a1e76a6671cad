"""The streaming list parser: any split of the body gives the same items and metadata as
json.loads; a broken or truncated body is one clear error."""

import json
import random

import pytest

from warroom.sources.kube_list import ListParseError, ListParser

BODY = json.dumps(
    {
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": "42", "continue": ""},
        "items": [
            {"metadata": {"name": f"p{i}", "labels": {"a": 'x,]}{"y'}}, "n": i, "s": "é…"}
            for i in range(50)
        ],
    },
    indent=1,
    ensure_ascii=False,
).encode()


def parse(body: bytes, cuts: list[int]) -> ListParser[dict]:
    p: ListParser[dict] = ListParser(lambda item: item)
    last = 0
    for cut in [*sorted(cuts), len(body)]:
        p.feed(body[last:cut])
        last = cut
    p.feed(b"", final=True)
    return p


@pytest.mark.parametrize("seed", range(20))
def test_any_split_parses_like_json_loads(seed: int) -> None:
    rng = random.Random(seed)
    cuts = [rng.randrange(len(BODY)) for _ in range(rng.randrange(1, 200))]
    p = parse(BODY, cuts)
    whole = json.loads(BODY)
    assert p.items == whole["items"]
    assert p.fields["metadata"] == {"resourceVersion": "42", "continue": ""}
    assert p.fields["kind"] == "PodList" and p.done


def test_byte_by_byte_and_empty_or_null_items() -> None:
    assert parse(BODY, list(range(len(BODY)))).items == json.loads(BODY)["items"]
    assert parse(b'{"items":[],"metadata":{"resourceVersion":"1"}}', [5]).items == []
    assert parse(b'{"metadata":{},"items":null}', [3, 17]).items == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"items":[{"a":1},',  # cut off mid-list
        b'{"items":[{"a":1}]',  # no closing brace
        b'["not", "a", "list body"]',
        b'{"items":[1,2]}',  # items that are not objects
        b'{"items":[{"a":1}]}trailing',
        b'{"items" 5}',
    ],
)
def test_a_broken_body_is_one_error(body: bytes) -> None:
    with pytest.raises(ListParseError):
        parse(body, [len(body) // 2])


def test_a_stream_keeps_its_unhealthy_count_exact() -> None:
    """The summary's count is kept as pods come, change and go, never recounted: it must
    always equal a recount."""
    import dataclasses

    from warroom.pods import pod_row
    from warroom.sources.kube_stream import Stream

    base = pod_row({"metadata": {"uid": "u", "name": "p", "namespace": "n"}})
    rng = random.Random(7)
    s = Stream("n")
    for _ in range(2000):
        uid = f"u{rng.randrange(50)}"
        if rng.random() < 0.2:
            s.drop(uid)
        else:
            s.put(dataclasses.replace(base, uid=uid, healthy=rng.random() < 0.5))
        assert s.unhealthy == sum(not r.healthy for r in s.rows.values())
    s.replace({})
    assert s.unhealthy == 0
