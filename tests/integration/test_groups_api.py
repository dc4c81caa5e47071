"""The groups directory through the HTTP API: units, officers, channels, import,
audiences, subscriptions and the demo data, with every role boundary."""
import unicodedata

import pytest

from tests.conftest import login
from tests.support import problem, wait_for

pytestmark = pytest.mark.integration

DEMO_PASSWORD = "demo-password-123"
ZALO = ("zalo_oa_group", "zalo_group_manual")


@pytest.fixture(scope="module")
def stack(module_stack):
    module_stack.start("groups")
    first = module_stack.rpc.groups.load_demo_data("city", DEMO_PASSWORD, "http://127.0.0.1:8900")
    module_stack.first_load = first
    client = module_stack.client
    module_stack.admin = login(client, "admin", "admin-password-for-tests")
    module_stack.ninh_khanh = login(client, "canbo.ninh-khanh", DEMO_PASSWORD)
    module_stack.tan_thanh = login(client, "canbo.tan-thanh", DEMO_PASSWORD)
    module_stack.editor = login(client, "bientap", DEMO_PASSWORD)
    module_stack.auditor = login(client, "thanhtra", DEMO_PASSWORD)
    return module_stack


def all_pages(client, url, headers):
    items, cursor = [], None
    while True:
        sep = "&" if "?" in url else "?"
        response = client.get(url + (f"{sep}cursor={cursor}" if cursor else ""), headers=headers)
        assert response.status_code == 200, response.data
        body = response.get_json()
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items


# --- demo data ------------------------------------------------------------------------

def test_demo_data_matches_the_published_figures_and_loads_once(stack):
    assert stack.first_load["channels_created"] == stack.first_load["channels_total"] == 1 + 1 + 305 + 27
    again = stack.rpc.groups.load_demo_data("city", DEMO_PASSWORD, "http://127.0.0.1:8900")
    assert again == {"units_created": 0, "officers_created": 0, "channels_created": 0,
                     "channels_total": stack.first_load["channels_total"]}
    zalo = all_pages(stack.client, "/api/v1/channels?limit=500&type=zalo_oa_group&type=zalo_group_manual",
                     stack.auditor)
    assert len(zalo) == 305
    manual = [c for c in zalo if c["type"] == "zalo_group_manual"]
    assert len(manual) == 61 and all(c["relay_officer_id"] and c["delivery"] == "manual_relay" for c in manual)
    assert len({c["ward"] for c in zalo}) == 14 and len({c["kind"] for c in zalo}) == 9
    pages = all_pages(stack.client, "/api/v1/channels?type=facebook_page", stack.auditor)
    assert [p["followers"] for p in pages] == [22000]


def test_list_pagination_walks_every_item_once(stack):
    seen = all_pages(stack.client, "/api/v1/channels?limit=7&ward=ninh-khanh", stack.auditor)
    ids = [c["id"] for c in seen]
    assert len(ids) == len(set(ids)) and len(ids) > 7
    assert all(c["ward"] == "ninh-khanh" for c in seen)
    problem(stack.client.get("/api/v1/channels?cursor=!!notacursor", headers=stack.auditor), 422)
    problem(stack.client.get("/api/v1/channels?limit=0", headers=stack.auditor), 422)


# --- audiences ----------------------------------------------------------------------

def test_audience_preview_every_boarding_house_group_in_ninh_khanh(stack):
    response = stack.client.post("/api/v1/audiences/resolve", headers=stack.editor,
                                 json={"kinds": ["boarding_house"], "wards": ["ninh-khanh"]})
    assert response.status_code == 200, response.data
    audience = response.get_json()
    assert audience["count"] > 0 and not audience["truncated"]
    assert all(c["kind"] == "boarding_house" and c["ward"] == "ninh-khanh" for c in audience["channels"])
    assert sum(audience["by_type"].values()) == audience["count"]


