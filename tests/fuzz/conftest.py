import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Pytest 9 builds a node id from the function's original name only, so schemathesis' items (one per
    API operation) would all be `test_every_operation`; give each its operation, as schemathesis meant."""
    for item in items:
        label = getattr(item, "operation_label", None)
        node_id = getattr(item, "_id", None)
        if label and node_id is not None and hasattr(node_id, "with_params") and label not in item.nodeid:
            item._id = node_id.with_params(label)
