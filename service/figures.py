"""Pictures drawn as SVG without tiles or scripts: a map of points from coordinates, a network on a circle."""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT, MARGIN = 800, 600, 60


@dataclass(frozen=True)
class Point:
    iri: str
    label: str
    x: float
    y: float
    shape: str = "circle"


@dataclass(frozen=True)
class Edge:
    source: Point
    target: Point
    titles: tuple[str, ...]

    @property
    def path(self) -> str:
        """A curve bending to the right of the line from source to target, so that opposite edges stay apart."""
        (x1, y1), (x2, y2) = (self.source.x, self.source.y), (self.target.x, self.target.y)
        bend = 0.15
        cx, cy = (x1 + x2) / 2 + bend * (y2 - y1), (y1 + y2) / 2 - bend * (x2 - x1)
        return f"M{x1:.1f},{y1:.1f} Q{cx:.1f},{cy:.1f} {x2:.1f},{y2:.1f}"


def project(places: list[tuple[str, str, float, float]]) -> list[Point]:
    """(iri, label, latitude, longitude) onto the picture: equirectangular, scaled at the mean latitude, fitted."""
    if not places:
        return []
    mean = math.radians(sum(p[2] for p in places) / len(places))
    xs = [p[3] * math.cos(mean) for p in places]
    ys = [-p[2] for p in places]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    scale = min(WIDTH, HEIGHT) - 2 * MARGIN
    return [Point(iri, label, MARGIN + (x - min(xs)) / span * scale, MARGIN + (y - min(ys)) / span * scale)
            for (iri, label, _, _), x, y in zip(places, xs, ys, strict=True)]


def network(links: list[tuple[str, str, str, str, str]], kinds: dict[str, str]) -> tuple[list[Point], list[Edge]]:
    """Links (source, source label, target, target label, title) as nodes on a circle, in order of label, and one
    edge per source and target pair carrying the titles of its links; `kinds` gives a node's shape."""
    labels = {iri: label for s, sl, t, tl, _ in links for iri, label in ((s, sl), (t, tl))}
    order = sorted(labels, key=lambda iri: (labels[iri].lower(), iri))
    radius = min(WIDTH, HEIGHT) / 2 - MARGIN * 1.5
    points = {iri: Point(iri, labels[iri], WIDTH / 2 + radius * math.cos(2 * math.pi * i / len(order) - math.pi / 2),
                         HEIGHT / 2 + radius * math.sin(2 * math.pi * i / len(order) - math.pi / 2),
                         kinds.get(iri, "circle"))
              for i, iri in enumerate(order)}
    grouped: dict[tuple[str, str], list[str]] = {}
    for source, _, target, _, title in links:
        grouped.setdefault((source, target), []).append(title)
    edges = [Edge(points[s], points[t], tuple(sorted(set(titles)))) for (s, t), titles in grouped.items()]
    return list(points.values()), edges