def test_audience_units_descendants_listed_and_excluded(stack):
    client, h = stack.client, stack.editor
    everything = client.post("/api/v1/audiences/resolve?limit=0", headers=h, json={"units": ["catp"]}).get_json()
    assert everything["count"] == 334 and everything["channels"] == [] and everything["truncated"]
    only_root = client.post("/api/v1/audiences/resolve", headers=h,
                            json={"units": ["catp"], "include_descendants": False}).get_json()
    assert only_root["by_type"] == {"facebook_page": 1, "youtube_channel": 1}
    fanpage = only_root["channels"][0]["id"]
    ward = client.post("/api/v1/audiences/resolve", headers=h, json={"units": ["ca-ninh-khanh"]}).get_json()
    plus = client.post("/api/v1/audiences/resolve", headers=h,
                       json={"units": ["ca-ninh-khanh"], "channels": [fanpage],
                             "exclude_channels": [ward["channels"][0]["id"]]}).get_json()
    assert plus["count"] == ward["count"]  # one added, one removed
    assert fanpage in {c["id"] for c in plus["channels"]}
    empty = client.post("/api/v1/audiences/resolve", headers=h, json={}).get_json()
    assert empty["count"] == 0
    problem(client.post("/api/v1/audiences/resolve", headers=h, json={"channel_types": ["telegram"]}), 422)


# --- units -------------------------------------------------------------------------------

def test_units_create_move_and_refuse_cycles(stack):
    client, admin = stack.client, stack.admin
    created = client.post("/api/v1/units", headers=admin,
                          json={"name": "Tổ công tác 1", "kind": "team", "parent_id": "doi-cshs"})
    assert created.status_code == 201, created.data
    unit = created.get_json()
    assert unit["id"] == "to-cong-tac-1"
    child = client.post("/api/v1/units", headers=admin,
                        json={"id": "to-con", "name": "Tổ con", "kind": "team", "parent_id": "to-cong-tac-1"})
    assert child.status_code == 201
    # moving a unit under its own descendant would make a cycle
    body = problem(client.patch("/api/v1/units/to-cong-tac-1", headers=admin, json={"parent_id": "to-con"}), 422)
    assert body["errors"]["parent_id"] == ["cycle"]
    problem(client.patch("/api/v1/units/to-cong-tac-1", headers=admin, json={"parent_id": "to-cong-tac-1"}), 422)
    problem(client.post("/api/v1/units", headers=admin,
                        json={"name": "Mồ côi", "kind": "team", "parent_id": "khong-ton-tai"}), 422)
    moved = client.patch("/api/v1/units/to-con", headers=admin, json={"parent_id": "doi-ma-tuy"})
    assert moved.status_code == 200 and moved.get_json()["parent_id"] == "doi-ma-tuy"
    assert client.get("/api/v1/units/to-con", headers=stack.auditor).get_json()["parent_id"] == "doi-ma-tuy"


def test_deactivating_a_unit_never_orphans_its_children_or_channels(stack):
    client, admin = stack.client, stack.admin
    body = problem(client.patch("/api/v1/units/catp", headers=admin, json={"active": False}), 422)
    assert "active" in body["errors"]
    problem(client.patch("/api/v1/units/ca-ninh-phuc", headers=admin, json={"active": False}), 422)  # channels
    client.post("/api/v1/units", headers=admin, json={"id": "to-tam", "name": "Tổ tạm", "kind": "team",
                                                       "parent_id": "catp"})
    assert client.patch("/api/v1/units/to-tam", headers=admin, json={"active": False}).status_code == 200


def test_only_admin_manages_units(stack):
    for headers in (stack.editor, stack.ninh_khanh, stack.auditor):
        problem(stack.client.post("/api/v1/units", headers=headers, json={"name": "X", "kind": "team"}), 403)
    problem(stack.client.post("/api/v1/units", json={"name": "X", "kind": "team"}), 401)


def test_nfd_and_nfc_names_are_the_same_name(stack):
    name = "Đội Cảnh sát cơ động"
    nfd = unicodedata.normalize("NFD", name)
    assert nfd != name
    first = stack.client.post("/api/v1/units", headers=stack.admin, json={"name": nfd, "kind": "team",
                                                                           "parent_id": "catp"})
    assert first.status_code == 201
    assert first.get_json()["name"] == name  # stored NFC
    problem(stack.client.post("/api/v1/units", headers=stack.admin,
                              json={"name": name, "kind": "team", "parent_id": "catp"}), 409)


# --- officers -------------------------------------------------------------------------------

