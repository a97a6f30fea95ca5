"""Names, once: singular and plural nouns and the case forms the spec writer and the build share."""

from __future__ import annotations

import pytest

from kiln.domain.generators import naming


@pytest.mark.parametrize(
    "plural, singular",
    [
        ("statuses", "status"),
        ("status", "status"),
        ("copies", "copy"),
        ("people", "person"),
        ("aliases", "alias"),
        ("analyses", "analysis"),
        ("criteria", "criterion"),
        ("children", "child"),
        ("menus", "menu"),
        ("clinics", "clinic"),
        ("mechanics", "mechanic"),
        ("data", "data"),
        ("analytics", "analytics"),
        ("news", "news"),
        ("bus", "bus"),
        ("class", "class"),
        ("classes", "class"),
        ("steps", "step"),
        ("agenda", "agenda"),
        ("series", "series"),
    ],
)
def test_singular(plural, singular):
    assert naming.singular(plural) == singular


@pytest.mark.parametrize(
    "name, snake, collection, param",
    [
        ("TimeEntry", "time_entry", "time-entries", "timeEntryId"),
        ("HTTPServer", "http_server", "http-servers", "hTTPServerId"),
        ("Status", "status", "statuses", "statusId"),
        ("Person", "person", "people", "personId"),
        ("PurchaseOrder", "purchase_order", "purchase-orders", "purchaseOrderId"),
        ("Copy", "copy", "copies", "copyId"),
    ],
)
def test_case_forms(name, snake, collection, param):
    assert naming.snake(name) == snake
    assert naming.collection(name) == collection
    assert naming.param(name) == param
    assert naming.singular_segment(collection) == snake


def test_phrases_and_articles():
    assert naming.pascal("purchase order") == "PurchaseOrder"
    assert naming.words("HTTPServer") == "http server"
    assert naming.foreign_key("TimeEntry") == "time_entry_id"
    assert naming.param_snake("projectId") == "project_id" and naming.param_snake("project-id") == "project_id"
    assert [naming.article(word) for word in ("item", "user", "hour", "url", "link")] == [
        "an item",
        "a user",
        "an hour",
        "a url",
        "a link",
    ]
