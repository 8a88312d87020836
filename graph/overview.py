"""The SPARQL behind the overview pages: counts per kind, places with coordinates, the transfer network."""

from __future__ import annotations

from graph.resources import KINDS, PREFIXES

GEO = "http://www.w3.org/2003/01/geo/wgs84_pos#"

_CLASSES = " ".join(f"<{kind.cls}>" for kind in KINDS.values())
COUNTS = PREFIXES + f"""SELECT ?class (COUNT(DISTINCT ?item) AS ?count) ?prefix WHERE {{
  VALUES ?class {{ {_CLASSES} }}
  ?item a ?class FILTER(STRSTARTS(STR(?item), ?prefix))
}} GROUP BY ?class ?prefix"""

# Regions with W3C Basic Geo coordinates, labelled in ?lang else English.
PLACES = PREFIXES + f"""PREFIX geo: <{GEO}>
SELECT ?item (SAMPLE(COALESCE(?local, ?en, STR(?item))) AS ?label) (SAMPLE(?lat) AS ?latitude)
       (SAMPLE(?long) AS ?longitude) ?lang WHERE {{
  ?item a ecrn:Region ; geo:lat ?lat ; geo:long ?long .
  OPTIONAL {{ ?item rdfs:label ?en FILTER(LANGMATCHES(LANG(?en), "en")) }}
  OPTIONAL {{ ?item rdfs:label ?local FILTER(LANGMATCHES(LANG(?local), ?lang)) }}
}} GROUP BY ?item ?lang ORDER BY ?item"""

# A transfer links its source region (or the region of its practice) to its target region; a transfer with no
# known source links the project it came through to its target region.
TRANSFER_LINKS = PREFIXES + """SELECT ?source ?sourceLabel ?sourceKind ?target ?targetLabel ?transfer ?title ?lang
WHERE {
  ?transfer a ecrn:Transfer ; ecrn:targetRegion ?target .
  OPTIONAL { ?transfer ecrn:sourceRegion ?stated }
  OPTIONAL { ?transfer ecrn:practice/ecrn:region ?practiceRegion }
  OPTIONAL { ?transfer ecrn:project ?project }
  BIND(COALESCE(?stated, ?practiceRegion, ?project) AS ?source)
  FILTER(BOUND(?source))
  BIND(IF(BOUND(?stated) || BOUND(?practiceRegion), "region", "project") AS ?sourceKind)
  OPTIONAL { ?source rdfs:label ?sourceEn FILTER(LANGMATCHES(LANG(?sourceEn), "en")) }
  OPTIONAL { ?source rdfs:label ?sourceLocal FILTER(LANGMATCHES(LANG(?sourceLocal), ?lang)) }
  OPTIONAL { ?target rdfs:label ?targetEn FILTER(LANGMATCHES(LANG(?targetEn), "en")) }
  OPTIONAL { ?target rdfs:label ?targetLocal FILTER(LANGMATCHES(LANG(?targetLocal), ?lang)) }
  OPTIONAL { ?transfer rdfs:label ?titleEn FILTER(LANGMATCHES(LANG(?titleEn), "en")) }
  OPTIONAL { ?transfer rdfs:label ?titleLocal FILTER(LANGMATCHES(LANG(?titleLocal), ?lang)) }
  BIND(COALESCE(?sourceLocal, ?sourceEn, STR(?source)) AS ?sourceLabel)
  BIND(COALESCE(?targetLocal, ?targetEn, STR(?target)) AS ?targetLabel)
  BIND(COALESCE(?titleLocal, ?titleEn, STR(?transfer)) AS ?title)
} ORDER BY ?transfer"""
