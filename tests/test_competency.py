"""The ten competency questions of the foundation issue, answered from the real graph as the fact sheets say."""

import pytest

from graph import EmbeddedStore, load_named_queries

QUERIES = load_named_queries()
ID = "https://w3id.org/ecrn/id/"


def ask(store: EmbeddedStore, name: str, **args: str) -> list[dict[str, str]]:
    return QUERIES[name].run(store, args).rows()


def by(rows: list[dict[str, str]], key: str) -> dict[str, dict[str, str]]:
    return {row[key]: row for row in rows}


def codes(row: dict[str, str], key: str) -> set[str]:
    return set(row.get(key, "").split())


def test_q1_partner_regions_with_country_and_nuts_codes_then_and_now(store: EmbeddedStore) -> None:
    regions = by(ask(store, "chemclust-partner-regions"), "label")
    assert len(regions) == 10
    assert {r["country"] for r in regions.values()} == {"DE", "ES", "PL", "CZ", "GB", "IT", "NL"}
    cheshire, masovia, teesside = regions["Cheshire West and Chester"], regions["Masovia"], regions["Teesside"]
    assert codes(cheshire, "nutsThen") == {"UKD22"} and codes(cheshire, "nutsNow") == set()
    assert codes(teesside, "nutsNow") == set() and "UKC1" in codes(teesside, "nutsThen")
    assert codes(masovia, "nutsThen") == {"PL12"} and {"PL91", "PL92"} <= codes(masovia, "nutsNow")
    assert "PL12" not in codes(masovia, "nutsNow")
    for label, code in [("Saxony-Anhalt", "DEE"), ("North Rhine-Westphalia", "DEA"), ("Schleswig-Holstein", "DEF"),
                        ("Asturias", "ES12"), ("Ústí Region", "CZ042"), ("Novara", "ITC15"), ("Limburg (NL)", "NL42")]:
        assert code in codes(regions[label], "nutsThen") and code in codes(regions[label], "nutsNow"), label


def test_q1_the_date_selects_the_nuts_version_in_force(store: EmbeddedStore) -> None:
    regions = by(ask(store, "chemclust-partner-regions", date="2012-06-01"), "label")
    assert codes(regions["Cheshire West and Chester"], "nutsThen") == {"UKD63"}
    assert codes(regions["Masovia"], "nutsThen") == {"PL12"}
    later = by(ask(store, "chemclust-partner-regions", date="2019-01-01"), "label")
    assert {"PL91", "PL92"} <= codes(later["Masovia"], "nutsThen")


def test_q2_lead_partner_first_with_type_and_region_then_every_partner(store: EmbeddedStore) -> None:
    rows = ask(store, "chemclust-partners")
    lead = rows[0]
    assert (lead["roleLabel"], lead["organisationLabel"], lead["typeLabel"], lead["regionLabel"]) == (
        "Lead partner", "Ministry of Science and Economy of Saxony-Anhalt", "Regional authority", "Saxony-Anhalt")
    types = {r["organisation"].removeprefix(ID + "organisation/"): r.get("typeLabel")
             for r in rows if "organisation" in r}
    assert types["idepa"] == "Development agency" and types["egeb"] == "Development agency"
    assert types["cheshire-west-and-chester-council"] == "Local authority"
    assert types["provincia-di-novara"] == "Local authority"
    assert types["mazowieckie-voivodeship"] == types["usti-regional-authority"] == "Regional authority"
    teesside = [r for r in rows if r.get("regionLabel") == "Teesside"]
    assert len(teesside) == 1 and "organisation" not in teesside[0]
    assert len({r["regionLabel"] for r in rows}) == 10


def test_q3_programme_priority_fund_dates_and_money(store: EmbeddedStore) -> None:
    (row,) = ask(store, "chemclust-budget")
    assert row["programmeLabel"] == "INTERREG IVC"
    assert "Innovation and the knowledge economy" in row["priorityLabel"]
    assert row["fundLabel"] == "European Regional Development Fund"
    assert (row["start"], row["end"]) == ("2010-01-01", "2012-12-31")
    assert (float(row["totalBudget"]), float(row["euContribution"]), row["currency"]) == (1762400.0, 1342200.0, "EUR")


def test_q4_three_pilot_actions_and_their_active_regions(store: EmbeddedStore) -> None:
    rows = ask(store, "chemclust-pilot-actions")
    active = {r["pilotAction"].removeprefix(ID + "pilot-action/"): r.get("regionLabel") for r in rows}
    assert active == {"chemclust-chemical-parks": "Ústí Region", "chemclust-open-innovation": "Novara",
                      "chemclust-skills-foresight": "Cheshire West and Chester"}


