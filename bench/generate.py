"""Generate a synthetic, ECRN-shaped graph as N-Triples: deterministic, sized by a triple target.

    python bench/generate.py --triples 100000 --seed 1 --output var/bench/syn-100k.nt

The graph uses the real terms of ontology/ecrn.ttl and the real vocabularies (themes, partner roles, transfer
statuses, roles), and mints every instance under https://w3id.org/ecrn/id/{kind}/syn-… so no synthetic resource can
be taken for a real one; each carries dcterms:source <https://example.org/synthetic>. The same seed and target give
byte-identical output. The first part of the graph (regions, NUTS units, organisations, people, posts, programmes) is
sized from the target; then whole project batches (project, partnerships, pilot actions, events, practices,
transfers) are written until the target is reached, so the count ends within one batch (a few hundred triples) above
it.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

ID = "https://w3id.org/ecrn/id/"
DEF = "https://w3id.org/ecrn/def/"
SOURCE = "<https://example.org/synthetic>"
HOMEPAGE = "https://example.org/synthetic/"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
ORG = "http://www.w3.org/ns/org#"
FOAF = "http://xmlns.com/foaf/0.1/"
SCHEMA = "http://schema.org/"
DCAT = "http://www.w3.org/ns/dcat#"

COUNTRIES = ("DE", "FR", "IT", "ES", "PL", "NL", "BE", "CZ", "SE", "FI",
             "AT", "HU", "PT", "SK", "RO", "DK", "IE", "SI", "EL", "BG")
NUTS_VERSIONS = (("2006", "2008-01-01", "2011-12-31"), ("2010", "2012-01-01", "2014-12-31"),
                 ("2016", "2018-01-01", "2020-12-31"), ("2021", "2021-01-01", None))
ORG_CLASSES = (("RegionalAuthority", 12, "Regional Ministry of Economy"), ("LocalAuthority", 10, "Municipality"),
               ("DevelopmentAgency", 12, "Development Agency"), ("ClusterOrganisation", 15, "Chemical Cluster"),
               ("ResearchOrganisation", 18, "Institute of Chemistry"), ("Company", 28, "Chemicals GmbH"),
               ("Network", 4, "Network of Chemical Sites"), ("PublicAuthority", 1, "Federal Agency"))
THEMES = ("innovation-rtd", "chemical-parks", "open-innovation", "skills", "cluster-policy", "access-to-finance",
          "international-rd-cooperation", "circular-economy", "green-chemistry", "logistics", "benchmarking")
ROLES = ("president", "vice-president", "executive-board-member", "board-member", "director", "chair", "minister",
         "state-secretary", "contact-person", "speaker", "chief-executive", "deputy-director", "representative",
         "staff-member")
OTHER_ROLES = ("partner",) * 6 + ("co-coordinator", "associated-partner")
STATUSES = ("exchanged", "planned", "adopted", "implemented", "unknown")
SYLLABLES = ("ar", "vel", "mor", "tan", "lis", "kor", "den", "sal", "bri", "nov", "ost", "ran", "tel", "quo",
             "mar", "zen", "ul", "hal", "pra", "dor", "ves", "lun", "gar", "tor", "fen", "kel", "mir", "sto")
TOPICS = ("solvent recovery", "hydrogen from electrolysis", "biorefinery feedstock", "membrane separation",
          "catalysis scale-up", "digital twin of a plant", "waste heat recovery", "plastics recycling",
          "CO2 capture and use", "process safety training", "shared pilot plant", "SME innovation vouchers",
          "logistics by rail", "green solvents", "bio-based polymers", "vocational skills foresight")
TOPIC_WEIGHTS = (3, 2, 2, 4, 6, 3, 6, 8, 5, 6, 7, 8, 6, 5, 7, 6)
ACTIONS = ("pools the R&D of its partners", "trains staff of small firms", "opens a shared laboratory",
           "funds feasibility studies", "maps the value chain", "brings schools and plants together",
           "networks the chemical parks of the region", "benchmarks the cluster against its peers")
CODE_CHARS = "123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PLACES = ("Congress centre", "Chemical park", "University campus", "Regional parliament", "Town hall", "Technopole")


def iri(kind: str, slug: str) -> str:
    return f"<{ID}{kind}/{slug}>"


def term(namespace: str, local: str) -> str:
    return f"<{namespace}{local}>"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


def text(value: str, lang: str | None = "en") -> str:
    return f'"{_escape(value)}"@{lang}' if lang else f'"{_escape(value)}"'


def typed(value: str, datatype: str) -> str:
    return f'"{value}"^^<{XSD}{datatype}>'


def day(value: date) -> str:
    return typed(value.isoformat(), "date")


A = term(RDF, "type")
LABEL = term(RDFS, "label")
SOURCE_P = term(DCT, "source")
DESCRIPTION = term(DCT, "description")
ALT_LABEL = term(SKOS, "altLabel")
START, END = term(SCHEMA, "startDate"), term(SCHEMA, "endDate")


class Writer:
    """Writes N-Triples lines and counts them; blank nodes get sequential labels."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.count = 0
        self.blank = 0

    def add(self, s: str, p: str, o: str) -> None:
        self.out.write(f"{s} {p} {o} .\n")
        self.count += 1

    def node(self, s: str, cls: str, label: str, *pairs: tuple[str, str]) -> None:
        """A resource with its type, English label, the given (predicate, object) pairs and its source."""
        self.add(s, A, cls)
        self.add(s, LABEL, text(label))
        for p, o in pairs:
            self.add(s, p, o)
        self.add(s, SOURCE_P, SOURCE)

    def amount(self, cents: int) -> str:
        """A schema:MonetaryAmount blank node in EUR; returns its label."""
        self.blank += 1
        b = f"_:syn{self.blank}"
        self.add(b, A, term(SCHEMA, "MonetaryAmount"))
        self.add(b, term(SCHEMA, "value"), typed(f"{cents // 100}.{cents % 100:02d}", "decimal"))
        self.add(b, term(SCHEMA, "currency"), text("EUR", None))
        return b