def test_officers_are_admin_only_and_never_show_passwords(stack):
    created = stack.client.post("/api/v1/officers", headers=stack.admin, json={
        "username": "kiemduyet3", "password": "mat-khau-rat-dai", "full_name": "Ban kiểm duyệt 3",
        "roles": ["moderator"], "unit_id": "catp"})
    assert created.status_code == 201, created.data
    listing = stack.client.get("/api/v1/officers?limit=500", headers=stack.admin)
    text = listing.get_data(as_text=True)
    assert "kiemduyet3" in text and "password" not in text and "argon2" not in text
    problem(stack.client.get("/api/v1/officers", headers=stack.editor), 403)
    problem(stack.client.post("/api/v1/officers", headers=stack.admin, json={
        "username": "kiemduyet3", "password": "mat-khau-rat-dai", "roles": ["moderator"], "unit_id": "catp"}), 409)
    # an officer with no unit would act for no unit: refused (admins excepted)
    no_unit = problem(stack.client.post("/api/v1/officers", headers=stack.admin, json={
        "username": "x3x", "password": "mat-khau-rat-dai", "roles": ["unit_operator"]}), 422)
    assert no_unit["errors"] == {"unit_id": ["required"]}
    problem(stack.client.post("/api/v1/officers", headers=stack.admin, json={
        "username": "x1x", "password": "mat-khau-rat-dai", "roles": ["superuser"]}), 422)
    problem(stack.client.post("/api/v1/officers", headers=stack.admin, json={
        "username": "x2x", "password": "mat-khau-rat-dai", "roles": ["editor"], "unit_id": "nowhere"}), 422)
    assert login(stack.client, "kiemduyet3", "mat-khau-rat-dai")


# --- channels ------------------------------------------------------------------------------

NEW_GROUP = {"name": "Nhóm nhà trọ an toàn – Ninh Khánh mới", "type": "zalo_oa_group", "unit_id": "ca-ninh-khanh",
             "kind": "boarding_house", "ward": "ninh-khanh", "external_id": "zg-test-001",
             "credentials_ref": "ZALO_OA_TOKEN", "followers": 55}


def test_operator_manages_own_ward_channels_only(stack, mongo_client):
    client = stack.client
    created = client.post("/api/v1/channels", headers=stack.ninh_khanh, json=NEW_GROUP)
    assert created.status_code == 201, created.data
    channel = created.get_json()
    assert channel["delivery"] == "api" and channel["status"] == "active"
    # another ward's operator can read it but not touch it
    assert client.get(f"/api/v1/channels/{channel['id']}", headers=stack.tan_thanh).status_code == 200
    problem(client.patch(f"/api/v1/channels/{channel['id']}", headers=stack.tan_thanh, json={"followers": 1}), 403)
    problem(client.delete(f"/api/v1/channels/{channel['id']}", headers=stack.tan_thanh), 403)
    problem(client.post("/api/v1/channels", headers=stack.tan_thanh,
                        json=dict(NEW_GROUP, external_id="zg-test-002")), 403)
    problem(client.post("/api/v1/channels", headers=stack.editor,
                        json=dict(NEW_GROUP, external_id="zg-test-003")), 403)
    patched = client.patch(f"/api/v1/channels/{channel['id']}", headers=stack.ninh_khanh, json={"followers": 60})
    assert patched.status_code == 200 and patched.get_json()["followers"] == 60
    gone = client.delete(f"/api/v1/channels/{channel['id']}", headers=stack.ninh_khanh)
    assert gone.status_code == 200 and gone.get_json()["status"] == "inactive"
    audience = client.post("/api/v1/audiences/resolve", headers=stack.editor,
                           json={"channels": [channel["id"]]}).get_json()
    assert audience["count"] == 0  # inactive channels are never targeted
    outbox = stack.db("groups").outbox
    types = [e["envelope"]["type"] for e in outbox.find({"envelope.data.channel_id": channel["id"]})]
    assert types == ["groups.channel_registered", "groups.channel_deactivated"]


