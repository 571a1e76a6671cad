"""The drill store's list pages: a bisect of keys kept sorted between creations and
deletions gives exactly the pages a full sort would, across namespaces."""

from datetime import UTC, datetime

from warroom.drill.store import ObjectStore


def pod(ns: str, name: str) -> dict:
    return {"metadata": {"namespace": ns, "name": name}, "spec": {}, "status": {}}


def test_pages_walk_every_pod_in_order_and_see_creations_and_deletions() -> None:
    store = ObjectStore(lambda: datetime(2026, 1, 1, tzinfo=UTC))
    for ns in ("shop", "a", "shop-2", "shopx"):
        for i in (5, 1, 12, 3):
            store.create("pods", pod(ns, f"p{i}"))
    for ns in (None, "shop", "a", "zz"):
        want = [(e.obj["metadata"]["namespace"], e.obj["metadata"]["name"])
                for e in store.entries("pods", ns)]  # fmt: skip
        got, after = [], None
        while True:
            page, remaining = store.page("pods", ns, after, 3)
            got += [(e.obj["metadata"]["namespace"], e.obj["metadata"]["name"]) for e in page]
            assert remaining == len(want) - len(got)
            if not remaining:
                break
            after = got[-1]
        assert got == want and got == sorted(got)
        assert all(k[0] == ns for k in got) or ns is None
    assert [k["metadata"]["name"] for k in store.objects("pods", "shop")] == [
        "p1", "p12", "p3", "p5",
    ]  # fmt: skip
    store.create("pods", pod("shop", "p0"))
    store.delete("pods", "shop", "p12")
    page, remaining = store.page("pods", "shop", ("shop", "p1"), 0)
    assert [e.obj["metadata"]["name"] for e in page] == ["p3", "p5"] and remaining == 0
    assert store.page("pods", "shop", None, 1)[0][0].obj["metadata"]["name"] == "p0"