@dataclass
class Region:
    iri: str
    slug: str
    name: str
    country: str
    level: int
    parent: Region | None
    code: str
    units: dict[str, str] = field(default_factory=dict)
    children: int = 0


@dataclass
class Org:
    iri: str
    cls: str
    name: str
    region: Region | None


@dataclass
class World:
    regions: list[Region] = field(default_factory=list)
    orgs: list[Org] = field(default_factory=list)
    orgs_by_region: dict[str, list[Org]] = field(default_factory=dict)
    networks: list[Org] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    priorities: list[tuple[str, str]] = field(default_factory=list)
    funds: list[str] = field(default_factory=list)
    practices: list[tuple[str, Region]] = field(default_factory=list)


class Generator:
    """Writes one synthetic graph; every choice comes from one seeded random.Random."""

    def __init__(self, target: int, seed: int, out: TextIO) -> None:
        self.target = target
        self.rng = random.Random(seed)
        self.w = Writer(out)
        self.world = World()
        self.counts: dict[str, int] = {}

    def name(self) -> str:
        return "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 3))).capitalize()

    def date_between(self, first: int, last: int) -> date:
        start = date(first, 1, 1)
        return start + timedelta(days=self.rng.randrange((date(last, 12, 31) - start).days + 1))

    def tally(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n

    def run(self) -> int:
        self.nuts_versions()
        self.regions(max(3, min(len(COUNTRIES), self.target // 2000)), max(12, self.target // 600))
        self.organisations(max(30, self.target // 60))
        self.people(max(10, self.target // 120))
        self.region_memberships()
        self.programmes()
        batch = 0
        while self.w.count < self.target:
            batch += 1
            self.project_batch(batch)
        return self.w.count

    # ------------------------------------------------------------------ regions and NUTS
    def nuts_versions(self) -> None:
        for year, valid_from, valid_through in NUTS_VERSIONS:
            pairs = [(term(SCHEMA, "validFrom"), typed(valid_from, "date")),
                     (DESCRIPTION, text(f"Synthetic NUTS version {year} for benchmarks."))]
            if valid_through:
                pairs.append((term(SCHEMA, "validThrough"), typed(valid_through, "date")))
            self.w.node(iri("nuts-version", f"syn-{year}"), term(DEF, "NutsVersion"), f"Synthetic NUTS {year}", *pairs)
            self.tally("nuts-version")

    def regions(self, n_countries: int, n_regions: int) -> None:
        """Macro-regions (NUTS 1), regions (NUTS 2) within them and provinces (NUTS 3) within those."""
        macros = [self.region(COUNTRIES[i], 1, None) for i in range(n_countries) for _ in range(2)]
        seconds: list[Region] = []
        for i in range(max(0, n_regions - len(macros))):
            if i % 5 < 2 or not seconds:
                seconds.append(self.region("", 2, self.parent(macros)))
            else:
                self.region("", 3, self.parent(seconds))

    def parent(self, candidates: list[Region]) -> Region:
        """A random parent that can still take a child code (35 one-character codes per parent)."""
        for _ in range(100):
            parent = self.rng.choice(candidates)
            if parent.children < len(CODE_CHARS):
                return parent
        raise SystemExit("too many regions for the NUTS code space; lower --triples")

    def region(self, country: str, level: int, parent: Region | None) -> Region:
        name = self.name()
        number = len(self.world.regions) + 1
        slug = f"syn-{name.lower()}-{number}"
        country = parent.country if parent else country
        siblings = [r for r in self.world.regions if r.level == 1 and r.country == country] if parent is None else []
        code = parent.code + CODE_CHARS[parent.children] if parent else country + "XY"[len(siblings)]
        region = Region(iri("region", slug), slug, name, country, level, parent, code)
        if parent:
            parent.children += 1
        self.world.regions.append(region)
        kinds = ("", "macro-region", "region", "province")
        pairs = [(ALT_LABEL, text(f"Région {name}", "fr")), (term(DEF, "countryCode"), text(country, None)),
                 (DESCRIPTION, text(f"Synthetic {kinds[level]} of {country} for benchmarks."))]
        if level >= 2:
            pairs.append((term(DEF, "subdivisionCode"), text(f"{country}-S{number}", None)))
        if parent is not None:
            pairs.append((term(DEF, "withinRegion"), parent.iri))
        for year, _, _ in NUTS_VERSIONS:
            if parent is None or (year in parent.units and self.rng.random() < 0.85):
                pairs.append((term(DEF, "nutsUnit"), self.nuts_unit(region, year)))
        self.w.node(region.iri, term(DEF, "Region"), f"{name} (synthetic region)", *pairs)
        self.tally("region")
        return region

    def nuts_unit(self, region: Region, year: str) -> str:
        """A NUTS unit with a well-formed synthetic code (country, then X or Y, then one character per level)."""
        code = region.code
        unit = iri("nuts-unit", f"syn-{code.lower()}-{year}")
        region.units[year] = unit
        pairs = [(term(SKOS, "notation"), text(code, None)), (term(SKOS, "prefLabel"), text(region.name, "de")),
                 (term(DEF, "nutsLevel"), typed(str(region.level), "integer")),
                 (term(SKOS, "inScheme"), iri("nuts-version", f"syn-{year}")),
                 (term(SKOS, "closeMatch"), f"<{HOMEPAGE}nuts-code/{code}>")]
        if region.parent is not None:
            pairs.append((term(SKOS, "broader"), region.parent.units[year]))
        self.w.node(unit, term(DEF, "NutsUnit"), f"{code} {region.name} (synthetic NUTS {year})", *pairs)
        self.tally("nuts-unit")
        return unit

    # ------------------------------------------------------------------ actors
    def organisations(self, n: int) -> None:
        classes = [c for c, _, _ in ORG_CLASSES]
        weights = [w for _, w, _ in ORG_CLASSES]
        placeable = self.world.regions
        for i in range(n):
            cls = self.rng.choices(classes, weights)[0]
            region = None if cls in ("Network", "PublicAuthority") and self.rng.random() < 0.5 else \
                self.rng.choice(placeable)
            self.organisation(i + 1, cls, region)

    def organisation(self, number: int, cls: str, region: Region | None) -> None:
        name = self.name()
        suffix = dict((c, s) for c, _, s in ORG_CLASSES)[cls]
        slug = f"syn-{name.lower()}-{number}"
        org = Org(iri("organisation", slug), cls, f"{name} {suffix}", region)
        pairs = [(DESCRIPTION, text(f"Synthetic {cls} {name}, {self.rng.choice(ACTIONS)}."))]
        if region is not None:
            pairs.append((term(DEF, "region"), region.iri))
            self.world.orgs_by_region.setdefault(region.iri, []).append(org)
        if self.rng.random() < 0.5:
            pairs.append((ALT_LABEL, text(f"{name} {suffix} (alt)", "de")))
        if self.rng.random() < 0.6:
            pairs.append((term(DEF, "acronym"), text(name[:3].upper() + str(number), None)))
        if self.rng.random() < 0.4:
            pairs.append((term(FOAF, "homepage"), f"<{HOMEPAGE}organisation/{slug}>"))
        if self.rng.random() < 0.3:
            pairs.append((term(SCHEMA, "foundingDate"), day(self.date_between(1950, 2015))))
        siblings = self.world.orgs_by_region.get(region.iri, []) if region else []
        if len(siblings) > 1 and self.rng.random() < 0.1:
            pairs.append((term(ORG, "subOrganizationOf"), siblings[0].iri))
        self.w.node(org.iri, term(DEF, cls), org.name, *pairs)
        self.world.orgs.append(org)
        if cls == "Network":
            self.world.networks.append(org)
        self.tally(f"organisation:{cls}")

    def people(self, n: int) -> None:
        for i in range(n):
            first, last = self.name(), self.name()
            person = iri("person", f"syn-{first.lower()}-{last.lower()}-{i + 1}")
            pairs = [(term(FOAF, "name"), text(f"{first} {last}", None))]
            if self.rng.random() < 0.5:
                pairs.append((DESCRIPTION, text(f"Synthetic person {first} {last}.")))
            self.w.node(person, term(FOAF, "Person"), f"{first} {last}", *pairs)
            self.world.people.append(person)
            self.tally("person")
            for k in range(self.rng.choice((1, 1, 2))):
                self.post(person, f"{first} {last}", f"syn-{first.lower()}-{last.lower()}-{i + 1}-{k + 1}")

    def post(self, person: str, name: str, slug: str) -> None:
        org = self.rng.choice(self.world.orgs)
        role = self.rng.choice(ROLES)
        start = self.date_between(1995, 2022)
        pairs = [(term(ORG, "member"), person), (term(ORG, "organization"), org.iri),
                 (term(ORG, "role"), term(f"{DEF}roles/", role))]
        if self.rng.random() < 0.7:
            pairs.append((START, day(start)))
        if self.rng.random() < 0.3:
            pairs.append((END, day(start + timedelta(days=self.rng.randint(200, 3000)))))
        self.w.node(iri("membership", slug), term(ORG, "Membership"), f"{name}, {role} of {org.name}", *pairs)
        self.tally("membership")

    def region_memberships(self) -> None:
        if not self.world.networks:
            return
        for region in self.world.regions:
            if region.level == 0 or self.rng.random() < 0.4:
                continue
            network = self.rng.choice(self.world.networks)
            pairs = [(term(DEF, "memberRegion"), region.iri), (term(DEF, "network"), network.iri),
                     (term(DEF, "attestedOn"), day(self.date_between(2004, 2024)))]
            local = self.world.orgs_by_region.get(region.iri)
            if local and self.rng.random() < 0.5:
                pairs.append((term(DEF, "representedBy"), local[0].iri))
            slug = f"{region.slug}-in-{network.iri.rsplit('/', 1)[1][:-1]}"
            self.w.node(iri("region-membership", slug), term(DEF, "RegionMembership"),
                        f"{region.name} in {network.name}", *pairs)
            self.tally("region-membership")

    # ------------------------------------------------------------------ programmes
    def programmes(self) -> None:
        for f in ("erdf", "esf", "horizon"):
            fund = iri("fund", f"syn-{f}")
            self.w.node(fund, term(DEF, "Fund"), f"Synthetic fund {f.upper()}")
            self.world.funds.append(fund)
        for p in range(1, 7):
            programme = iri("programme", f"syn-programme-{p}")
            start = 2000 + 3 * p
            self.w.node(programme, term(DEF, "Programme"), f"Synthetic programme {p}",
                        (term(DCT, "type"), term(f"{DEF}policy-types/", "cooperation-programme")),
                        (term(DEF, "acronym"), text(f"SYN-P{p}", None)),
                        (term(DEF, "fund"), self.world.funds[p % 3]),
                        (START, typed(f"{start}-01-01", "date")), (END, typed(f"{start + 6}-12-31", "date")))
            for n in range(1, 5):
                priority = iri("priority", f"syn-programme-{p}-{n}")
                self.w.node(priority, term(DEF, "ProgrammePriority"), f"Synthetic programme {p}, priority {n}",
                            (term(DEF, "ofProgramme"), programme),
                            (term(DEF, "priorityNumber"), typed(str(n), "integer")))
                self.world.priorities.append((programme, priority))
        self.tally("programme", 6)

    # ------------------------------------------------------------------ projects and what hangs off them
    def project_batch(self, number: int) -> None:
        project, start, partners = self.project(number)
        pilots = [self.pilot_action(project, number, k, partners) for k in range(1, self.rng.randint(1, 3) + 1)]
        for k in range(1, self.rng.randint(1, 4) + 1):
            self.event(project, number, k, start, partners, pilots)
        practices = [self.practice(number, k, partners, pilots) for k in range(1, self.rng.randint(2, 4) + 1)]
        self.world.practices.extend(practices)
        for k in range(1, self.rng.randint(1, 3) + 1):
            self.transfer(project, number, k, start, partners, pilots, practices)

    def themes(self) -> list[tuple[str, str]]:
        """One or two dcat:theme pairs from the ECRN themes."""
        chosen = self.rng.sample(THEMES, self.rng.randint(1, 2))
        return [(term(DCAT, "theme"), term(f"{DEF}themes/", t)) for t in chosen]

    def partner_orgs(self) -> list[Org]:
        regions = [r for r in self.world.regions if self.world.orgs_by_region.get(r.iri)]
        chosen = self.rng.sample(regions, min(len(regions), self.rng.randint(4, 10)))
        return [self.rng.choice(self.world.orgs_by_region[r.iri]) for r in chosen]

    def project(self, number: int) -> tuple[str, date, list[Org]]:
        name = self.name()
        project = iri("project", f"syn-{name.lower()}-{number}")
        programme, priority = self.rng.choice(self.world.priorities)
        start = self.date_between(2000, 2023)
        total = self.rng.randint(30_000_000, 800_000_000)
        topic = self.rng.choices(TOPICS, TOPIC_WEIGHTS)[0]
        pairs = [(term(DCT, "title"), text(f"Synthetic project {name} on {topic}")),
                 (term(DEF, "acronym"), text(name.upper(), None)),
                 (DESCRIPTION, text(f"Synthetic cooperation project {name}: partners work on {topic} and "
                                    f"{self.rng.choice(ACTIONS)}.")),
                 (term(DEF, "programme"), programme), (term(DEF, "priority"), priority),
                 (term(DEF, "fund"), self.rng.choice(self.world.funds)),
                 (START, day(start)), (END, day(start + timedelta(days=self.rng.randint(365, 1460)))),
                 (term(DEF, "totalBudget"), self.w.amount(total)),
                 (term(DEF, "euContribution"), self.w.amount(total * self.rng.randint(50, 85) // 100))]
        pairs += self.themes()
        if self.rng.random() < 0.5:
            pairs.append((term(FOAF, "homepage"), f"<{HOMEPAGE}project/{name.lower()}-{number}>"))
        self.w.node(project, term(DEF, "Project"), name, *pairs)
        self.tally("project")
        partners = self.partner_orgs()
        for k, org in enumerate(partners):
            self.partnership(project, name, number, k, org)
        return project, start, partners

    def partnership(self, project: str, name: str, number: int, k: int, org: Org) -> None:
        assert org.region is not None
        role = "lead-partner" if k == 0 else self.rng.choice(OTHER_ROLES)
        pairs = [(term(DEF, "project"), project), (term(DEF, "partnerOrganisation"), org.iri),
                 (term(DEF, "partnerRegion"), org.region.iri),
                 (term(DEF, "partnerRole"), term(f"{DEF}partner-roles/", role))]
        if self.rng.random() < 0.7:
            pairs.append((term(DEF, "totalBudget"), self.w.amount(self.rng.randint(5_000_000, 150_000_000))))
        if self.rng.random() < 0.3:
            pairs.append((term(DEF, "participant"), self.rng.choice(self.world.people)))
        slug = f"syn-{name.lower()}-{number}-{org.region.slug[4:]}-{k + 1}"
        self.w.node(iri("partnership", slug), term(DEF, "Partnership"),
                    f"{name} partnership: {org.region.name} ({role})", *pairs)
        self.tally("partnership")

    def pilot_action(self, project: str, number: int, k: int, partners: list[Org]) -> str:
        pilot = iri("pilot-action", f"syn-{number}-{k}")
        topic = self.rng.choices(TOPICS, TOPIC_WEIGHTS)[0]
        active = self.rng.sample(partners, min(len(partners), self.rng.randint(1, 2)))
        pairs = [(DESCRIPTION, text(f"Synthetic pilot action in which partners try out {topic}.")),
                 (term(DEF, "project"), project), (term(DCAT, "theme"), term(f"{DEF}themes/", self.rng.choice(THEMES)))]
        pairs += [(term(DEF, "activeRegion"), o.region.iri) for o in active if o.region]
        pairs += [(term(DEF, "participant"), o.iri) for o in active]
        self.w.node(pilot, term(DEF, "PilotAction"), f"Synthetic pilot action {number}.{k}: {topic}", *pairs)
        self.tally("pilot-action")
        return pilot

    def event(self, project: str, number: int, k: int, start: date, partners: list[Org], pilots: list[str]) -> None:
        host = self.rng.choice(partners)
        when = start + timedelta(days=self.rng.randint(0, 1400))
        pairs = [(START, day(when)), (term(SCHEMA, "location"), text(f"{self.rng.choice(PLACES)} of {host.name}")),
                 (term(DEF, "project"), project), (term(DEF, "organiser"), host.iri),
                 (term(DEF, "participant"), self.rng.choice(partners).iri)]
        if host.region:
            pairs.append((term(DEF, "region"), host.region.iri))
        if self.rng.random() < 0.6:
            pairs.append((DESCRIPTION, text(f"Synthetic workshop on {self.rng.choices(TOPICS, TOPIC_WEIGHTS)[0]}.")))
        if self.rng.random() < 0.3:
            pairs.append((END, day(when + timedelta(days=1))))
        if self.rng.random() < 0.4:
            pairs.append((term(DEF, "pilotAction"), self.rng.choice(pilots)))
        self.w.node(iri("event", f"syn-{number}-{k}"), term(DEF, "Event"), f"Synthetic event {number}.{k}", *pairs)
        self.tally("event")

    def practice(self, number: int, k: int, partners: list[Org], pilots: list[str]) -> tuple[str, Region]:
        owners = self.rng.sample(partners, min(len(partners), self.rng.choice((1, 1, 2))))
        region = owners[0].region
        assert region is not None
        topic = self.rng.choices(TOPICS, TOPIC_WEIGHTS)[0]
        practice = iri("practice", f"syn-{number}-{k}")
        pairs = [(DESCRIPTION, text(f"Synthetic good practice of {region.name}: {owners[0].name} "
                                    f"{self.rng.choice(ACTIONS)}, with a focus on {topic}.")),
                 (term(DEF, "region"), region.iri), (START, day(self.date_between(1998, 2024)))]
        pairs += [(term(DEF, "owner"), o.iri) for o in owners]
        pairs += self.themes()
        if self.rng.random() < 0.4:
            pairs.append((ALT_LABEL, text(f"GP {number}.{k} {topic}")))
        if self.rng.random() < 0.5:
            pairs.append((term(DCT, "relation"), self.rng.choice(pilots)))
        if self.rng.random() < 0.3:
            pairs.append((term(DEF, "priority"), self.rng.choice(self.world.priorities)[1]))
        label = f"{topic.capitalize()} in {region.name} (synthetic practice {number}.{k})"
        self.w.node(practice, term(DEF, "GoodPractice"), label, *pairs)
        self.tally("practice")
        return practice, region

    def transfer(self, project: str, number: int, k: int, start: date, partners: list[Org], pilots: list[str],
                 practices: list[tuple[str, Region]]) -> None:
        pool = practices if self.rng.random() < 0.7 or len(self.world.practices) < 10 else self.world.practices
        practice, source = self.rng.choice(pool)
        targets = [o for o in partners if o.region is not None and o.region.iri != source.iri]
        if not targets:
            return
        target = self.rng.choice(targets)
        assert target.region is not None
        status = self.rng.choice(STATUSES)
        pairs = [(term(DEF, "practice"), practice), (term(DEF, "sourceRegion"), source.iri),
                 (term(DEF, "targetRegion"), target.region.iri), (term(DEF, "vehicle"), self.rng.choice(pilots)),
                 (term(DEF, "transferStatus"), term(f"{DEF}transfer-statuses/", status)),
                 (term(DEF, "project"), project), (START, day(start + timedelta(days=self.rng.randint(90, 1000))))]
        if self.rng.random() < 0.7:
            pairs.append((term(DEF, "targetOrganisation"), target.iri))
        if self.rng.random() < 0.5:
            pairs.append((DESCRIPTION, text(f"Synthetic transfer from {source.name} to {target.region.name}.")))
        self.w.node(iri("transfer", f"syn-{number}-{k}"), term(DEF, "Transfer"),
                    f"Synthetic transfer {number}.{k} ({status})", *pairs)
        self.tally("transfer")


def parse_size(value: str) -> int:
    """100000, 100k, 1M, 1.5m → an integer."""
    scale = {"k": 1_000, "m": 1_000_000}.get(value[-1:].lower(), 1)
    number = float(value[:-1] if scale > 1 else value) * scale
    if number < 2000:
        raise argparse.ArgumentTypeError("the target must be at least 2000 triples")
    return int(number)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=parse_size, required=True, help="target number of triples (100000, 1M)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--output", type=Path, required=True, help="N-Triples file to write (.nt)")
    return parser.parse_args(argv)


def refuse_data_dir(path: Path) -> None:
    data = (Path(__file__).resolve().parent.parent / "data").resolve()
    if data == path.resolve().parent or data in path.resolve().parents:
        raise SystemExit(f"refusing to write generated data into {data}: use var/bench/ or /tmp")


def generate(target: int, seed: int, output: Path) -> tuple[int, dict[str, int]]:
    """Write the graph to `output` (via a temporary file, then renamed); return the triple count and the tallies."""
    refuse_data_dir(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with partial.open("w", encoding="utf-8", newline="\n", buffering=1 << 20) as out:
        generator = Generator(target, seed, out)
        count = generator.run()
    partial.replace(output)
    return count, generator.counts


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    count, tallies = generate(args.triples, args.seed, args.output)
    off = 100 * (count - args.triples) / args.triples
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(tallies.items()))
    print(f"wrote {count} triples ({off:+.2f} % of {args.triples}) to {args.output}\n  {kinds}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
