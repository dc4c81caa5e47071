"""What the gateway answers before any service is asked: the right form of error for who asked
(problem+json for API clients, a page for people), 415 for a body it does not read, ISO times."""
from datetime import datetime, timezone

import pytest

from gateway.app import create_app
from tests.unit.test_permissions import SECRET, NoServices, token


@pytest.fixture(scope="module")
def app():
    app = create_app({"JWT_SECRET": SECRET, "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/"})
    app.extensions["rpc"] = NoServices()
    return app


def test_an_unknown_api_url_is_a_problem_pointing_to_the_openapi_document(app):
    response = app.test_client().get("/api/v1/khong-co")
    assert response.status_code == 404 and response.content_type == "application/problem+json"
    assert "/api/v1/openapi.json" in response.get_json()["detail"]


def test_an_unknown_page_is_a_page_in_vietnamese_with_the_way_back(app):
    for url in ("/khong-co-trang-nay", "/console/khong-co"):
        response = app.test_client().get(url)
        assert response.status_code == 404 and response.mimetype == "text/html", url
        assert "Không có trang này" in response.get_data(as_text=True)


def test_a_form_posted_to_the_json_api_is_415_not_422(app):
    response = app.test_client().post("/api/v1/posts", data={"title": "x"},
                                      headers={"Authorization": f"Bearer {token(['editor'])}"})
    assert response.status_code == 415 and "application/json" in response.get_json()["detail"]


def test_times_are_iso_8601_even_inside_free_form_fields(app):
    with app.app_context():
        text = app.json.dumps({"approvals": [{"at": datetime(2026, 12, 3, 10, 27, 27, tzinfo=timezone.utc)}]})
    assert "2026-12-03T10:27:27+00:00" in text and "GMT" not in text
