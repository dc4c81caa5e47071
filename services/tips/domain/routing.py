"""Routing: the unit a tip goes to, from the admin-edited rules table or the units' defaults."""
from contracts.rpc import InvalidInput
from contracts.tips import ANY
from services.tips.domain.units import active_units, root_unit_id
from services.tips.triage import CATEGORIES


# A ward police unit with no ``handles`` list takes the local matters that no city
# team in the reference data claims (the rules table overrides any of this).
WARD_DEFAULT_CATEGORIES = ("public_order", "gambling", "other")


def _ward_unit_handles(unit, category):
    handles = unit.get("handles") or []
    return category in handles if handles else category in WARD_DEFAULT_CATEGORIES


def route_explained(category, ward, rules, units):
    """(unit_id, why) for a tip. Most specific rule first:
    category+ward (3) > category+* (2) > *+ward (1) > *+* (0); then defaults from units."""
    units = active_units(units)
    known = {u["id"] for u in units}
    best, best_score = None, -1
    for rule in rules or ():
        if rule.get("unit_id") not in known:
            continue  # a rule left pointing at a removed unit must not swallow tips
        r_cat, r_ward = rule.get("category", ANY), rule.get("ward", ANY)
        if r_cat not in (ANY, category) or r_ward not in (ANY, ward):
            continue
        score = (2 if r_cat != ANY else 0) + (1 if r_ward != ANY else 0)
        if score > best_score:  # strict: the first of equal rules wins
            best, best_score = rule, score
    if best is not None:
        return best["unit_id"], f"rule {best.get('category', ANY)} × {best.get('ward', ANY)}"

    if ward:
        for unit in units:
            if unit.get("kind") == "ward_police" and unit.get("ward") == ward \
                    and _ward_unit_handles(unit, category):
                return unit["id"], f"default: ward police of {ward}"
    for unit in units:
        if unit.get("kind") == "team" and category in (unit.get("handles") or ()):
            return unit["id"], f"default: team handling {category}"
    return root_unit_id(units), "default: city police"


def route(category, ward, rules, units):
    """The unit a tip goes to (None only when there are no units at all)."""
    return route_explained(category, ward, rules, units)[0]


def validate_rules(rules, units, categories=CATEGORIES, wards=None):
    """Clean copy of an admin-edited rules table, or InvalidInput with per-row errors
    keyed ``rules.<row>.<field>``. ``wards``: known ward ids, when the caller has them."""
    if not isinstance(rules, list):
        raise InvalidInput("Bảng định tuyến phải là danh sách / Rules must be a list",
                           {"rules": ["Phải là danh sách / Must be a list"]})
    unit_ids = {u["id"] for u in units}
    errors, clean, seen = {}, [], {}
    for i, row in enumerate(rules):
        key = f"rules.{i}"
        if not isinstance(row, dict):
            errors[key] = ["Mỗi dòng phải là đối tượng / Each row must be an object"]
            continue
        extra = set(row) - {"category", "ward", "unit_id"}
        if extra:
            errors[key] = [f"Trường lạ / Unknown fields: {', '.join(sorted(extra))}"]
        category = row.get("category", ANY)
        ward = row.get("ward", ANY) or ANY
        unit_id = row.get("unit_id")
        if category != ANY and category not in categories:
            errors[f"{key}.category"] = ["Loại tin không tồn tại / Unknown category"]
        if not isinstance(ward, str) or (ward != ANY and wards is not None and ward not in wards):
            errors[f"{key}.ward"] = ["Phường/xã không tồn tại / Unknown ward"]
        if unit_id not in unit_ids:
            errors[f"{key}.unit_id"] = ["Đơn vị không tồn tại / Unknown unit"]
        pair = (category, ward)
        if pair in seen:
            errors[key] = errors.get(key, []) + [
                f"Trùng với dòng {seen[pair]} / Duplicates row {seen[pair]}"]
        else:
            seen[pair] = i
        clean.append({"category": category, "ward": ward, "unit_id": unit_id})
    if errors:
        raise InvalidInput("Bảng định tuyến có lỗi / The routing rules have errors", errors)
    return clean