def test_channel_input_errors(stack):
    client, h = stack.client, stack.ninh_khanh
    problem(client.post("/api/v1/channels", headers=h, json=dict(NEW_GROUP, external_id="zg1000000")), 409)
    body = problem(client.post("/api/v1/channels", headers=stack.admin,
                               json=dict(NEW_GROUP, unit_id="no-such-unit", external_id="zg-x")), 422)
    assert "unit_id" in body["errors"]
    body = problem(client.post("/api/v1/channels", headers=h,
                               json=dict(NEW_GROUP, external_id="zg-y", credentials_ref="EAAGm0PX4ZCpsBA")), 422)
    assert "credentials_ref" in body["errors"]  # looks like a token, not a variable name
    problem(client.post("/api/v1/channels", headers=h, json=dict(NEW_GROUP, external_id="zg-z", type="zalo_group_manual",
                                                                   credentials_ref=None)), 422)  # no relay officer
    problem(client.post("/api/v1/channels", headers=h, json=dict(NEW_GROUP, external_id="zg-w", ward="atlantis")), 422)
    problem(client.post("/api/v1/channels", headers=h, json=dict(NEW_GROUP, external_id="zg-v", token="secret")), 422)


def test_credentials_ref_must_name_a_place_not_hold_a_secret(stack):
    bad = stack.client.post("/api/v1/channels", headers=stack.admin,
                            json=dict(NEW_GROUP, external_id="zg-secret", credentials_ref="EAAG m0PX4Z/Cps+BA=="))
    assert "credentials_ref" in problem(bad, 422)["errors"]


# --- bulk import ------------------------------------------------------------------------------

CSV_HEADER = "name,type,unit_id,kind,ward,external_id,relay_officer_id,credentials_ref,followers\n"


def csv_rows(prefix, n, ward="tan-thanh", unit="ca-tan-thanh"):
    return "".join(f"Nhóm {prefix} {i},zalo_oa_group,{unit},residential,{ward},{prefix}-{i},,ZALO_OA_TOKEN,{i}\n"
                   for i in range(n))


def test_csv_import_reports_every_bad_row_and_imports_nothing(stack):
    body = (CSV_HEADER + csv_rows("imp-a", 3)
            + "Nhóm hỏng,zalo_oa_group,ca-tan-thanh,no-such-kind,tan-thanh,imp-a-bad,,ZALO_OA_TOKEN,1\n"
            + "Nhóm thường,zalo_group_manual,ca-tan-thanh,residential,tan-thanh,imp-a-manual,,,1\n"
            + "Nhóm trùng,zalo_oa_group,ca-tan-thanh,residential,tan-thanh,imp-a-0,,ZALO_OA_TOKEN,1\n")
    response = stack.client.post("/api/v1/channels/import", headers=stack.tan_thanh, data=body.encode(),
                                 content_type="text/csv")
    errors = problem(response, 422)["errors"]["rows"]
    assert [e["line"] for e in errors] == [5, 6, 7]
    assert "kind" in errors[0]["errors"] and "relay_officer_id" in errors[1]["errors"]
    assert "external_id" in errors[2]["errors"]
    listed = stack.client.get("/api/v1/channels?unit_id=ca-tan-thanh&limit=500", headers=stack.tan_thanh).get_json()
    assert not any(c["external_id"].startswith("imp-a") for c in listed["items"])

    partial = stack.client.post("/api/v1/channels/import?partial=true", headers=stack.tan_thanh, data=body.encode(),
                                content_type="text/csv")
    assert partial.status_code == 200, partial.data
    report = partial.get_json()
    assert (report["created"], report["rejected"]) == (3, 3)


def test_import_is_idempotent_and_scoped(stack):
    body = (CSV_HEADER + csv_rows("imp-b", 40)).encode()
    first = stack.client.post("/api/v1/channels/import", headers=stack.tan_thanh, data=body, content_type="text/csv")
    assert first.status_code == 200 and first.get_json()["created"] == 40
    again = stack.client.post("/api/v1/channels/import", headers=stack.tan_thanh, data=body, content_type="text/csv")
    assert again.get_json() == {"rows": 40, "created": 0, "updated": 0, "unchanged": 40, "rejected": 0, "errors": []}
    as_json = [dict(NEW_GROUP, external_id=f"imp-c-{i}", ward="tan-thanh", unit_id="ca-tan-thanh") for i in range(3)]
    response = stack.client.post("/api/v1/channels/import", headers=stack.tan_thanh, json=as_json)
    assert response.get_json()["created"] == 3
    # another ward's operator cannot import into Tân Thành
    other = stack.client.post("/api/v1/channels/import", headers=stack.ninh_khanh,
                              data=(CSV_HEADER + csv_rows("imp-d", 2)).encode(), content_type="text/csv")
    assert all("unit_id" in e["errors"] for e in problem(other, 422)["errors"]["rows"])
    problem(stack.client.post("/api/v1/channels/import", headers=stack.tan_thanh, data=b"name,colour\nx,y\n",
                              content_type="text/csv"), 422)
    problem(stack.client.post("/api/v1/channels/import", headers=stack.tan_thanh, data=b"<xml/>",
                              content_type="application/xml"), 415)


