"""The JSON API as the browser tests' scripted colleagues use it (with `requests`)."""

import requests

from tests.e2e.conftest import DEMO_PASSWORD
from tests.support import wait_for


class Api:
    def __init__(self, base_url, username, password=DEMO_PASSWORD):
        self.base = base_url
        response = requests.post(f"{base_url}/api/v1/auth/token", json={"username": username, "password": password},
                                 timeout=30)
        response.raise_for_status()
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def call(self, method, path, expect=(200, 201, 202, 204), **kwargs):
        response = requests.request(method, f"{self.base}/api/v1{path}", headers=self.headers, timeout=30, **kwargs)
        assert response.status_code in expect, f"{method} {path}: {response.status_code} {response.text[:500]}"
        return response.json() if response.content else None

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.call("POST", path, json=json, **kwargs)


def wait_until(predicate, timeout=60, interval=0.5, what="condition"):
    return wait_for(predicate, timeout, interval, what)  # a whole system's work takes longer than a unit's


def published_post(base_url, audience, title="Cảnh báo thủ đoạn lừa đảo qua điện thoại", body=None):
    """An editor writes a post, a moderator approves and publishes it: the published post."""
    editor, moderator = Api(base_url, "bientap"), Api(base_url, "kiemduyet1")
    post = editor.post("/posts", {"kind": "news", "title": title, "audience": audience,
                                  "body": body or "Công an thành phố đề nghị người dân không cung cấp mã OTP "
                                                  "cho bất kỳ ai gọi điện tự xưng là cán bộ."})
    editor.post(f"/posts/{post['id']}/submit")
    moderator.post(f"/posts/{post['id']}/approve")
    return moderator.post(f"/posts/{post['id']}/publish")
