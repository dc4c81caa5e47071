"""The unit tree as groups describes it: parents, the active units, the city police at the top."""


def parent_of(unit):
    # groups events say parent_id; the seed data file says parent
    return unit.get("parent_id", unit.get("parent"))


def active_units(units):
    return [u for u in units if u.get("active", True)]


def root_unit_id(units):
    """The city police at the top of the tree (first unit without a parent)."""
    roots = [u for u in active_units(units) if not parent_of(u)]
    for unit in roots:
        if unit.get("kind") == "city_police":
            return unit["id"]
    return roots[0]["id"] if roots else None