def test_q5_good_practices_with_owner_region_theme_project_and_start(store: EmbeddedStore) -> None:
    practices = by(ask(store, "good-practices"), "practice")
    assert len(practices) == 15
    cechemnet = practices[ID + "practice/cechemnet"]
    assert (cechemnet["regions"], cechemnet["projects"], cechemnet["start"]) == (
        "Saxony-Anhalt", "ChemClust", "2002-04-01")
    assert "Chemical parks as knowledge sites" in cechemnet["themes"]
    campus = practices[ID + "practice/chematerials-campus"]
    assert set(campus["owners"].split(" | ")) == {"DSM", "Zuyd University"}
    assert (campus["regions"], campus["projects"], campus["start"]) == ("Limburg (NL)", "ChemClust", "2008-01-01")
    s3chem = {p for p, row in practices.items() if "S3Chem" in row.get("projects", "")}
    assert {ID + "practice/technology-roadmap-chemistry-bioeconomy",
            ID + "practice/mazowiecka-liquidity-loan"} <= s3chem


def test_q6_transfers_from_practice_and_region_to_region_with_vehicle_and_status(store: EmbeddedStore) -> None:
    rows = ask(store, "transfers")
    t01 = [r for r in rows if r["transfer"] == ID + "transfer/cechemnet-to-usti"]
    assert {r["sourceRegionLabel"] for r in t01} >= {"Saxony-Anhalt"}
    assert {(r["practiceLabel"].endswith("(CeChemNet)"), r["targetRegionLabel"], r["statusLabel"]) for r in t01} == {
        (True, "Ústí Region", "Exchanged")}
    assert t01[0]["vehicleLabel"] == "Improving the organisation of chemical parks towards knowledge sites"
    adopted = {r["targetRegionLabel"] for r in ask(store, "transfers", status="adopted")}
    assert adopted == {"Lombardy", "Masovia"}


def test_q7_ecrn_members_known_at_a_date_and_the_chemclust_partners_among_them(store: EmbeddedStore) -> None:
    members = by(ask(store, "ecrn-members", date="2014-12-31"), "label")
    assert {"Baden-Württemberg", "Masovia", "Ústí Region", "Wallonia", "Lombardy"} <= set(members)
    partners = {label for label, row in members.items() if row["projectPartner"] == "true"}
    assert {"Saxony-Anhalt", "Masovia", "Ústí Region", "Limburg (NL)", "Novara", "Schleswig-Holstein"} <= partners
    assert "Lombardy" not in partners
    earlier = by(ask(store, "ecrn-members", date="2009-12-31"), "label")
    assert "Ústí Region" in earlier and "Masovia" not in earlier and "Baden-Württemberg" not in earlier


def test_q8_outputs_and_events_in_date_order(store: EmbeddedStore) -> None:
    rows = ask(store, "chemclust-timeline")
    dated = [r["date"] for r in rows if "date" in r]
    assert dated == sorted(dated) and len(dated) >= 5
    assert all("date" in r for r in rows[:len(dated)])
    items = {r["item"].removeprefix(ID) for r in rows}
    assert {"output/chemclust-best-practice-inventory", "event/chemclust-skills-conference-2012"} <= items
    skills = next(r for r in rows if r["item"].endswith("chemclust-skills-conference-2012"))
    assert skills["date"] == "2012-06-06" and skills["kind"] == "event"


def test_q9_policy_instruments_per_region_with_related_practices(store: EmbeddedStore) -> None:
    rows = ask(store, "policy-instruments", region=ID + "region/saxony-anhalt")
    instruments = by(rows, "instrument")
    op = instruments[ID + "policy/op-saxony-anhalt-erdf-2014-2020"]
    assert op["typeLabel"] == "Operational programme"
    assert "Technology Roadmap" in op["related"] and "S3Chem" in op["related"]
    assert {r["regionLabel"] for r in rows} == {"Saxony-Anhalt"}
    every = {r["regionLabel"] for r in ask(store, "policy-instruments")}
    assert {"Masovia", "Lombardy", "Wallonia", "Ústí Region"} <= every


@pytest.mark.parametrize(("region", "expected"), [
    ("usti-region", {("ChemClust", "Partner"), ("ChemLog", "Partner")}),
    ("saxony-anhalt", {("ChemClust", "Lead partner"), ("S3Chem", "Lead partner"), ("ChemLog", "Lead partner")}),
    ("teesside", {("ChemClust", "Partner")}),
])
def test_q10_projects_each_region_took_part_in_with_its_role(store: EmbeddedStore, region: str,
                                                             expected: set[tuple[str, str]]) -> None:
    rows = ask(store, "region-projects", region=ID + "region/" + region)
    assert expected <= {(r["projectLabel"], r["roleLabel"]) for r in rows}