# --- subscriptions ------------------------------------------------------------------------------

def test_subscriptions_deliver_to_own_channels_and_answer_who_receives(stack):
    client = stack.client
    own = client.get("/api/v1/channels?unit_id=ca-ninh-khanh&type=zalo_oa_group&limit=1",
                     headers=stack.ninh_khanh).get_json()["items"][0]
    sub = client.post("/api/v1/subscriptions", headers=stack.ninh_khanh, json={
        "unit_id": "ca-ninh-khanh", "event_pattern": "tips.*", "filters": {"ward": "ninh-khanh"},
        "target_channel_id": own["id"]})
    assert sub.status_code == 201, sub.data
    sub = sub.get_json()
    problem(client.post("/api/v1/subscriptions", headers=stack.tan_thanh, json={
        "unit_id": "ca-ninh-khanh", "event_pattern": "tips.*", "target_channel_id": own["id"]}), 403)
    problem(client.post("/api/v1/subscriptions", headers=stack.admin, json={
        "unit_id": "ca-tan-thanh", "event_pattern": "tips.*", "target_channel_id": own["id"]}), 422)
    problem(client.post("/api/v1/subscriptions", headers=stack.ninh_khanh, json={
        "unit_id": "ca-ninh-khanh", "event_pattern": "tips", "target_channel_id": own["id"]}), 422)

    who = stack.rpc.groups.recipients_for("tips.assigned", {"ward": "ninh-khanh", "category": "drugs"})
    assert [r["subscription_id"] for r in who] == [sub["id"]] and who[0]["channel"]["id"] == own["id"]
    assert stack.rpc.groups.recipients_for("tips.assigned", {"ward": "tan-thanh"}) == []
    assert stack.rpc.groups.recipients_for("posts.published", {"ward": "ninh-khanh"}) == []

    listed = client.get("/api/v1/subscriptions?unit_id=ca-ninh-khanh", headers=stack.auditor).get_json()["items"]
    assert [s["id"] for s in listed] == [sub["id"]]
    problem(client.delete(f"/api/v1/subscriptions/{sub['id']}", headers=stack.tan_thanh), 403)
    assert client.delete(f"/api/v1/subscriptions/{sub['id']}", headers=stack.ninh_khanh).status_code == 204
    assert stack.rpc.groups.recipients_for("tips.assigned", {"ward": "ninh-khanh"}) == []
    changes = [e["envelope"]["data"]["action"] for e in stack.db("groups").outbox.find(
        {"envelope.type": "groups.subscription_changed"})]
    assert changes == ["created", "deleted"]
    wait_for(lambda: stack.db("groups").outbox.count_documents({"sent_at": None}) == 0, message="outbox drained")


def test_five_wrong_passwords_lock_the_account_for_a_while(stack):
    client = stack.client
    assert client.post("/api/v1/officers", headers=stack.admin, json={
        "username": "khoa.thu", "password": "mat-khau-dung-123", "roles": ["editor"],
        "unit_id": "doi-tham-muu"}).status_code == 201
    for _ in range(5):
        problem(client.post("/api/v1/auth/token", json={"username": "khoa.thu", "password": "doan-sai-mat-khau"}), 401)
    locked = client.post("/api/v1/auth/token", json={"username": "khoa.thu", "password": "mat-khau-dung-123"})
    body = problem(locked, 429)
    assert int(locked.headers["Retry-After"]) > 800 and "khoá" in body["detail"]
    # other officers are not affected
    assert login(client, "bientap", DEMO_PASSWORD)
