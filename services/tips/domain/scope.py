"""Which tips an officer sees: their units' own, and every tip of the wards their ward police units cover."""
from services.tips.domain.units import root_unit_id


def ward_scope(unit_ids, units):
    """The wards whose tips an officer sees besides their units' own: a ward police unit in
    their scope sees every tip of its ward, whichever unit handles it."""
    return {u["ward"] for u in units if u["id"] in unit_ids and u.get("kind") == "ward_police"
            and u.get("ward") and u.get("active", True)}


def tips_scope(unit_ids, units):
    """The tips an officer acting for ``unit_ids`` sees: None (every tip) when those include the
    city police at the top of the tree, since every tip is the city's, those not routed yet too
    (escalation sends them there); else {"units", "wards"} for tip_in_scope."""
    if root_unit_id(units) in unit_ids:
        return None
    return {"units": set(unit_ids), "wards": ward_scope(unit_ids, units)}


def tip_in_scope(tip, scope):
    """``scope``: None (every tip) or {"units", "wards"}: the tip's unit is one of the units, or
    its ward one of the wards."""
    if scope is None:
        return True
    return tip.get("unit_id") in scope["units"] or (tip.get("ward") is not None and tip.get("ward") in scope["wards"])
