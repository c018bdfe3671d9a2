from challenges.scenarios import catalog


def test_catalog_has_the_four_groups_and_their_sectors():
    cat = catalog()
    assert [g.slug for g in cat.groups] == [
        "intelligent-economy",
        "intelligent-society",
        "scientific-research",
        "major-events-projects",
    ]
    sector = cat.sector("healthcare")
    assert sector.group == "intelligent-society"
    assert sector.name("zh") == "医疗" and sector.name("en") == "Healthcare"
    assert cat.sector("nowhere") is None
    assert len(cat.sector_slugs()) == len(set(cat.sector_slugs()))
    assert all(cat.sector(d["sector"]) for d in cat.demonstrations)
