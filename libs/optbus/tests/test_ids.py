import uuid

from hypothesis import given
from hypothesis import strategies as st

from optbus.ids import OPTBUS_NAMESPACE, derived_event_id

PARTS = st.lists(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False)), max_size=4)


@given(PARTS)
def test_a_derived_event_id_is_the_uuid5_of_its_parts_joined_by_colons(parts: list[object]) -> None:
    name = ":".join(str(part) for part in parts)

    assert derived_event_id(*parts) == str(uuid.uuid5(OPTBUS_NAMESPACE, name))
