"""SeenIds behaves as an immutable set, however the states that hold it branch."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from optbus_risk.state import SeenIds

ids = st.sampled_from([f"intent-{n}" for n in range(12)])


@given(st.lists(st.tuples(st.integers(min_value=0), ids), max_size=60))
def test_every_version_holds_exactly_what_was_added_to_it(steps: list[tuple[int, str]]) -> None:
    versions, models = [SeenIds()], [frozenset[str]()]
    for parent, intent_id in steps:
        at = parent % len(versions)
        versions.append(versions[at].with_id(intent_id))
        models.append(models[at] | {intent_id})

    for version, model in zip(versions, models, strict=True):
        assert version == model
        assert len(version) == len(model)
        assert all(intent_id in version for intent_id in model)


def test_adding_an_id_already_seen_returns_the_same_set() -> None:
    seen = SeenIds.of(["a", "b"])

    assert seen.with_id("a") is seen


def test_a_set_a_caller_holds_never_gains_the_ids_added_after_it() -> None:
    older = SeenIds().with_id("a")

    older.with_id("b")

    assert "b" not in older
    assert list(older) == ["a"]
